// The agent's public surface: start it in standalone mode, and the CRI client it is built on.
export { startAgent } from './agent';
export type { Agent, AgentOptions } from './agent';
export { CriClient, grpcTarget, hasGrpcCode } from './cri_client';
export type { CriRuntime, CriClientOptions } from './cri_client';
export type { PodStatusView, ContainerStatusView } from './pod_status';
export { parseManifest } from './manifest';
export type { DesiredPod } from './manifest';
export { DEFAULT_VOLUME_SYNC_MS, startConnectedAgent } from './connected';
export type { ConnectedOptions } from './connected';
