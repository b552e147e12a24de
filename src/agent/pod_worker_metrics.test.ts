// The pod worker feeds the agent's kubelet-style histograms: each sync by the kubelet's operation
// type, each look at the runtime as a PLEG relist, the termination as 'kill'.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeCri } from './fake_cri.testutil';
import { fakeNodeContext } from './fake_node.testutil';
import { parseManifest } from './manifest';
import { createAgentMetrics, PodLoopMetrics, PodWorkerOperation } from './metrics';
import { PodWorker } from './pod_worker';

const manifest = `apiVersion: v1
kind: Pod
metadata: { name: web }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - { name: app, image: "busybox:1" }
`;

let root: string;
let cri: FakeCri;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-worker-metrics-'));
  cri = new FakeCri();
});

afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function startWorker(metrics: PodLoopMetrics): PodWorker {
  const w = new PodWorker(
    parseManifest('/m/web.yaml', manifest, 'n'),
    fakeNodeContext(cri, root, { metrics }),
  );
  w.start();
  return w;
}

async function until(what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function recorder() {
  const syncs: PodWorkerOperation[] = [];
  let relists = 0;
  const metrics: PodLoopMetrics = {
    observePodWorker: (op, seconds) => {
      expect(seconds).toBeGreaterThanOrEqual(0);
      syncs.push(op);
    },
    observeRelist: () => void relists++,
  };
  return { metrics, syncs, relists: () => relists };
}

test('the first sync is a create, later ones syncs, and each looks at the runtime as a relist', async () => {
  const r = recorder();
  const w = startWorker(r.metrics);
  await until('a few syncs', () => r.syncs.length >= 3);
  await w.detach();
  expect(r.syncs[0]).toBe('create');
  expect(r.syncs.slice(1).every((op) => op === 'sync')).toBe(true);
  expect(r.relists()).toBeGreaterThanOrEqual(r.syncs.length);
});

test('the sync after a spec change is an update, and the termination a kill', async () => {
  const r = recorder();
  const w = startWorker(r.metrics);
  await until('the container running', () => cri.running('app').length === 1);
  const pod = structuredClone(w.desired.pod!);
  pod.spec.containers[0].image = 'busybox:2';
  w.update({ ...w.desired, pod });
  await until('an update sync', () => r.syncs.includes('update'));
  await w.terminate();
  expect(r.syncs.filter((op) => op === 'update')).toHaveLength(1);
  expect(r.syncs.at(-1)).toBe('kill');
});

test('a failed sync is timed too', async () => {
  const r = recorder();
  cri.failNext('listPodSandbox', new Error('runtime away'));
  const w = startWorker(r.metrics);
  await until('the failed first sync', () => r.syncs.length >= 1);
  await w.detach();
  expect(r.syncs[0]).toBe('create');
  expect(r.relists()).toBeGreaterThanOrEqual(1);
});

test("a worker's syncs and relists show in the agent's /metrics histograms", async () => {
  const m = createAgentMetrics();
  const w = startWorker(m);
  await until('the container running', () => cri.running('app').length === 1);
  await w.detach();
  const text = await m.registry.metrics();
  expect(text).toMatch(/^kubelet_pod_worker_duration_seconds_count\{operation_type="create"\} 1$/m);
  expect(text).toMatch(/^kubelet_pleg_relist_duration_seconds_count [1-9]\d*$/m);
});
