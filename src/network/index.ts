// Pod networking through CNI: the public surface other parts use.
export { PodNetworkManager } from './manager';
export type { PodNetworkOptions, PodNetworkStatus } from './manager';
export type { PodNetworkRequest, PortMapping } from './pod_request';
export type { CniInterface, CniIp, CniResult } from './result';
export { INGRESS_ANNOTATION, EGRESS_ANNOTATION } from './bandwidth';
export { DEFAULT_BRIDGE, DEFAULT_CONFLIST_FILE, DEFAULT_NETWORK_NAME, CNI_VERSION } from './default_conflist';
export { NETWORK_NOT_READY } from './condition';
