import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { ContainerEventResponse } from '../gen/runtime/v1/ContainerEventResponse';
import { NodeletError } from '../common/errors';
import type { CriContext } from './context';
import { containerEventTypes, streamContainerEvents, watchContainerEvents } from './container_events';
import { EventQueue } from './event_queue';
import type { CallContext } from './rpc';
import { NameIndex, RecordStore, type ContainerRecord, type SandboxRecord } from './store';

const log = pino({ level: process.env.DEBUG_LOG ? 'debug' : 'silent' });
let dir: string;

beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-events-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function fakeContext(): CriContext {
  const sandboxes = new RecordStore<SandboxRecord>(path.join(dir, 'pods'), 'pod sandbox', 1);
  const containers = new RecordStore<ContainerRecord>(path.join(dir, 'containers'), 'container', 1);
  sandboxes.load();
  containers.load();
  return { log, sandboxes, containers, names: new NameIndex() } as unknown as CriContext;
}

const pod = (): SandboxRecord =>
  ({
    version: 1,
    id: 'pod1',
    name: 'p_ns_uid_0',
    config: { metadata: { name: 'p', namespace: 'ns', uid: 'uid', attempt: 0 }, labels: {}, annotations: {} },
    runtimeHandler: '',
    createdAt: '1',
    dir,
    hostNetwork: false,
    hostIpc: false,
    pidMode: 'container',
    namespaces: {},
    cgroupParent: '/x',
    ownsCgroup: true,
    ips: ['10.0.0.2'],
  }) as unknown as SandboxRecord;

const container = (): ContainerRecord =>
  ({
    version: 1,
    id: 'c1',
    sandboxId: 'pod1',
    name: 'c',
    metadata: { name: 'c', attempt: 0 },
    labels: {},
    annotations: {},
    image: { spec: 'img', userSpecified: 'img', id: 'sha256:1', ref: 'sha256:1' },
    createdAt: '2',
    logPath: '',
    tty: false,
    stdin: false,
    stdinOnce: false,
    mounts: [],
    stopSignal: 'SIGTERM',
    dir,
    cgroupsPath: '/x/c1',
    spec: { process: { user: { uid: 0, gid: 0, additionalGids: [] } } },
  }) as unknown as ContainerRecord;

function collect(ctx: CriContext) {
  const q = new EventQueue<ContainerEventResponse>({ bufferSize: 100, holdMs: 60_000 });
  watchContainerEvents(ctx, q);
  const sub = q.subscribe();
  const seen: ContainerEventResponse[] = [];
  return {
    async take(n: number) {
      while (seen.length < n) seen.push((await sub.next()) as ContainerEventResponse);
      return seen.map((e) => `${e.container_id} ${e.container_event_type}`);
    },
    seen,
  };
}

describe('container events', () => {
  test('a pod and a container told through their whole life, each with the pod status', async () => {
    const ctx = fakeContext();
    const events = collect(ctx);
    await ctx.sandboxes.create(pod());
    await ctx.containers.create(container());
    await ctx.containers.update('c1', (c) => ({ ...c, startedAt: '3' }));
    await ctx.containers.update('c1', (c) => ({ ...c, finishedAt: '4', exitCode: 2, reason: 'Error' }));
    await ctx.containers.delete('c1');
    await ctx.sandboxes.update('pod1', (p) => ({ ...p, stoppedAt: '5' }));
    await ctx.sandboxes.delete('pod1');
    expect(await events.take(8)).toEqual([
      'pod1 CONTAINER_CREATED_EVENT',
      'pod1 CONTAINER_STARTED_EVENT',
      'c1 CONTAINER_CREATED_EVENT',
      'c1 CONTAINER_STARTED_EVENT',
      'c1 CONTAINER_STOPPED_EVENT',
      'c1 CONTAINER_DELETED_EVENT',
      'pod1 CONTAINER_STOPPED_EVENT',
      'pod1 CONTAINER_DELETED_EVENT',
    ]);
    const stopped = events.seen[4];
    expect(stopped.pod_sandbox_status).toMatchObject({
      id: 'pod1',
      metadata: { uid: 'uid' },
      state: 'SANDBOX_READY',
      network: { ip: '10.0.0.2' },
    });
    expect(stopped.containers_statuses).toMatchObject([
      { id: 'c1', state: 'CONTAINER_EXITED', exit_code: 2, reason: 'Error' },
    ]);
    expect(BigInt(stopped.created_at as string)).toBeGreaterThan(0n);
    // The deleted pod still carries its last status: the kubelet drops events without one.
    expect(events.seen[7].pod_sandbox_status).toMatchObject({ id: 'pod1', state: 'SANDBOX_NOTREADY' });
    expect(events.seen[7].containers_statuses).toEqual([]);
  });

  test('a container killed before it started is only told as stopped', () => {
    const before = container();
    const after = { ...before, startedAt: '3', finishedAt: '3' };
    expect(containerEventTypes({ before, after })).toEqual(['CONTAINER_STOPPED_EVENT']);
    expect(containerEventTypes({ before: after, after: { ...after, unknown: true } })).toEqual([]);
  });

  test('the stream sends events until the client goes away, then ends with its reason', async () => {
    const q = new EventQueue<ContainerEventResponse>({ bufferSize: 10, holdMs: 0 });
    const controller = new AbortController();
    const sent: string[] = [];
    const call = { signal: controller.signal, log } as CallContext;
    const done = streamContainerEvents(q, { write: async (e) => void sent.push(e.container_id!) }, call);
    q.publish({ container_id: 'a' });
    q.publish({ container_id: 'b' });
    await new Promise((r) => setImmediate(r));
    controller.abort(new NodeletError('Cancelled', 'GetContainerEvents was cancelled'));
    await expect(done).rejects.toThrow('cancelled');
    expect(sent).toEqual(['a', 'b']);
    expect(q.subscriberCount).toBe(0);
  });

  test('a client that stops reading is dropped with RESOURCE_EXHAUSTED, not buffered without end', async () => {
    const q = new EventQueue<ContainerEventResponse>({ bufferSize: 5, holdMs: 0 });
    const call = { signal: new AbortController().signal, log } as CallContext;
    const stuck = new Promise<void>(() => undefined);
    const done = streamContainerEvents(q, { write: () => stuck }, call);
    for (let i = 0; i < 10; i++) q.publish({ container_id: `c${i}` });
    const err = await done.catch((e: unknown) => e);
    expect((err as NodeletError).kind).toBe('ResourceExhausted');
  });
});
