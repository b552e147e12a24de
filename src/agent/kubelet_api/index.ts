// The kubelet API (port 10250): the `nodelet agent` command starts it with serveKubeletApi().
export { serveKubeletApi, podList } from './setup';
export type { KubeletApiConfig, KubeletApiDeps, AuthorizationMode } from './setup';
export type { AgentSettings } from './configz';
export { startKubeletApi } from './server';
export type { KubeletApi, KubeletApiOptions } from './server';
export { GrpcKubeletApiCri } from './cri';
export type { KubeletApiCri } from './cri';
export type { UserInfo, Authorizer, TokenReviewer } from './auth';
export { KUBELET_API_FLAGS, KUBELET_API_HELP, kubeletApiConfig, KubeletApiFlagError } from './flags';
