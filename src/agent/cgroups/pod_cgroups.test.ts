// The node's pod cgroups written through the runtime's cgroup driver on a temp dir laid out like
// /sys/fs/cgroup: a v1 hybrid host (this project's machines) and a pure cgroup v2 host.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createCgroupManager, detectCgroups, type CgroupManager } from '../../runtime/cgroups';
import { makeFakeRoot, type FakeRoot } from '../../runtime/cgroups/fake_root.testutil';
import type { Container, Pod } from '../pod_spec';
import { hostPidCapacity, startPodCgroups, type PodCgroups } from './pod_cgroups';

const log = pino({ level: 'silent' });
const Mi = 2 ** 20;

const pod = (uid: string, resources?: Container['resources']): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: uid, uid },
  spec: { containers: [{ name: 'a', image: 'busybox', ...(resources && { resources }) }] },
});
const guaranteed = pod('g-1', {
  requests: { cpu: '250m', memory: '64Mi' },
  limits: { cpu: '250m', memory: '64Mi' },
});
const burstable = pod('b-1', { requests: { cpu: '100m', memory: '32Mi' }, limits: { memory: '128Mi' } });
const bestEffort = pod('e-1');

let fake: FakeRoot;
let cgroups: PodCgroups | undefined;
let active: Pod[];

/** The real driver, except that removal deletes the fake's directories (its files are plain files). */
function fakeManager(): CgroupManager {
  const m = createCgroupManager(detectCgroups(fake.root, { hugepagesDir: fake.hugepagesDir }));
  return {
    ...m,
    async destroy(cgroup) {
      for (const dir of fs.readdirSync(fake.root))
        fs.rmSync(path.join(fake.root, dir, cgroup), { recursive: true, force: true });
      fs.rmSync(path.join(fake.root, cgroup), { recursive: true, force: true });
    },
  };
}

function start(extra: { podPidsLimit?: number } = {}): PodCgroups {
  cgroups = startPodCgroups({
    cgroupRoot: '/test-root',
    nodeConfig: { cpuShares: 1536, memoryLimit: 1024 * Mi, pidsLimit: 4096 },
    activePods: () => active,
    log,
    manager: fakeManager(),
    ...extra,
  });
  return cgroups;
}

const read = (rel: string) => fake.read(rel).trim();

beforeEach(() => (active = []));
afterEach(() => {
  cgroups?.stop();
  cgroups = undefined;
  fake?.remove(); // a removed root is removed again harmlessly
});

describe('on a cgroup v1 hybrid host', () => {
  beforeEach(() => (fake = makeFakeRoot('hybrid')));

  test('kubepods gets the node allocatable and the QoS cgroups are made below it at start', () => {
    start();
    expect(read('cpu/test-root/kubepods/cpu.shares')).toBe('1536');
    expect(read('memory/test-root/kubepods/memory.limit_in_bytes')).toBe(String(1024 * Mi));
    expect(read('pids/test-root/kubepods/pids.max')).toBe('4096');
    expect(read('cpu/test-root/kubepods/besteffort/cpu.shares')).toBe('2');
    expect(fake.exists('memory/test-root/kubepods/burstable')).toBe(true);
    // the cgroup2 side of a hybrid host gets the directories too
    expect(fake.exists('unified/test-root/kubepods/besteffort')).toBe(true);
  });

  test('a Guaranteed pod cgroup sits under kubepods with its shares, quota and memory limit', () => {
    const c = start();
    active = [guaranteed];
    c.ensurePod(guaranteed);
    expect(c.pathOf('g-1', 'Guaranteed')).toBe('/test-root/kubepods/podg-1');
    expect(read('cpu/test-root/kubepods/podg-1/cpu.shares')).toBe('256');
    expect(read('cpu/test-root/kubepods/podg-1/cpu.cfs_quota_us')).toBe('25000');
    expect(read('cpu/test-root/kubepods/podg-1/cpu.cfs_period_us')).toBe('100000');
    expect(read('memory/test-root/kubepods/podg-1/memory.limit_in_bytes')).toBe(String(64 * Mi));
  });

  test('the burstable shares follow the Burstable pods as they come, change and go', async () => {
    const c = start();
    active = [burstable, bestEffort];
    c.ensurePod(burstable);
    c.ensurePod(bestEffort);
    expect(read('cpu/test-root/kubepods/burstable/cpu.shares')).toBe('102');
    expect(read('cpu/test-root/kubepods/burstable/podb-1/cpu.shares')).toBe('102');
    expect(read('memory/test-root/kubepods/burstable/podb-1/memory.limit_in_bytes')).toBe(String(128 * Mi));
    expect(fake.exists('cpu/test-root/kubepods/burstable/podb-1/cpu.cfs_quota_us')).toBe(false);
    expect(read('cpu/test-root/kubepods/besteffort/pode-1/cpu.shares')).toBe('2');

    // an in-place resize: the pod asks for more cpu and memory
    const resized = pod('b-1', { requests: { cpu: '500m', memory: '32Mi' }, limits: { memory: '256Mi' } });
    active = [resized, bestEffort];
    c.updatePodCgroup(resized);
    expect(read('cpu/test-root/kubepods/burstable/podb-1/cpu.shares')).toBe('512');
    expect(read('memory/test-root/kubepods/burstable/podb-1/memory.limit_in_bytes')).toBe(String(256 * Mi));
    expect(read('cpu/test-root/kubepods/burstable/cpu.shares')).toBe('512');

    active = [bestEffort];
    await c.removePod('b-1', 'Burstable');
    expect(fake.exists('cpu/test-root/kubepods/burstable/podb-1')).toBe(false);
    expect(read('cpu/test-root/kubepods/burstable/cpu.shares')).toBe('2');
  });

  test('an existing pod cgroup is left as it is by ensurePod', () => {
    const c = start();
    c.ensurePod(guaranteed);
    fake.write('cpu/test-root/kubepods/podg-1/cpu.shares', '999');
    c.ensurePod(guaranteed);
    expect(read('cpu/test-root/kubepods/podg-1/cpu.shares')).toBe('999');
  });

  test('podPidsLimit limits each pod cgroup', () => {
    start({ podPidsLimit: 300 }).ensurePod(bestEffort);
    expect(read('pids/test-root/kubepods/besteffort/pode-1/pids.max')).toBe('300');
  });

  test('the sweep removes the pod cgroups of pods the node no longer has, and nothing else', async () => {
    const c = start();
    for (const p of [guaranteed, burstable, bestEffort]) c.ensurePod(p);
    const removed = await c.sweepOrphans((uid) => uid === 'b-1');
    expect(removed.sort()).toEqual(['/test-root/kubepods/besteffort/pode-1', '/test-root/kubepods/podg-1']);
    expect(fake.exists('cpu/test-root/kubepods/burstable/podb-1')).toBe(true);
    expect(fake.exists('cpu/test-root/kubepods/burstable')).toBe(true);
    expect(fake.exists('cpu/test-root/kubepods/besteffort')).toBe(true);
  });

  test('an agent restart leaves the burstable shares as they were until the pods are known', () => {
    start();
    fake.write('cpu/test-root/kubepods/burstable/cpu.shares', '700');
    cgroups!.stop();
    start();
    expect(read('cpu/test-root/kubepods/burstable/cpu.shares')).toBe('700');
  });
});

describe('on a cgroup v2 host', () => {
  beforeEach(() => (fake = makeFakeRoot('v2')));

  test('shares become cpu.weight as the kubelet converts them, limits cpu.max, memory.max and pids.max', () => {
    const c = start({ podPidsLimit: 500 });
    active = [guaranteed, burstable];
    c.ensurePod(guaranteed);
    c.ensurePod(burstable);
    c.ensurePod(bestEffort);
    // kubepods: 1536 shares → 1 + (1534 * 9999) / 262142 = 59
    expect(read('test-root/kubepods/cpu.weight')).toBe('59');
    expect(read('test-root/kubepods/memory.max')).toBe(String(1024 * Mi));
    expect(read('test-root/kubepods/pids.max')).toBe('4096');
    expect(read('test-root/kubepods/podg-1/cpu.weight')).toBe('10');
    expect(read('test-root/kubepods/podg-1/cpu.max')).toBe('25000 100000');
    expect(read('test-root/kubepods/podg-1/memory.max')).toBe(String(64 * Mi));
    expect(read('test-root/kubepods/podg-1/pids.max')).toBe('500');
    expect(read('test-root/kubepods/burstable/cpu.weight')).toBe('4');
    expect(read('test-root/kubepods/burstable/podb-1/memory.max')).toBe(String(128 * Mi));
    expect(fake.exists('test-root/kubepods/burstable/podb-1/cpu.max')).toBe(false);
    expect(read('test-root/kubepods/besteffort/cpu.weight')).toBe('1');
    expect(read('test-root/kubepods/besteffort/pode-1/cpu.weight')).toBe('1');
    // the controllers are handed down to where the files are written
    expect(read('test-root/kubepods/cgroup.subtree_control')).toMatch(/\+cpu\b/);
  });
});

test('the pid capacity is the lower of pid_max and threads-max', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pids-'));
  fs.writeFileSync(path.join(dir, 'pid_max'), '4194304\n');
  fs.writeFileSync(path.join(dir, 'threads-max'), '62000\n');
  expect(hostPidCapacity(dir)).toBe(62000);
  fs.rmSync(dir, { recursive: true });
});
