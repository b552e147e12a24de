import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import pino from 'pino';
import client from 'prom-client';
import { ProbeMetrics, type ProbeSeries } from '../metrics';
import type { Authorizer, RequestAttributes, UserInfo } from './auth';
import { container, FakeApiCri, sandbox } from './fake_api_cri.testutil';
import { startKubeletApi, type KubeletApi } from './server';
import { loadServingCert } from './serving_cert';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-kapi-unit-'));
const cert = loadServingCert({ certDir: dir, nodeName: 'n1', addresses: ['127.0.0.1'] });
const asked: { user: UserInfo; attrs: RequestAttributes }[] = [];
let api: KubeletApi;
let cri: FakeApiCri;
let upstream: net.Server;
let forwarded = '';

// Anonymous requests may read stats only; "carol" (by token) may read nodes/configz only; "alice"
// (by token) may do anything.
const authorizer: Authorizer = {
  async authorize(user, attrs) {
    asked.push({ user, attrs });
    if (user.name === 'carol') return { allowed: attrs.subresource === 'configz' };
    return user.name === 'alice' || attrs.subresource === 'stats'
      ? { allowed: true }
      : { allowed: false, reason: 'not for you' };
  },
};
const probes = new ProbeMetrics();
const USERS: Record<string, UserInfo> = {
  good: { name: 'alice', groups: ['devs'] },
  reader: { name: 'carol', groups: [] },
};

function request(
  pathname: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(
        { host: '127.0.0.1', port: api.port, path: pathname, headers, rejectUnauthorized: false },
        (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      )
      .on('error', reject);
  });
}

beforeAll(async () => {
  // A stand-in for the runtime's streaming server: answers 101, then echoes in upper case.
  upstream = net.createServer((s) => {
    s.on('error', () => undefined); // the proxy resets it when the client goes
    s.once('data', (d) => {
      forwarded = d.toString();
      s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nConnection: Upgrade\r\n\r\n');
      s.on('data', (more) => s.write(more.toString().toUpperCase()));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  cri = new FakeApiCri();
  cri.streamUrl = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}/exec/tok123`;
  const pod = sandbox('s1', 'web', 'uid-1');
  cri.sandboxes = [pod];
  cri.containers = [container('c1', 's1', pod, 'app')];
  const registry = new client.Registry();
  new client.Counter({ name: 'agent_test_total', help: 'a test counter', registers: [registry] }).inc();
  api = await startKubeletApi({
    address: '127.0.0.1',
    port: 0,
    nodeName: 'n1',
    cri,
    pods: () => [{ metadata: { name: 'web' } }],
    registry,
    probeRegistry: probes.registry,
    configz: { kubeletconfig: { kind: 'KubeletConfiguration', staticPodPath: '/etc/manifests' } },
    tls: cert,
    authentication: {
      anonymous: true,
      tokenReviewer: {
        reviewToken: async (t) => USERS[t],
      },
    },
    authorizer,
    log: pino({ level: 'silent' }),
    readers: { cpuUsageNs: () => 1, meminfo: () => 'MemTotal: 10 kB\n', vmstat: () => '' },
  });
});

afterAll(async () => {
  await api?.close();
  await new Promise((r) => upstream.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an anonymous request is authorized as system:anonymous on the path subresource', async () => {
  expect((await request('/stats/summary')).status).toBe(200);
  expect(asked.at(-1)).toMatchObject({
    user: { name: 'system:anonymous' },
    attrs: { verb: 'get', resource: 'nodes', subresource: 'stats', name: 'n1' },
  });
  const denied = await request('/containerLogs/default/web/app');
  expect(denied.status).toBe(403);
  expect(JSON.parse(denied.body)).toMatchObject({
    kind: 'Status',
    code: 403,
    message: 'Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource=proxy): not for you',
  });
});

test('/configz is let in on nodes/configz alone, and names both subresources tried when refused', async () => {
  const reader = { Authorization: 'Bearer reader' };
  expect((await request('/configz', reader)).status).toBe(200);
  expect((await request('/pods', reader)).status).toBe(403);
  const denied = await request('/configz');
  expect(JSON.parse(denied.body).message).toBe(
    'Forbidden (user=system:anonymous, verb=get, resource=nodes, subresource(s)=[configz proxy]): not for you',
  );
});

test('a bearer token is reviewed; a refused token is 401 even though anonymous is allowed', async () => {
  const ok = await request('/pods', { Authorization: 'Bearer good' });
  expect(JSON.parse(ok.body)).toEqual({
    kind: 'PodList',
    apiVersion: 'v1',
    metadata: {},
    items: [{ metadata: { name: 'web' } }],
  });
  expect(asked.at(-1)?.user.groups).toEqual(['devs', 'system:authenticated']);
  expect((await request('/pods', { Authorization: 'Bearer bad' })).status).toBe(401);
});

test('/configz answers the configuration as JSON under kubeletconfig', async () => {
  const reply = await request('/configz', { Authorization: 'Bearer good' });
  expect(JSON.parse(reply.body)).toEqual({
    kubeletconfig: { kind: 'KubeletConfiguration', staticPodPath: '/etc/manifests' },
  });
});

test('/metrics/probes serves the probe series alone, and /metrics does not have them', async () => {
  const auth = { Authorization: 'Bearer good' };
  const series: ProbeSeries = {
    probeType: 'Readiness',
    container: 'app',
    pod: 'web',
    namespace: 'default',
    podUid: 'uid-1',
  };
  probes.record(series, 'successful', 0.01);
  const text = (await request('/metrics/probes', auth)).body;
  expect(text).toContain(
    'prober_probe_total{probe_type="Readiness",result="successful",container="app",pod="web",namespace="default",pod_uid="uid-1"} 1',
  );
  expect(text).not.toContain('agent_test_total');
  expect((await request('/metrics', auth)).body).not.toContain('prober_probe_total');
});

test('/metrics serves the agent registry, /runningpods/ the runtime pods; unbuilt endpoints answer 501 and unknown ones 404', async () => {
  const auth = { Authorization: 'Bearer good' };
  expect((await request('/metrics', auth)).body).toContain('agent_test_total 1');
  expect((await request('/run/default/web/app', auth)).status).toBe(501);
  const running = JSON.parse((await request('/runningpods/', auth)).body);
  expect(running.items).toEqual([
    {
      metadata: { name: 'web', namespace: 'default', uid: 'uid-1', creationTimestamp: null },
      spec: { containers: [{ name: 'app', image: 'busybox', resources: {} }] },
      status: {},
    },
  ]);
  expect((await request('/nowhere', auth)).status).toBe(404);
  expect((await request('/exec/default/web/app?command=ls&output=1', auth)).status).toBe(400);
});

test('an exec upgrade is forwarded to the runtime URL with the client headers and its bytes piped both ways', async () => {
  const socket = tls.connect({ host: '127.0.0.1', port: api.port, rejectUnauthorized: false });
  await new Promise((r) => socket.once('secureConnect', r));
  socket.write(
    'POST /exec/default/web/app?command=sh&command=-c&command=echo%20hi&input=1&output=1&tty=1 HTTP/1.1\r\n' +
      'Host: kubelet\r\nAuthorization: Bearer good\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
      'X-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: v3.channel.k8s.io\r\n\r\n',
  );
  let got = '';
  socket.on('data', (d) => {
    got += d;
    if (got.includes('101 Switching')) socket.write('ping');
  });
  while (!got.includes('PING')) await new Promise((r) => setTimeout(r, 20));
  socket.destroy();
  expect(cri.requests.find((r) => r.method === 'exec')?.arg).toEqual({
    container_id: 'c1',
    cmd: ['sh', '-c', 'echo hi'],
    stdin: true,
    stdout: true,
    stderr: false,
    tty: true,
  });
  expect(forwarded).toMatch(/^POST \/exec\/tok123\?command=sh&command=-c/);
  expect(forwarded.match(/X-Stream-Protocol-Version/g)).toHaveLength(2);
  expect(forwarded).not.toContain('Authorization');
  expect(forwarded).toMatch(/\r\nHost: 127\.0\.0\.1:\d+\r\n/);
});

test('the self-signed certificate is kept and reused, and names the node', () => {
  const again = loadServingCert({ certDir: dir, nodeName: 'n1', addresses: [] });
  expect(again.cert.equals(cert.cert)).toBe(true);
  expect(new X509Certificate(cert.cert).subjectAltName).toContain('DNS:n1');
});
