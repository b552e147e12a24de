// The cgroupfs driver on this machine's real hierarchies (v1 controllers plus a cgroup2 mount):
// limits the kernel enforces, stats it reports, OOM kills it records, and removal.
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import {
  createCgroupManager,
  detectCgroups,
  StatsCollector,
  type CgroupManager,
} from '../../../src/runtime/cgroups';
import { BUSYBOX, CGROUP_ROOT, leftovers, Processes, sleep, uniqueParent, waitFor } from './support';

const MiB = 1024 * 1024;
const system = detectCgroups(CGROUP_ROOT);
const v1Only = system.mode === 'v2' ? describe.skip : describe;

v1Only('cgroups on the host’s v1 hierarchies', () => {
  let manager: CgroupManager;
  let parent: string;
  const procs = new Processes();

  beforeEach(() => {
    manager = createCgroupManager(system);
    parent = uniqueParent();
  });

  afterEach(async () => {
    await procs.killAll();
    await manager.destroy(parent, { force: true });
    expect(leftovers(parent)).toEqual([]);
  });

  test('a process over its 32 MiB memory limit is OOM-killed and oomKilled says so', async () => {
    const cg = `${parent}/oom`;
    manager.create(cg, { memory: { limit: 32 * MiB, swap: 32 * MiB } });
    expect(manager.oomKilled(cg)).toBe(false);
    const p = procs.start(`exec ${BUSYBOX} dd if=/dev/zero of=/dev/null bs=64M count=1`);
    manager.join(cg, p.pid);
    p.go();
    expect(await p.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(manager.oomKilled(cg)).toBe(true);
    expect(manager.stats(cg).memory?.limitBytes).toBe(32 * MiB);
  });

  test('a process within its memory limit is not reported as OOM-killed', async () => {
    const cg = `${parent}/fits`;
    manager.create(cg, { memory: { limit: 64 * MiB } });
    const p = procs.start(`exec ${BUSYBOX} dd if=/dev/zero of=/dev/null bs=8M count=1`);
    manager.join(cg, p.pid);
    p.go();
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(manager.oomKilled(cg)).toBe(false);
  });

  test('a fork bomb stays within a pids limit of 20 and the host can still fork', async () => {
    const cg = `${parent}/bomb`;
    manager.create(cg, { pids: { limit: 20 } });
    const p = procs.start('f() { f | f & }; f; sleep 30');
    manager.join(cg, p.pid);
    p.go();
    const events = `${system.v1.pids}${cg}/pids.events`;
    await waitFor(
      () => /max [1-9]/.test(fs.readFileSync(events, 'utf8')),
      10_000,
      'the pids limit to be hit',
    );
    for (let i = 0; i < 5; i++) {
      expect(manager.stats(cg).pids?.current).toBeLessThanOrEqual(20);
      await sleep(50);
    }
    expect(spawnSync(BUSYBOX, ['true']).status).toBe(0);
    await manager.destroy(cg, { force: true });
    expect(leftovers(cg)).toEqual([]);
  });

  test('a CPU quota of 0.2 cores holds a busy loop to within 10% over 5 s', async () => {
    const cg = `${parent}/cpu`;
    // High shares so that other load on this 2-core machine cannot starve it below its quota.
    manager.create(cg, { cpu: { quota: 20_000, period: 100_000, shares: 262_144 } });
    const p = procs.start('while :; do :; done');
    manager.join(cg, p.pid);
    p.go();
    await sleep(300);
    // The stats collector derives usage_nano_cores from its last two samples.
    const collector = new StatsCollector(manager);
    collector.track('busy', { cgroup: cg });
    await collector.refresh();
    await sleep(5_000);
    await collector.refresh();
    const sample = collector.sample('busy');
    const cores = (sample?.cpu.usageNanoCores ?? 0) / 1e9;
    expect(cores).toBeGreaterThan(0.18);
    expect(cores).toBeLessThan(0.22);
    expect(sample?.cpu.throttledPeriods).toBeGreaterThan(0);
  }, 30_000);

  test('update changes the limits of a live cgroup', async () => {
    const cg = `${parent}/live`;
    manager.create(cg, { memory: { limit: 64 * MiB, swap: 64 * MiB }, pids: { limit: 20 } });
    const p = procs.start('sleep 30');
    manager.join(cg, p.pid);
    p.go();
    manager.update(cg, {
      memory: { limit: 128 * MiB, swap: 128 * MiB },
      pids: { limit: 5 },
      cpu: { shares: 512 },
    });
    expect(manager.stats(cg).memory?.limitBytes).toBe(128 * MiB);
    expect(fs.readFileSync(`${system.v1.pids}${cg}/pids.max`, 'utf8').trim()).toBe('5');
    manager.update(cg, { memory: { limit: 48 * MiB, swap: 48 * MiB } });
    expect(manager.stats(cg).memory?.limitBytes).toBe(48 * MiB);
    expect(fs.readFileSync(`${system.v1.cpu}${cg}/cpu.shares`, 'utf8').trim()).toBe('512');
  });

  test('stats report CPU, memory and pids of the processes in the cgroup, and PSI where the kernel has it', async () => {
    const cg = `${parent}/stats`;
    manager.create(cg);
    const p = procs.start(`${BUSYBOX} dd if=/dev/zero of=/dev/null bs=4M count=200; sleep 30`);
    manager.join(cg, p.pid);
    p.go();
    await waitFor(() => manager.stats(cg).cpu.usageNs > 0, 5_000, 'CPU usage');
    const s = manager.stats(cg);
    expect(s.memory?.usageBytes).toBeGreaterThan(0);
    expect(s.memory?.workingSetBytes).toBeLessThanOrEqual(s.memory?.usageBytes ?? 0);
    expect(s.pids?.current).toBeGreaterThanOrEqual(1);
    if (system.psi) expect(s.psi?.cpu?.some.total).toBeGreaterThanOrEqual(0);
  });

  test('destroy refuses while processes remain and force kills them', async () => {
    const cg = `${parent}/busy`;
    manager.create(cg);
    const p = procs.start('sleep 30');
    manager.join(cg, p.pid);
    p.go();
    await expect(manager.destroy(cg)).rejects.toThrow(/Cannot remove cgroup '.*\/busy': 1 processes remain/);
    expect(manager.exists(cg)).toBe(true);
    await manager.destroy(cg, { force: true });
    expect((await p.exited).signal).toBe('SIGKILL');
    expect(leftovers(cg)).toEqual([]);
    await manager.destroy(cg); // removing what is gone succeeds
  });

  test('cleanupOrphans removes the cgroups of unknown ids and keeps the known ones', async () => {
    manager.create(`${parent}/pod-a/ctr-1`);
    manager.create(`${parent}/pod-a/ctr-lost`);
    manager.create(`${parent}/pod-lost/ctr-2`);
    const p = procs.start('sleep 30');
    manager.join(`${parent}/pod-lost/ctr-2`, p.pid);
    p.go();
    const removed = await manager.cleanupOrphans(parent, ['pod-a', 'ctr-1', 'ctr-2']);
    expect(removed.sort()).toEqual([`${parent}/pod-a/ctr-lost`, `${parent}/pod-lost`]);
    expect(manager.listUnder(parent)).toEqual([`${parent}/pod-a`]);
    expect(manager.listUnder(`${parent}/pod-a`)).toEqual([`${parent}/pod-a/ctr-1`]);
    expect((await p.exited).signal).toBe('SIGKILL');
  });

  test('cleanupOrphans judges only the levels and names it is given', async () => {
    manager.create(`${parent}/pod-a/ctr-1/its-own`);
    manager.create(`${parent}/pod-a/ctr-lost`);
    manager.create(`${parent}/foreign`);
    const removed = await manager.cleanupOrphans(parent, ['pod-a', 'ctr-1'], {
      depth: 2,
      judged: (name) => name !== 'foreign',
    });
    expect(removed).toEqual([`${parent}/pod-a/ctr-lost`]);
    expect(manager.listUnder(parent)).toEqual([`${parent}/foreign`, `${parent}/pod-a`]);
    expect(manager.listUnder(`${parent}/pod-a/ctr-1`)).toEqual([`${parent}/pod-a/ctr-1/its-own`]);
  });
});
