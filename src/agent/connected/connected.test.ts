import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Agent } from '../agent';
import { FakeCri } from '../fake_cri.testutil';
import { fakeMounter } from '../fake_mounter.testutil';
import { startConnectedAgent } from './connected';
import { apiError, FakeKubeApi, until } from './fake_api.testutil';
import type { KubeObject } from './kube_api';

const mounter = fakeMounter();
let tmp: string;
let agent: Agent | undefined;

const pod = (extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '3', ...extra },
  spec: {
    nodeName: 'n1',
    terminationGracePeriodSeconds: 30,
    containers: [{ name: 'main', image: 'busybox:1' }],
  },
});

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-connected-unit-'));
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  fs.rmSync(tmp, { recursive: true, force: true });
});

const service = (namespace: string, name: string, clusterIP: string): KubeObject => ({
  metadata: { name, namespace },
  spec: { clusterIP, ports: [{ name: 'https', port: 443, protocol: 'TCP' }] },
});

test('a connected agent registers its node, runs the API pod, posts its status and finishes its deletion', async () => {
  const api = new FakeKubeApi();
  api.handler = (req) => {
    if (req.method === 'GET' && req.path === '/api/v1/services')
      return {
        metadata: { resourceVersion: '4' },
        items: [service('default', 'kubernetes', '10.96.0.1'), service('other', 'db', '10.96.0.9')],
      };
    if (req.method === 'POST' && req.path === '/api/v1/nodes')
      return { metadata: { name: 'n1', uid: 'node-uid' } };
    if (req.method === 'GET' && req.path.includes('/leases/')) throw apiError(404);
    if (req.method === 'GET' && req.path === '/api/v1/pods')
      return { metadata: { resourceVersion: '5' }, items: [pod()] };
    return req.options.body ?? {};
  };
  const cri = new FakeCri();
  agent = await startConnectedAgent({
    endpoint: 'unused',
    cri,
    mounter,
    api,
    kubeconfig: 'unused',
    nodeIP: '192.0.2.1',
    kubeletPort: 10250,
    rootDir: path.join(tmp, 'root'),
    podLogsDir: path.join(tmp, 'logs'),
    nodeName: 'n1',
    cgroupDriver: 'systemd',
    syncIntervalMs: 20,
    log: pino({ level: 'silent' }),
  });
  await until('the node', () => api.sent('POST', '/api/v1/nodes').length === 1);
  const node = api.sent('POST', '/api/v1/nodes')[0].options.body as {
    status: { nodeInfo: { containerRuntimeVersion: string } };
  };
  expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/:\/\//);
  await until('the container', () => cri.running('main').length === 1);
  // The Service variables: the master Service's always, another namespace's never.
  const created = cri.calls.find((c) => c.method === 'createContainer')?.arg as {
    config: { envs: { key: string; value: Buffer }[] };
  };
  const env = Object.fromEntries(created.config.envs.map((e) => [e.key, String(e.value)]));
  expect(env).toMatchObject({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' });
  expect(env.DB_SERVICE_HOST).toBeUndefined();
  const services = api.watches.find((w) => w.path === '/api/v1/services');
  expect(services?.query).toMatchObject({ fieldSelector: 'spec.clusterIP!=None' });
  await until('a Running status', () =>
    api
      .sent('PATCH', '/pods/web/status')
      .some((r) => (r.options.body as { status: { phase: string } }).status.phase === 'Running'),
  );
  await until('a watch', () => api.watches.some((w) => w.path === '/api/v1/pods'));
  api.watches
    .find((w) => w.path === '/api/v1/pods')!
    .send('MODIFIED', pod({ deletionTimestamp: '2026-11-23T00:00:00Z', deletionGracePeriodSeconds: 1 }));
  await until('the final delete', () => api.sent('DELETE', '/pods/web').length === 1);
  expect(cri.running('main')).toEqual([]);
  expect(cri.sandboxes.size).toBe(0);
});
