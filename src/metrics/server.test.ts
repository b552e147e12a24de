import client from 'prom-client';
import { isLoopbackHost, parseHostPort, startMetricsServer, MetricsServer } from './server';

async function get(address: string, path: string, method = 'GET') {
  const res = await fetch(`http://${address}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

describe('the metrics HTTP server', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(healthy = true, collectors = [() => 'container_x{id="a"} 1\n']) {
    const registry = new client.Registry();
    new client.Counter({ name: 'nodelet_test_total', help: 'A test counter.', registers: [registry] }).inc();
    server = await startMetricsServer('127.0.0.1:0', registry, () => healthy, { collectors });
    return server;
  }

  test('serves the registry and the collectors on /metrics in the Prometheus text format', async () => {
    const { address } = await start();
    expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server?.loopbackOnly).toBe(true);
    const res = await get(address, '/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain');
    expect(res.body).toContain('nodelet_test_total 1\n');
    expect(res.body).toContain('container_x{id="a"} 1\n');
  });

  test('answers 500 with the reason when a collector fails', async () => {
    const { address } = await start(true, [
      () => {
        throw new Error('stats cache is gone');
      },
    ]);
    const res = await get(address, '/metrics');
    expect(res.status).toBe(500);
    expect(res.body).toBe('Cannot collect metrics: stats cache is gone\n');
  });

  test('/healthz says ok when healthy and 503 when not', async () => {
    expect((await get((await start(true)).address, '/healthz')).body).toBe('ok\n');
    await server?.close();
    expect((await get((await start(false)).address, '/healthz')).status).toBe(503);
  });

  test('unknown paths are 404 and other methods 405', async () => {
    const { address } = await start();
    expect((await get(address, '/nope')).status).toBe(404);
    expect((await get(address, '/metrics', 'POST')).status).toBe(405);
  });

  test('parseHostPort reads host:port, bracketed IPv6, and defaults an empty host to loopback', () => {
    expect(parseHostPort('127.0.0.1:10375')).toEqual({ host: '127.0.0.1', port: 10375 });
    expect(parseHostPort('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect(parseHostPort(':10375')).toEqual({ host: '127.0.0.1', port: 10375 });
    expect(() => parseHostPort('nope')).toThrow("Cannot parse metrics address 'nope'");
    expect(() => parseHostPort('a:70000')).toThrow('port out of range');
  });

  test('isLoopbackHost tells loopback addresses from those other machines reach', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'node-a']) expect(isLoopbackHost(host)).toBe(false);
  });
});
