// The HTTP endpoint Prometheus scrapes: /metrics, plus /healthz for liveness checks.
import http from 'node:http';
import type client from 'prom-client';
import { invalidArgument, messageOf } from '../common/errors';
import type { TextCollector } from './cadvisor';

export interface MetricsServer {
  /** The address actually bound, e.g. "127.0.0.1:10375". */
  address: string;
  /** False when other machines can reach it: the daemon should say so in its log. */
  loopbackOnly: boolean;
  close(): Promise<void>;
}

/** 127.0.0.0/8, ::1 and localhost; an unspecified address (0.0.0.0, ::) is everything but. */
export function isLoopbackHost(host: string): boolean {
  return (
    host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1'
  );
}

export function parseHostPort(address: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]*):(\d+)$/.exec(address);
  if (!m) throw invalidArgument(`Cannot parse metrics address '${address}': expected host:port`);
  const port = Number(m[2]);
  if (port > 65535) throw invalidArgument(`Cannot use metrics address '${address}': port out of range`);
  return { host: m[1].replace(/^\[|\]$/g, '') || '127.0.0.1', port };
}

export interface MetricsServerOptions {
  /** Text appended to the registry's output at each scrape (the cAdvisor container metrics). */
  collectors?: TextCollector[];
}

/** The whole exposition: the registry's metrics, then each collector's, each ending in a newline. */
export async function collectMetrics(
  registry: client.Registry,
  collectors: TextCollector[] = [],
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const part of [await registry.metrics(), ...collectors.map((collect) => collect())]) {
    if (part.length === 0) continue;
    const bytes = typeof part === 'string' ? Buffer.from(part) : part;
    parts.push(bytes);
    if (bytes[bytes.length - 1] !== 0x0a) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

export async function startMetricsServer(
  address: string,
  registry: client.Registry,
  healthy: () => boolean,
  options: MetricsServerOptions = {},
): Promise<MetricsServer> {
  const { host, port } = parseHostPort(address);
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    // HEAD answers the same headers with no body; Node drops the body of a HEAD response itself.
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    } else if (url === '/metrics') {
      collectMetrics(registry, options.collectors).then(
        (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
        (err: unknown) =>
          res
            .writeHead(500, { 'Content-Type': 'text/plain' })
            .end(`Cannot collect metrics: ${messageOf(err)}\n`),
      );
    } else if (url === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok\n' : 'unhealthy\n');
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found: try /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as import('node:net').AddressInfo;
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    address: `${shown}:${bound.port}`,
    loopbackOnly: isLoopbackHost(bound.address),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
