// spec.os and runtimeClassName on a pod worker against the fake runtime.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeCri } from './fake_cri.testutil';
import { fakeNodeContext } from './fake_node.testutil';
import { parseManifest } from './manifest';
import { NodeContext, PodEvent, PodWorker } from './pod_worker';
import type { RunPodSandboxRequest } from '../gen/runtime/v1/RunPodSandboxRequest';
import { RuntimeClassNotFound, type RuntimeClassSource } from './runtime_class';

let root: string;
let cri: FakeCri;
let workers: PodWorker[];
let events: PodEvent[];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-podfeat-'));
  cri = new FakeCri();
  workers = [];
  events = [];
});
afterEach(async () => {
  await Promise.all(workers.map((w) => w.detach()));
  fs.rmSync(root, { recursive: true, force: true });
});

function worker(spec: string, extra: Partial<NodeContext> = {}): PodWorker {
  const text = `apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n${spec}  containers: [{ name: c, image: i }]\n`;
  const w = new PodWorker(parseManifest('/m/p.yaml', text, 'n'), {
    ...fakeNodeContext(cri, root),
    onEvent: (_, e) => void events.push(e),
    ...extra,
  });
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
  throw new Error(`timed out waiting for ${what}: ${JSON.stringify(workers[0]?.status)}`);
}

const sandboxRequests = () =>
  cri.calls.filter((c) => c.method === 'runPodSandbox').map((c) => c.arg as RunPodSandboxRequest);

describe('spec.os', () => {
  test('a linux pod runs', async () => {
    worker('  os: { name: linux }\n');
    await until('container', () => cri.running('c')[0]);
  });

  test('a windows pod is rejected with the kubelet reason and message, and gets no sandbox', () => {
    const w = worker('  os: { name: windows }\n');
    expect(w.status).toMatchObject({
      phase: 'Failed',
      reason: 'PodOSNotSupported',
      message: "Pod was rejected: Failed to admit pod as the OS field doesn't match node OS",
    });
    expect(events.map((e) => `${e.type} ${e.reason}: ${e.message}`)).toEqual([
      "Warning PodOSNotSupported: Failed to admit pod as the OS field doesn't match node OS",
    ]);
    expect(cri.countCalls('runPodSandbox')).toBe(0);
  });
});

describe('runtimeClassName', () => {
  const classes = (known: Record<string, string>): RuntimeClassSource => ({
    handler: async (name) => {
      if (!(name in known)) throw new RuntimeClassNotFound(name);
      return known[name];
    },
  });

  test("the RuntimeClass's handler goes to RunPodSandbox", async () => {
    worker('  runtimeClassName: fast\n', { runtimeClasses: classes({ fast: 'kata' }) });
    await until('container', () => cri.running('c')[0]);
    expect(sandboxRequests().map((r) => r.runtime_handler)).toEqual(['kata']);
  });

  test('a pod without one gets the default handler', async () => {
    worker('', { runtimeClasses: classes({}) });
    await until('container', () => cri.running('c')[0]);
    expect(sandboxRequests().map((r) => r.runtime_handler)).toEqual(['']);
  });

  test('an unknown class fails the sandbox as the kubelet does: Pending, FailedCreatePodSandBox, no sandbox', async () => {
    const w = worker('  runtimeClassName: missing\n', { runtimeClasses: classes({}) });
    const status = await until(
      'sandbox error',
      () => w.status?.reason === 'CreatePodSandboxError' && w.status,
    );
    expect(status.phase).toBe('Pending');
    expect(status.message).toBe('runtimeclass.node.k8s.io "missing" not found');
    expect(events).toContainEqual({
      type: 'Warning',
      reason: 'FailedCreatePodSandBox',
      message: 'Failed to create pod sandbox: runtimeclass.node.k8s.io "missing" not found',
    });
    expect(cri.countCalls('runPodSandbox')).toBe(0);
  });

  test('without an API server (standalone) the name is not looked up and the default handler runs it', async () => {
    worker('  runtimeClassName: fast\n');
    await until('container', () => cri.running('c')[0]);
    expect(sandboxRequests().map((r) => r.runtime_handler)).toEqual(['']);
  });
});

describe('ephemeral containers', () => {
  const base = `apiVersion: v1
kind: Pod
metadata: { name: p }
spec:
  containers: [{ name: app, image: i }]
`;
  const withDebugger = (target: string) =>
    `${base}  ephemeralContainers:\n    - { name: debugger, image: busybox, stdin: true, tty: true, targetContainerName: ${target} }\n`;

  function start(text: string): PodWorker {
    const w = new PodWorker(parseManifest('/m/p.yaml', text, 'n'), {
      ...fakeNodeContext(cri, root),
      onEvent: (_, e) => void events.push(e),
    });
    workers.push(w);
    w.start();
    return w;
  }

  test('one added to a running pod starts in its sandbox, sharing the target PID namespace, and is reported', async () => {
    const w = start(base);
    const app = await until('app', () => cri.running('app')[0]);
    // What the ephemeralcontainers subresource does to the pod: only spec.ephemeralContainers changes.
    const pod = structuredClone(w.desired.pod!);
    pod.spec.ephemeralContainers = [{ name: 'debugger', image: 'busybox', targetContainerName: 'app' }];
    w.update({ ...w.desired, pod });
    const dbg = await until('debugger', () => cri.running('debugger')[0]);
    expect(dbg.sandboxId).toBe(app.sandboxId);
    expect(dbg.config.linux?.security_context?.namespace_options).toMatchObject({
      pid: 'TARGET',
      target_id: app.id,
    });
    expect(cri.running('app').map((c) => c.id)).toEqual([app.id]);
    const status = await until('ephemeral status', () => {
      const s = w.status?.ephemeralContainerStatuses?.[0];
      return s && 'running' in s.state && s;
    });
    expect(status).toMatchObject({ name: 'debugger', ready: false, started: true, restartCount: 0 });
    expect(w.status?.phase).toBe('Running');
    expect(w.status?.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
  });

  test('one that exits is never restarted, whatever the restart policy', async () => {
    const w = start(withDebugger('app'));
    const dbg = await until('debugger', () => cri.running('debugger')[0]);
    cri.exitContainer(dbg.id, 1);
    await until('terminated status', () => {
      const s = w.status?.ephemeralContainerStatuses?.[0];
      return s && 'terminated' in s.state && s;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(cri.calls.filter((c) => c.method === 'createContainer').length).toBe(2);
    expect(w.status?.phase).toBe('Running');
  });

  test('a target that is not running is a CreateContainerConfigError, tried again until it runs', async () => {
    const w = start(withDebugger('missing'));
    const status = await until('waiting status', () => {
      const s = w.status?.ephemeralContainerStatuses?.[0];
      return s && 'waiting' in s.state && s.state.waiting.reason === 'CreateContainerConfigError' && s;
    });
    expect(status.state).toEqual({
      waiting: { reason: 'CreateContainerConfigError', message: 'unable to find target container missing' },
    });
    expect(events).toContainEqual(
      expect.objectContaining({
        reason: 'Failed',
        message: 'Error: unable to find target container missing',
        container: 'debugger',
        fieldPath: 'spec.ephemeralContainers{debugger}',
      }),
    );
    expect(cri.running('debugger')).toEqual([]);
  });
});
