// A pod worker resizing a running pod against the FakeCri: the decisions of pod_resize.ts carried
// out (UpdateContainerResources, a restart), the conditions, the events and the record on disk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeCri } from './fake_cri.testutil';
import { fakeNodeContext } from './fake_node.testutil';
import { parseManifest, type DesiredPod } from './manifest';
import type { ResizeRejection } from './admission';
import { type PodEvent, PodWorker } from './pod_worker';
import type { Pod } from './pod_spec';

let root: string;
let cri: FakeCri;
let workers: PodWorker[];
let events: PodEvent[];
let rejection: ResizeRejection | undefined;

const manifest = (cpu: string, memory: string, policy = 'NotRequired') => `apiVersion: v1
kind: Pod
metadata: { name: web, uid: 0d4b1c2e-1111-4222-8333-444455556666, generation: 1 }
spec:
  terminationGracePeriodSeconds: 0
  containers:
    - name: c1
      image: "busybox:1"
      resizePolicy: [{ resourceName: cpu, restartPolicy: ${policy} }]
      resources:
        requests: { cpu: ${cpu}, memory: ${memory} }
        limits: { cpu: ${cpu}, memory: ${memory} }
`;

function desired(text: string, generation: number): DesiredPod {
  const d = parseManifest('/m/web.yaml', text, 'n');
  d.pod!.metadata.generation = generation;
  return d;
}

function start(text: string): PodWorker {
  const node = fakeNodeContext(cri, root, {
    onEvent: (_pod, e) => events.push(e),
    admitResize: () => rejection,
  });
  const w = new PodWorker(desired(text, 1), node);
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

const linuxOf = (id: string) => cri.containers.get(id)!.config.linux?.resources;
const reasons = () => events.map((e) => e.reason).filter((r) => r.startsWith('Resize'));
const conditionTypes = (w: PodWorker) => w.status?.conditions.map((c) => c.type) ?? [];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-resize-'));
  cri = new FakeCri();
  workers = [];
  events = [];
  rejection = undefined;
});

afterEach(async () => {
  await Promise.all(workers.map((w) => w.detach()));
  fs.rmSync(root, { recursive: true, force: true });
});

test('a NotRequired resize updates the running container in place and completes', async () => {
  const w = start(manifest('100m', '20Mi'));
  const first = await until('c1 running', () => cri.running('c1')[0]);
  expect(w.status?.containerStatuses[0].resources).toMatchObject({ limits: { cpu: '100m' } });
  w.update(desired(manifest('200m', '40Mi'), 2));
  await until('resize completed', () => reasons().includes('ResizeCompleted'));
  expect(cri.running('c1').map((c) => c.id)).toEqual([first.id]);
  expect(linuxOf(first.id)).toMatchObject({
    cpu_quota: 20000,
    cpu_shares: 204,
    memory_limit_in_bytes: 40 * 2 ** 20,
  });
  expect(reasons()).toEqual(['ResizeStarted', 'ResizeCompleted']);
  expect(events.find((e) => e.reason === 'ResizeStarted')!.message).toContain('"generation":2');
  const status = await until('status of the resize', () =>
    w.status?.containerStatuses[0].allocatedResources?.cpu === '200m' ? w.status : undefined,
  );
  expect(status.containerStatuses[0].resources).toEqual({
    requests: { cpu: '200m', memory: '40Mi' },
    limits: { cpu: '200m', memory: '40Mi' },
  });
  expect(status.containerStatuses[0].restartCount).toBe(0);
  expect(status.observedGeneration).toBe(2);
  expect(conditionTypes(w)).not.toContain('PodResizeInProgress');
  // The allocation and what is applied are on disk for a restarted agent.
  const record = JSON.parse(fs.readFileSync(path.join(w.dir, 'allocated_resources.json'), 'utf8'));
  expect(record.allocated.c1.limits.cpu).toBe('200m');
  expect(record.actuated.c1).toMatchObject({ containerId: first.id, resources: { limits: { cpu: '200m' } } });
});

test('a RestartContainer resize restarts the container with the new resources', async () => {
  const w = start(manifest('100m', '20Mi', 'RestartContainer'));
  const first = await until('c1 running', () => cri.running('c1')[0]);
  w.update(desired(manifest('200m', '20Mi', 'RestartContainer'), 2));
  const second = await until('c1 restarted', () => cri.running('c1').find((c) => c.id !== first.id));
  expect(cri.containers.get(first.id)!.state).toBe('CONTAINER_EXITED');
  expect(second.config.linux?.resources).toMatchObject({ cpu_quota: 20000 });
  expect(cri.countCalls('updateContainerResources')).toBe(0);
  await until('restart count 1', () => w.status?.containerStatuses[0].restartCount === 1);
  const killing = events.find((e) => e.reason === 'Killing');
  expect(killing?.message).toBe('Container c1 resize requires restart');
});

test('a resize the node cannot take waits as PodResizePending and runs once admitted', async () => {
  rejection = { reason: 'Deferred', message: "Node didn't have enough resource: cpu" };
  const w = start(manifest('100m', '20Mi'));
  const first = await until('c1 running', () => cri.running('c1')[0]);
  w.update(desired(manifest('200m', '20Mi'), 2));
  const pending = await until('pending', () =>
    w.status?.conditions.find((c) => c.type === 'PodResizePending'),
  );
  expect(pending).toMatchObject({ status: 'True', reason: 'Deferred', observedGeneration: 2 });
  expect(reasons()).toEqual(['ResizeDeferred']);
  expect(cri.countCalls('updateContainerResources')).toBe(0);
  expect(w.status?.containerStatuses[0].allocatedResources?.cpu).toBe('100m');
  expect((w.allocatedPod as Pod).spec.containers[0].resources?.limits?.cpu).toBe('100m');
  rejection = undefined;
  await until('resize completed', () => reasons().includes('ResizeCompleted'));
  expect(linuxOf(first.id)).toMatchObject({ cpu_quota: 20000 });
  expect(conditionTypes(w)).not.toContain('PodResizePending');
});

test('a memory limit below what the container uses is a resize Error, tried again until it fits', async () => {
  const w = start(manifest('100m', '40Mi'));
  const first = await until('c1 running', () => cri.running('c1')[0]);
  cri.memoryUsage.set(first.id, 30 * 2 ** 20);
  w.update(desired(manifest('100m', '20Mi'), 2));
  const error = await until('error', () =>
    w.status?.conditions.find((c) => c.type === 'PodResizeInProgress' && c.reason === 'Error'),
  );
  expect(error.message).toBe(
    `cannot decrease memory limits: attempting to set container "c1" memory limit (${20 * 2 ** 20}) below current usage (${30 * 2 ** 20})`,
  );
  expect(reasons()).toEqual(['ResizeStarted', 'ResizeError']);
  expect(Number(linuxOf(first.id)?.memory_limit_in_bytes)).toBe(40 * 2 ** 20);
  cri.memoryUsage.set(first.id, 10 * 2 ** 20);
  await until('resize completed', () => reasons().includes('ResizeCompleted'));
  expect(Number(linuxOf(first.id)?.memory_limit_in_bytes)).toBe(20 * 2 ** 20);
});
