import pino from 'pino';
import { apiError, FakeKubeApi } from './fake_api.testutil';
import { NodeHeartbeat } from './node_heartbeat';
import type { NodeFacts, RuntimeHealth } from './node_object';

const facts = {
  nodeName: 'n1',
  nodeIP: '127.0.0.1',
  kubeletPort: 10250,
  cpuCores: 2,
  memoryBytes: 1 << 30,
  maxPods: 110,
  machineID: '',
  systemUUID: '',
  bootID: '',
  kernelVersion: '6.18',
  osImage: 'Debian',
  architecture: 'amd64',
  containerRuntimeVersion: 'nodelet://0.1.0',
} satisfies NodeFacts;

function heartbeat(api: FakeKubeApi, health: RuntimeHealth = { notReady: [] }) {
  // Long periods: the test calls the steps itself.
  return new NodeHeartbeat({
    api,
    facts,
    health: async () => health,
    log: pino({ level: 'silent' }),
    statusCheckMs: 3_600_000,
    leaseRenewMs: 3_600_000,
  });
}

test('registering creates the Node and its Lease, owned by the Node, with a MicroTime renew time', async () => {
  const api = new FakeKubeApi();
  api.handler = (req) => {
    if (req.method === 'POST' && req.path === '/api/v1/nodes')
      return { metadata: { name: 'n1', uid: 'node-uid' } };
    if (req.method === 'GET') throw apiError(404, 'NotFound');
    return req.options.body;
  };
  const hb = heartbeat(api);
  expect(await hb.register()).toBe('node-uid');
  hb.stop();
  const lease = api.sent('POST', '/leases')[0].options.body as {
    metadata: { ownerReferences: { kind: string; uid: string }[] };
    spec: { holderIdentity: string; leaseDurationSeconds: number; renewTime: string };
  };
  expect(lease.metadata.ownerReferences).toEqual([
    { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid' },
  ]);
  expect(lease.spec).toMatchObject({ holderIdentity: 'n1', leaseDurationSeconds: 40 });
  expect(lease.spec.renewTime).toMatch(/\.\d{6}Z$/);
});

test('an existing Node is adopted and gets this agent status at once, as a strategic merge patch', async () => {
  const api = new FakeKubeApi();
  api.handler = (req) => {
    if (req.method === 'POST' && req.path === '/api/v1/nodes') throw apiError(409, 'AlreadyExists');
    if (req.method === 'GET' && req.path === '/api/v1/nodes/n1')
      return { metadata: { name: 'n1', uid: 'old-uid' } };
    return { metadata: { name: 'n1' }, spec: {} };
  };
  const hb = heartbeat(api);
  expect(await hb.register()).toBe('old-uid');
  hb.stop();
  const patch = api.sent('PATCH', '/api/v1/nodes/n1/status')[0];
  expect(patch.options.contentType).toBe('application/strategic-merge-patch+json');
  // the lease existed: it is renewed from the one read, by PUT
  expect(api.sent('PUT', '/leases/n1')).toHaveLength(1);
});

test('the node status is posted again only when a condition changes', async () => {
  const api = new FakeKubeApi();
  const health: RuntimeHealth = { notReady: [] };
  api.handler = (req) =>
    req.path === '/api/v1/nodes' ? { metadata: { name: 'n1', uid: 'u' } } : { metadata: { name: 'n1' } };
  const hb = heartbeat(api, health);
  await hb.register();
  hb.stop();
  const patches = () => api.sent('PATCH', '/status').length;
  const before = patches();
  await hb.syncStatus();
  expect(patches()).toBe(before);
  health.notReady = [{ type: 'NetworkReady', reason: 'NoCNI', message: '' }];
  await hb.syncStatus();
  expect(patches()).toBe(before + 1);
  const body = api.sent('PATCH', '/status').at(-1)!.options.body as {
    status: { conditions: { type: string; status: string }[] };
  };
  expect(body.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('False');
});

test('a node short of disk space reports DiskPressure=True (KubeletHasDiskPressure) in its next status', async () => {
  const api = new FakeKubeApi();
  api.handler = (req) =>
    req.path === '/api/v1/nodes' ? { metadata: { name: 'n1', uid: 'u' } } : { metadata: { name: 'n1' } };
  let short = false;
  const hb = new NodeHeartbeat({
    api,
    facts,
    health: async () => ({ notReady: [] }),
    diskPressure: () => short,
    log: pino({ level: 'silent' }),
    statusCheckMs: 3_600_000,
    leaseRenewMs: 3_600_000,
  });
  await hb.register();
  hb.stop();
  short = true;
  await hb.syncStatus();
  const body = api.sent('PATCH', '/status').at(-1)!.options.body as {
    status: { conditions: { type: string; status: string; reason: string }[] };
  };
  expect(body.status.conditions.find((c) => c.type === 'DiskPressure')).toMatchObject({
    status: 'True',
    reason: 'KubeletHasDiskPressure',
  });
});
