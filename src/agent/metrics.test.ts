import { countRuntime, createAgentMetrics, operationType, ProbeMetrics } from './metrics';
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

describe('ProbeMetrics', () => {
  const web = { container: 'app', pod: 'web', namespace: 'default', podUid: 'u1' };
  const db = { container: 'db', pod: 'db', namespace: 'default', podUid: 'u2' };

  test('counts probe runs by result and, as the kubelet, does not time the failed ones', async () => {
    const m = new ProbeMetrics();
    m.record({ ...web, probeType: 'Readiness' }, 'successful', 0.02);
    m.record({ ...web, probeType: 'Readiness' }, 'successful', 0.02);
    m.record({ ...web, probeType: 'Liveness' }, 'failed', 3);
    const text = await m.registry.metrics();
    expect(text).toContain(
      'prober_probe_total{probe_type="Readiness",result="successful",container="app",pod="web",namespace="default",pod_uid="u1"} 2',
    );
    expect(text).toContain(
      'prober_probe_total{probe_type="Liveness",result="failed",container="app",pod="web",namespace="default",pod_uid="u1"} 1',
    );
    expect(text).toContain(
      'prober_probe_duration_seconds_count{probe_type="Readiness",container="app",pod="web",namespace="default"} 2',
    );
    expect(text).not.toMatch(/prober_probe_duration_seconds_count\{probe_type="Liveness"/);
    expect(text).toMatch(/^process_start_time_seconds \d+$/m);
  });

  test('the series of a pod that is gone are deleted, those of the others kept', async () => {
    const m = new ProbeMetrics();
    m.record({ ...web, probeType: 'Readiness' }, 'successful', 0.01);
    m.record({ ...web, probeType: 'Readiness' }, 'failed', 0.01);
    m.record({ ...db, probeType: 'Startup' }, 'successful', 0.01);
    m.retainPods(new Set(['u2']));
    const text = await m.registry.metrics();
    expect(text).not.toContain('pod="web"');
    expect(text).toContain('prober_probe_total{probe_type="Startup",result="successful",container="db"');
    m.forgetPod('u2');
    m.forgetPod('never-seen');
    expect(await m.registry.metrics()).not.toContain('prober_probe_total{');
  });

  test('followPods deletes the series of pods the agent no longer has', async () => {
    const m = new ProbeMetrics();
    m.record({ ...web, probeType: 'Readiness' }, 'successful', 0.01);
    const live = new Map([['u1', {}]]);
    const stop = m.followPods(() => live, 5);
    await new Promise((r) => setTimeout(r, 20));
    expect(await m.registry.metrics()).toContain('pod="web"');
    live.delete('u1');
    await new Promise((r) => setTimeout(r, 20));
    stop();
    expect(await m.registry.metrics()).not.toContain('pod="web"');
  });
});
