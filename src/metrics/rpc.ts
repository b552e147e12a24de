// Per-RPC latency and counts by method and gRPC code, and the requests in flight.
import client from 'prom-client';
import type { RpcObserver } from '../cri/rpc';

export function rpcMetrics(registry: client.Registry): RpcObserver {
  const duration = new client.Histogram({
    name: 'nodelet_cri_request_duration_seconds',
    help: 'Latency of CRI requests served by nodelet, by method and gRPC code.',
    labelNames: ['method', 'code'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const inFlight = new client.Gauge({
    name: 'nodelet_cri_requests_in_flight',
    help: 'CRI requests being served now, by method.',
    labelNames: ['method'],
    registers: [registry],
  });
  return {
    started: (method) => inFlight.inc({ method }),
    finished: (method, code, seconds) => {
      inFlight.dec({ method });
      duration.observe({ method, code }, seconds);
    },
  };
}
