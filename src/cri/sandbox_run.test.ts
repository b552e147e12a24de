// What RunPodSandbox asks its host to make (pins, the pod's PID 1, the /dev/shm tmpfs) and undo,
// against a recording CriHost and a fake network: nothing is pinned or mounted, so these run
// without root. test/integration/cri runs the same RPC on the real kernel.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { RunPodSandboxRequest__Output } from '../gen/runtime/v1/RunPodSandboxRequest';
import type { NamespaceType } from '../runtime';
import { MNT_DETACH, MS_NODEV, MS_NOEXEC, MS_NOSUID } from '../runtime/sys';
import type { CriContext } from './context';
import type { CriHost } from './host';
import type { CallContext } from './rpc';
import { runPodSandbox } from './sandbox_run';
import { NameIndex, RecordStore, type SandboxRecord } from './store';

const log = pino({ level: 'silent' });
let tmp: string;
beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-podrun-'))));
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Step = [string, ...unknown[]];

function recordingHost(steps: Step[]): CriHost {
  return {
    hostname: () => 'node-1',
    pinNamespaces: (runDir, podId, types: NamespaceType[]) => {
      steps.push(['pin', types]);
      return Object.fromEntries(types.map((t) => [t, path.join(runDir, 'ns', podId, t)]));
    },
    unpinNamespaces: () => void steps.push(['unpin']),
    startPidNamespaceInit: async (runDir, podId) => {
      steps.push(['pid init']);
      const child = { unref: () => undefined, kill: () => steps.push(['kill pid init']) };
      return { child, pid: 4242, path: path.join(runDir, 'ns', podId, 'pid') } as never;
    },
    mount: (...args) => void steps.push(['mount', ...args]),
    umount: (...args) => void steps.push(['umount', ...args]),
  } as Partial<CriHost> as CriHost;
}

function context(steps: Step[], network: { fail?: boolean } = {}): CriContext {
  const sandboxes = new RecordStore<SandboxRecord>(path.join(tmp, 'records'), 'pod sandbox', 1);
  sandboxes.load();
  return {
    stateDir: path.join(tmp, 'state'),
    runDir: path.join(tmp, 'run'),
    log,
    sandboxes,
    containers: { list: () => [] },
    names: new NameIndex(),
    network: {
      setUp: async () => {
        steps.push(['network up']);
        if (network.fail) throw new Error('CNI ADD failed');
        return { ips: ['10.88.0.5'] };
      },
      tearDown: async () => void steps.push(['network down']),
    },
    stats: { track: () => undefined },
    defaultCgroupParent: '/nodelet-test',
    host: recordingHost(steps),
  } as unknown as CriContext;
}

const call: CallContext = { signal: new AbortController().signal, log };

function request(ns: { network?: string; ipc?: string; pid?: string } = {}): RunPodSandboxRequest__Output {
  return {
    config: {
      metadata: { name: 'web', namespace: 'default', uid: 'u1', attempt: 0 },
      hostname: 'web',
      log_directory: '',
      dns_config: null,
      port_mappings: [],
      labels: {},
      annotations: {},
      linux: {
        cgroup_parent: '',
        sysctls: {},
        security_context: {
          namespace_options: {
            network: 'POD',
            ipc: 'POD',
            pid: 'CONTAINER',
            target_id: '',
            userns_options: null,
            ...ns,
          },
        },
      },
      windows: null,
    },
    runtime_handler: '',
  } as unknown as RunPodSandboxRequest__Output;
}

describe('runPodSandbox', () => {
  test('pins network, UTS and IPC, and mounts a 64 MiB tmpfs as the pod /dev/shm', async () => {
    const steps: Step[] = [];
    const ctx = context(steps);
    const { pod_sandbox_id: id } = await runPodSandbox(ctx, request(), call);
    const shm = path.join(ctx.runDir, 'sandboxes', id!, 'shm');
    expect(steps).toEqual([
      ['pin', ['network', 'uts', 'ipc']],
      ['mount', 'shm', shm, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, 'mode=1777,size=65536k'],
      ['network up'],
    ]);
    expect(ctx.sandboxes.get(id!)).toMatchObject({
      shmPath: shm,
      hostIpc: false,
      hostNetwork: false,
      ips: ['10.88.0.5'],
    });
    expect(fs.statSync(shm).isDirectory()).toBe(true);
  });

  test("a pod on the node's IPC gets no /dev/shm of its own, and one on the node's network no network", async () => {
    const steps: Step[] = [];
    const ctx = context(steps);
    const { pod_sandbox_id: id } = await runPodSandbox(ctx, request({ network: 'NODE', ipc: 'NODE' }), call);
    expect(steps).toEqual([['pin', []]]);
    expect(ctx.sandboxes.get(id!)).toMatchObject({ shmPath: undefined, namespaces: {}, ips: [] });
    expect(fs.readFileSync(path.join(ctx.stateDir, 'sandboxes', id!, 'hostname'), 'utf8')).toBe('node-1\n');
  });

  test('a pod sharing one PID namespace starts its PID 1 and records that namespace', async () => {
    const steps: Step[] = [];
    const ctx = context(steps);
    const { pod_sandbox_id: id } = await runPodSandbox(ctx, request({ pid: 'POD' }), call);
    expect(steps.map((s) => s[0])).toEqual(['pin', 'pid init', 'mount', 'network up']);
    expect(ctx.sandboxes.get(id!)).toMatchObject({
      pidMode: 'pod',
      pidInit: 4242,
      namespaces: { pid: path.join(ctx.runDir, 'ns', id!, 'pid') },
    });
  });

  test('a failed network setup undoes the rest in reverse: /dev/shm unmounted, PID 1 killed, pins removed', async () => {
    const steps: Step[] = [];
    const ctx = context(steps, { fail: true });
    await expect(runPodSandbox(ctx, request({ pid: 'POD' }), call)).rejects.toThrow('CNI ADD failed');
    const shm = steps.find((s) => s[0] === 'mount')![2];
    expect(steps.slice(4)).toEqual([['umount', shm, MNT_DETACH], ['kill pid init'], ['unpin']]);
    expect(fs.readdirSync(path.join(ctx.runDir, 'sandboxes'))).toEqual([]);
    expect(fs.readdirSync(path.join(ctx.stateDir, 'sandboxes'))).toEqual([]);
    expect(ctx.sandboxes.list()).toEqual([]);
    // The name is free again: a retry is not refused as a duplicate.
    expect(() => ctx.names.reserve('web_default_u1_0', 'retry')).not.toThrow();
  });
});
