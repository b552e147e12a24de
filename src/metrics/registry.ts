// nodelet's Prometheus registry: one per process, with Node's process metrics under nodelet_.
import client from 'prom-client';

export function createRegistry(): client.Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'nodelet_' });
  return registry;
}
