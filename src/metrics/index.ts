export { createRegistry } from './registry';
export { rpcMetrics } from './rpc';
export { startMetricsServer, parseHostPort } from './server';
export type { MetricsServer } from './server';
