import { countRuntime, createAgentMetrics, operationType } from './metrics';
import type { DesiredPod } from './manifest';
import type { PodStatusView } from './pod_status';

test('CRI methods get the kubelet operation_type names', () => {
  expect(operationType('runPodSandbox')).toBe('run_podsandbox');
  expect(operationType('podSandboxStatus')).toBe('podsandbox_status');
  expect(operationType('listContainers')).toBe('list_containers');
  expect(operationType('execSync')).toBe('exec_sync');
  expect(operationType('version')).toBe('version');
});

test('an instrumented runtime counts and times each call, and counts its errors', async () => {
  const m = createAgentMetrics();
  const cri = m.instrument({
    version: async () => 'v1',
    pullImage: async () => {
      throw new Error('no such image');
    },
  });
  expect(await cri.version()).toBe('v1');
  await expect(cri.pullImage()).rejects.toThrow('no such image');
  const text = await m.registry.metrics();
  expect(text).toContain('kubelet_runtime_operations_total{operation_type="version"} 1');
  expect(text).toContain('kubelet_runtime_operations_errors_total{operation_type="pull_image"} 1');
  expect(text).toContain('kubelet_runtime_operations_duration_seconds_count{operation_type="version"} 1');
});

test('running pods and containers are counted from the runtime at scrape time', async () => {
  const cri = {
    listPodSandbox: async () => ({ items: [{ state: 'SANDBOX_READY' }, { state: 'SANDBOX_NOTREADY' }] }),
    listContainers: async () => ({
      containers: [
        { state: 'CONTAINER_RUNNING' },
        { state: 'CONTAINER_RUNNING' },
        { state: 'CONTAINER_EXITED' },
      ],
    }),
  };
  const m = createAgentMetrics(() => countRuntime(cri as never));
  const text = await m.registry.metrics();
  expect(text).toMatch(/^kubelet_running_pods 1$/m);
  expect(text).toMatch(/^kubelet_running_containers\{container_state="running"\} 2$/m);
  expect(text).toMatch(/^kubelet_running_containers\{container_state="exited"\} 1$/m);
});

test('a pod start is observed once, from when the pod was first seen until it runs', async () => {
  const m = createAgentMetrics();
  const seen = new Date(Date.now() - 3000).toISOString();
  const desired = {
    uid: 'u1',
    name: 'p',
    namespace: 'default',
    file: 'f',
    pod: { metadata: { annotations: { 'kubernetes.io/config.seen': seen } } },
  } as unknown as DesiredPod;
  let status: PodStatusView | undefined = undefined;
  const stop = m.watchPodStarts(() => new Map([['u1', { desired, status }]]), 10);
  await new Promise((r) => setTimeout(r, 30));
  status = { phase: 'Running' } as PodStatusView;
  await new Promise((r) => setTimeout(r, 50));
  stop();
  const text = await m.registry.metrics();
  expect(text).toContain('kubelet_pod_start_duration_seconds_count 1');
  // about three seconds: in the buckets from 4 s up, not in the one of 2 s
  expect(text).toContain('kubelet_pod_start_duration_seconds_bucket{le="2"} 0');
  expect(text).toContain('kubelet_pod_start_duration_seconds_bucket{le="10"} 1');
});
