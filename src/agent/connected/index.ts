// Connected mode's public surface. Importing it does not load @kubernetes/client-node: that happens
// only when startConnectedAgent runs without a KubeApi of its own.
export { startConnectedAgent } from './connected';
export { DEFAULT_VOLUME_SYNC_MS } from './api_source';
export type { ConnectedAgent, ConnectedOptions } from './connected';
export type { KubeApi, KubeObject } from './kube_api';
