import { microTime } from './kube_api';
import { diskPressureAt } from './node_facts';
import { newNode, nodeConditions, NodeFacts } from './node_object';

const facts: NodeFacts = {
  nodeName: 'n1',
  nodeIP: '127.0.0.1',
  kubeletPort: 10250,
  cpuCores: 2,
  memoryBytes: 4 * 1024 * 1024 * 1024,
  ephemeralStorageBytes: 10 * 1024 * 1024 * 1024,
  maxPods: 110,
  machineID: 'm',
  systemUUID: 's',
  bootID: 'b',
  kernelVersion: '6.18.0',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  architecture: 'amd64',
  containerRuntimeVersion: 'nodelet://0.1.0',
};

test('a new Node carries capacity, addresses, the kubelet port, the runtime version and the not-ready taint', () => {
  const node = newNode(facts, nodeConditions({ notReady: [] }, undefined));
  expect(node.spec.taints).toEqual([{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
  expect(node.metadata.labels).toMatchObject({
    'kubernetes.io/hostname': 'n1',
    'kubernetes.io/arch': 'amd64',
  });
  expect(node.status.capacity).toEqual({
    cpu: '2',
    memory: '4194304Ki',
    pods: '110',
    'ephemeral-storage': '10485760Ki',
  });
  expect(node.status.allocatable).toEqual(node.status.capacity);
  expect(node.status.addresses).toEqual([
    { type: 'InternalIP', address: '127.0.0.1' },
    { type: 'Hostname', address: 'n1' },
  ]);
  expect(node.status.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 10250 } });
  expect(node.status.nodeInfo).toMatchObject({
    containerRuntimeVersion: 'nodelet://0.1.0',
    operatingSystem: 'linux',
  });
});

test('the node is Ready (KubeletReady) only when the runtime and its network are ready', () => {
  const ready = nodeConditions({ notReady: [] }, undefined);
  expect(ready.map((c) => `${c.type}=${c.status}`)).toEqual([
    'MemoryPressure=False',
    'DiskPressure=False',
    'PIDPressure=False',
    'Ready=True',
  ]);
  expect(ready[3].reason).toBe('KubeletReady');
  const notReady = nodeConditions(
    { notReady: [{ type: 'NetworkReady', reason: 'NoCNI', message: 'no config' }] },
    ready,
  );
  expect(notReady[3]).toMatchObject({ status: 'False', reason: 'KubeletNotReady' });
  expect(notReady[3].message).toContain('NetworkReady=false reason:NoCNI');
});

test('a condition keeps its transition time while its status stays', () => {
  const before = nodeConditions({ notReady: [] }, undefined, new Date('2026-11-23T00:00:00Z'));
  const after = nodeConditions({ notReady: [] }, before, new Date('2026-11-23T00:05:00Z'));
  expect(after[3].lastTransitionTime).toBe('2026-11-23T00:00:00Z');
  expect(after[3].lastHeartbeatTime).toBe('2026-11-23T00:05:00Z');
});

test('lease times have the six fractional digits of a MicroTime', () => {
  expect(microTime(new Date('2026-11-23T01:02:03.456Z'))).toBe('2026-11-23T01:02:03.456000Z');
});

test('disk pressure compares the free share of a filesystem with the threshold; an unreadable one is no pressure', () => {
  expect(diskPressureAt('/nonexistent-nodelet-dir')).toBe(false);
  // A fraction above 1 makes any filesystem short of space; 0 makes none.
  expect(diskPressureAt('/', 1.01)).toBe(true);
  expect(diskPressureAt('/', 0)).toBe(false);
});
