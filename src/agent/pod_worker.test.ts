import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeCri } from './fake_cri.testutil';
import { fakeNodeContext } from './fake_node.testutil';
import { parseManifest } from './manifest';
import { NodeContext, PodWorker } from './pod_worker';
import type { PodStatusView } from './pod_status';
import { fakeMounter } from './fake_mounter.testutil';

const manifest = `apiVersion: v1
kind: Pod
metadata: { name: web }
spec:
  terminationGracePeriodSeconds: 7
  volumes:
    - { name: data, emptyDir: { medium: Memory } }
  initContainers:
    - { name: init, image: "busybox:1" }
  containers:
    - name: app
      image: "busybox:1"
      env: [{ name: A, value: "1" }]
      volumeMounts: [{ name: data, mountPath: /data }]
      lifecycle: { preStop: { exec: { command: ["stop"] } } }
    - { name: side, image: "busybox:1" }
`;

let root: string;
let cri: FakeCri;
let mounter: ReturnType<typeof fakeMounter>;
let workers: PodWorker[];

function node(): NodeContext {
  return fakeNodeContext(cri, root, { mounter, writeStatusFiles: true });
}

function worker(): PodWorker {
  const w = new PodWorker(parseManifest('/m/web.yaml', manifest, 'n'), node());
  workers.push(w);
  w.start();
  return w;
}

async function until<T>(what: string, fn: () => T | undefined | false): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const runningStatus = (w: PodWorker) => () =>
  w.status?.phase === 'Running' && w.status.containerStatuses.every((c) => 'running' in c.state)
    ? w.status
    : undefined;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-worker-'));
  cri = new FakeCri();
  mounter = fakeMounter();
  workers = [];
});

afterEach(async () => {
  await Promise.all(workers.map((w) => w.detach()));
  fs.rmSync(root, { recursive: true, force: true });
});

test('a pod runs its init container, then its app containers, and its status says so', async () => {
  const w = worker();
  await until('init container', () => cri.running('init')[0]);
  cri.exitContainer(cri.running('init')[0].id, 0);
  const status = await until('running pod', runningStatus(w));
  expect(status.podIP).toBe('10.0.0.2');
  expect(status.initContainerStatuses[0].state).toMatchObject({
    terminated: { exitCode: 0, reason: 'Completed' },
  });
  expect(status.containerStatuses.map((c) => c.containerID)).toEqual(
    cri
      .running('app')
      .concat(cri.running('side'))
      .map((c) => `fake://${c.id}`),
  );
  expect(status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
  const file = JSON.parse(fs.readFileSync(path.join(w.dir, 'status.json'), 'utf8')) as {
    status: PodStatusView;
  };
  expect(file.status.phase).toBe('Running');
  const req = cri.calls.find(
    (c) => c.method === 'createContainer' && JSON.stringify(c.arg).includes('"name":"app"'),
  )!.arg as {
    config: { mounts: { host_path: string }[]; annotations: Record<string, string>; log_path: string };
  };
  expect(req.config.mounts[0].host_path).toBe(path.join(w.dir, 'volumes', 'kubernetes.io~empty-dir', 'data'));
  expect(mounter.mounted.has(req.config.mounts[0].host_path)).toBe(true);
  expect(req.config.annotations['io.kubernetes.container.restartCount']).toBe('0');
  expect(req.config.log_path).toBe('app/0.log');
});

test('a container that exits is restarted with its restart count and keeps its last state', async () => {
  const w = worker();
  await until('init', () => cri.running('init')[0]);
  cri.exitContainer(cri.running('init')[0].id, 0);
  await until('running', runningStatus(w));
  const first = cri.running('side')[0];
  cri.exitContainer(first.id, 3);
  const status = await until('restart', () => {
    const side = w.status?.containerStatuses.find((c) => c.name === 'side');
    return side?.restartCount === 1 && 'running' in side.state ? w.status : undefined;
  });
  const side = status!.containerStatuses.find((c) => c.name === 'side')!;
  expect(side.lastState).toMatchObject({
    terminated: { exitCode: 3, reason: 'Error', containerID: `fake://${first.id}` },
  });
  expect(cri.running('side')[0].config.log_path).toBe('side/1.log');
});

test('a failing CreateContainer shows as CreateContainerError and is retried', async () => {
  cri.failNext('createContainer', new Error('Cannot call CreateContainer: disk full'));
  const w = worker();
  const waiting = await until('error status', () => {
    const init = w.status?.initContainerStatuses[0];
    return init && 'waiting' in init.state && init.state.waiting.reason === 'CreateContainerError'
      ? init.state.waiting
      : undefined;
  });
  expect(waiting.message).toContain('disk full');
  await until('init running after retry', () => cri.running('init')[0]);
});

test('a new worker for a running pod restarts nothing', async () => {
  const w = worker();
  await until('init', () => cri.running('init')[0]);
  cri.exitContainer(cri.running('init')[0].id, 0);
  await until('running', runningStatus(w));
  await w.detach();
  const creates = cri.countCalls('createContainer');
  const sandboxes = cri.countCalls('runPodSandbox');
  const again = worker();
  const status = await until('status of the new worker', runningStatus(again));
  expect(status.containerStatuses.every((c) => c.restartCount === 0)).toBe(true);
  expect(cri.countCalls('createContainer')).toBe(creates);
  expect(cri.countCalls('runPodSandbox')).toBe(sandboxes);
});

test('terminating a pod runs preStop, stops with the grace period and removes sandbox, volumes and directory', async () => {
  const w = worker();
  await until('init', () => cri.running('init')[0]);
  cri.exitContainer(cri.running('init')[0].id, 0);
  await until('running', runningStatus(w));
  await w.terminate();
  const exec = cri.calls.find((c) => c.method === 'execSync')?.arg as { cmd: string[] };
  expect(exec.cmd).toEqual(['stop']);
  const stops = cri.calls
    .filter((c) => c.method === 'stopContainer')
    .map((c) => (c.arg as { timeout: number }).timeout);
  expect(stops.every((t) => t >= 2 && t <= 7)).toBe(true);
  expect(cri.sandboxes.size).toBe(0);
  expect(mounter.mounted.size).toBe(0);
  expect(fs.existsSync(w.dir)).toBe(false);
});

test('a manifest that cannot run gets a Failed status and never reaches the runtime', async () => {
  const bad = new PodWorker(parseManifest('/m/bad.yaml', 'kind: Pod', 'n'), node());
  bad.start();
  expect(bad.status?.phase).toBe('Failed');
  expect(bad.status?.message).toContain("Cannot run manifest '/m/bad.yaml'");
  expect(cri.calls).toEqual([]);
});

test('a sandbox the runtime refuses leaves the pod Pending with CreatePodSandboxError', async () => {
  cri.failNext('runPodSandbox', new Error('Cannot call RunPodSandbox: no network'));
  const w = worker();
  const status = await until('sandbox error', () =>
    w.status?.reason === 'CreatePodSandboxError' ? w.status : undefined,
  );
  expect(status.phase).toBe('Pending');
  expect(status.message).toContain('no network');
});

test('a restarted worker keeps the start time the previous one wrote', async () => {
  const w = worker();
  await until('init', () => cri.running('init')[0]);
  const first = await until('a status', () => w.status?.startTime);
  await w.detach();
  const statusFile = path.join(w.dir, 'status.json');
  const written = JSON.parse(fs.readFileSync(statusFile, 'utf8'));
  written.status.startTime = '2020-01-01T00:00:00Z';
  fs.writeFileSync(statusFile, JSON.stringify(written));
  const again = worker();
  expect(again.status).toBeUndefined(); // nothing is claimed before the runtime was asked
  const status = await until('a new status', () => again.status);
  expect(status.startTime).toBe('2020-01-01T00:00:00Z');
  expect(first).not.toBe('2020-01-01T00:00:00Z');
});

test('a spec update with a new image restarts that container only', async () => {
  const desired = parseManifest('/m/web.yaml', manifest, 'n');
  const w = new PodWorker(desired, node());
  workers.push(w);
  w.start();
  await until('init container', () => cri.running('init')[0]);
  cri.exitContainer(cri.running('init')[0].id, 0);
  await until(
    'both app containers',
    () => cri.running('app').length === 1 && cri.running('side').length === 1,
  );
  const side = cri.running('side')[0].id;
  const pod = structuredClone(desired.pod!);
  pod.spec.containers[0].image = 'busybox:2';
  w.update({ ...desired, pod });
  await until('the new app container', () => cri.running('app')[0]?.config.image?.image === 'busybox:2');
  expect(cri.running('side').map((c) => c.id)).toEqual([side]);
});

test('a pod asking for a sysctl it may not have is rejected as the kubelet does, with no sandbox', async () => {
  const events: string[] = [];
  const w = new PodWorker(
    parseManifest(
      '/m/s.yaml',
      `apiVersion: v1
kind: Pod
metadata: { name: s }
spec:
  securityContext: { sysctls: [{ name: kernel.msgmax, value: "1" }] }
  containers: [{ name: c, image: i }]
`,
      'n',
    ),
    { ...node(), onEvent: (_, e) => void events.push(`${e.reason}: ${e.message}`) },
  );
  workers.push(w);
  w.start();
  expect(w.status).toMatchObject({
    phase: 'Failed',
    reason: 'SysctlForbidden',
    message: 'Pod was rejected: forbidden sysctl: "kernel.msgmax" not allowlisted',
  });
  expect(events).toEqual(['SysctlForbidden: forbidden sysctl: "kernel.msgmax" not allowlisted']);
  expect(cri.countCalls('runPodSandbox')).toBe(0);
});

describe('sidecars, deadlines, probe grace and events', () => {
  function workerFor(text: string, extra: Partial<NodeContext> = {}): PodWorker {
    const w = new PodWorker(parseManifest('/m/x.yaml', text, 'n'), { ...node(), ...extra });
    workers.push(w);
    w.start();
    return w;
  }

  test('a sidecar runs beside the app and is stopped after it, with the kubelet events', async () => {
    const events: string[] = [];
    const w = workerFor(
      `apiVersion: v1
kind: Pod
metadata: { name: side }
spec:
  terminationGracePeriodSeconds: 3
  initContainers:
    - { name: proxy, image: "busybox:1", restartPolicy: Always }
  containers:
    - { name: app, image: "busybox:1" }
`,
      {
        onEvent: (_, e) => void events.push(`${e.reason} ${e.fieldPath ?? e.container ?? ''}: ${e.message}`),
      },
    );
    const status = await until('running with its sidecar', runningStatus(w));
    expect(status.initContainerStatuses[0]).toMatchObject({ name: 'proxy', started: true, ready: true });
    expect(events).toContain('Created spec.initContainers{proxy}: Created container: proxy');
    expect(events).toContain('Started app: Started container app');
    const names = new Map([...cri.containers.values()].map((c) => [c.id, c.config.metadata?.name]));
    await w.terminate();
    const stops = cri.calls.filter((c) => c.method === 'stopContainer');
    // The app container stops first; the sidecar only once it has.
    expect(stops.map((c) => names.get((c.arg as { id: string }).id))).toEqual(['app', 'proxy']);
    expect(events.filter((e) => e.startsWith('Killing')).sort()).toEqual([
      'Killing app: Stopping container app',
      'Killing spec.initContainers{proxy}: Stopping container proxy',
    ]);
  });

  test('a pod past its activeDeadlineSeconds is stopped and Failed with DeadlineExceeded', async () => {
    const events: string[] = [];
    const w = workerFor(
      `apiVersion: v1
kind: Pod
metadata: { name: late }
spec:
  activeDeadlineSeconds: 1
  containers:
    - { name: app, image: "busybox:1" }
`,
      { onEvent: (_, e) => void events.push(`${e.type} ${e.reason}: ${e.message}`) },
    );
    const failed = await until('DeadlineExceeded', () =>
      w.status?.phase === 'Failed' ? w.status : undefined,
    );
    expect(failed).toMatchObject({
      reason: 'DeadlineExceeded',
      message: 'Pod was active on the node longer than the specified deadline',
    });
    await until('the container stopped', () => cri.running('app').length === 0);
    expect(events).toContain(
      'Normal DeadlineExceeded: Pod was active on the node longer than the specified deadline',
    );
  });

  test("a liveness failure kills with the probe's own grace period and says so", async () => {
    const events: string[] = [];
    cri.exec = () => 1;
    const w = workerFor(
      `apiVersion: v1
kind: Pod
metadata: { name: sick }
spec:
  terminationGracePeriodSeconds: 30
  containers:
    - name: app
      image: "busybox:1"
      livenessProbe: { exec: { command: ["false"] }, periodSeconds: 1, failureThreshold: 1, terminationGracePeriodSeconds: 5 }
`,
      { onEvent: (_, e) => void events.push(`${e.reason}: ${e.message}`) },
    );
    await until('the kill', () => cri.calls.find((c) => c.method === 'stopContainer'));
    expect(cri.calls.find((c) => c.method === 'stopContainer')?.arg).toMatchObject({ timeout: 5 });
    expect(events).toContain('Unhealthy: Liveness probe failed: ');
    expect(events).toContain('Killing: Container app failed liveness probe, will be restarted');
    await until('a BackOff event', () => events.find((e) => e.startsWith('BackOff')));
    expect(events.find((e) => e.startsWith('BackOff'))).toBe(
      `BackOff: Back-off restarting failed container app in pod sick-n_default(${w.desired.uid})`,
    );
  });

  test('a volume that cannot be set up is a FailedMount event and the pod waits', async () => {
    const events: string[] = [];
    const w = workerFor(
      `apiVersion: v1
kind: Pod
metadata: { name: mountless }
spec:
  volumes:
    - { name: data, hostPath: { path: /nonexistent/nodelet-test, type: Directory } }
  containers:
    - { name: app, image: "busybox:1" }
`,
      { onEvent: (_, e) => void events.push(`${e.type} ${e.reason}: ${e.message}`) },
    );
    const failed = await until('FailedMount', () => events.find((e) => e.includes('FailedMount')));
    expect(failed).toContain(
      'Warning FailedMount: Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process volumes=[]: ',
    );
    expect(failed).toContain("hostPath volume 'data'");
    expect(w.status?.phase ?? 'Pending').toBe('Pending');
    expect(cri.countCalls('runPodSandbox')).toBe(0);
  });
});
