// The driver on a cgroup2 tree. On this project's machines that is the hybrid host's unified
// mount, which offers only hugetlb (the other controllers are bound to v1): what can be shown
// there is shown here — create, join, cpu.stat, PSI, hugetlb limits and their update,
// cgroup.kill, refusals and undo. The file logic for the other v2 controllers is tested on a
// temp dir in src/runtime/cgroups/manager.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { createCgroupManager, detectCgroups, type CgroupManager } from '../../../src/runtime/cgroups';
import { CGROUP_ROOT, Processes, uniqueParent, waitFor } from './support';

const unified = fs.existsSync(path.join(CGROUP_ROOT, 'cgroup.controllers'))
  ? CGROUP_ROOT
  : path.join(CGROUP_ROOT, 'unified');
const haveV2 = fs.existsSync(path.join(unified, 'cgroup.controllers'));
const rootSubtree = path.join(unified, 'cgroup.subtree_control');

(haveV2 ? describe : describe.skip)('cgroups on a cgroup2 tree', () => {
  const system = haveV2 ? detectCgroups(unified) : undefined;
  let manager: CgroupManager;
  let parent: string;
  let enabledBefore: string[];
  const procs = new Processes();

  beforeAll(() => {
    enabledBefore = fs.readFileSync(rootSubtree, 'utf8').split(/\s+/).filter(Boolean);
  });

  afterAll(() => {
    // The driver enables controllers at the tree's root as runc does; give the host back as it was.
    const now = fs.readFileSync(rootSubtree, 'utf8').split(/\s+/).filter(Boolean);
    const added = now.filter((c) => !enabledBefore.includes(c));
    if (added.length > 0) fs.writeFileSync(rootSubtree, added.map((c) => `-${c}`).join(' '));
  });

  beforeEach(() => {
    manager = createCgroupManager(system!);
    parent = uniqueParent();
  });

  afterEach(async () => {
    await procs.killAll();
    await manager.destroy(parent, { force: true });
    expect(fs.existsSync(path.join(unified, parent))).toBe(false);
  });

  test('is seen as a v2 system with the controllers its root offers', () => {
    expect(system?.mode).toBe('v2');
    expect(system?.v2Controllers).toEqual(
      fs.readFileSync(path.join(unified, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean),
    );
  });

  test('a joined process is listed in the cgroup and its CPU time and pressure are read', async () => {
    const cg = `${parent}/c1`;
    manager.create(cg);
    const p = procs.start('while :; do :; done');
    manager.join(cg, p.pid);
    p.go();
    expect(manager.pids(cg)).toEqual([p.pid]);
    await waitFor(() => manager.stats(cg).cpu.usageNs > 50_000_000, 5_000, 'CPU usage in cpu.stat');
    const s = manager.stats(cg);
    if (system!.psi) expect(s.psi?.cpu?.some.total).toBeGreaterThanOrEqual(0);
  });

  test('hugepage limits are set and updated where hugetlb is offered', () => {
    if (!system!.v2Controllers.includes('hugetlb') || system!.hugepageSizes.length === 0) return;
    const size = system!.hugepageSizes[0];
    const cg = `${parent}/huge`;
    manager.create(cg, { hugepageLimits: [{ pageSize: size, limit: 4 * 1024 * 1024 * 1024 }] });
    const file = path.join(unified, cg, `hugetlb.${size}.max`);
    const pageBytes = Number(/^\d+/.exec(size)![0]) * (size.endsWith('GB') ? 2 ** 30 : 2 ** 20);
    expect(Number(fs.readFileSync(file, 'utf8'))).toBe(Math.floor((4 * 2 ** 30) / pageBytes) * pageBytes);
    manager.update(cg, { hugepageLimits: [{ pageSize: size, limit: pageBytes }] });
    expect(Number(fs.readFileSync(file, 'utf8'))).toBe(pageBytes);
  });

  test('a limit for a controller the tree lacks fails clearly and leaves nothing behind', () => {
    if (system!.v2Controllers.includes('pids')) return;
    expect(() => manager.create(`${parent}/nopids`, { pids: { limit: 20 } })).toThrow(
      /Cannot set 'pids.max' of cgroup '.*\/nopids' to '20'/,
    );
    expect(fs.existsSync(path.join(unified, parent))).toBe(false);
  });

  test('force destroy kills every process of the cgroup through cgroup.kill', async () => {
    const cg = `${parent}/kill`;
    manager.create(cg);
    const p = procs.start('sleep 30 & sleep 30 & wait');
    manager.join(cg, p.pid);
    p.go();
    await waitFor(() => manager.pids(cg).length === 3, 5_000, 'three processes');
    await expect(manager.destroy(cg)).rejects.toThrow(/3 processes remain/);
    await manager.destroy(cg, { force: true });
    expect((await p.exited).signal).toBe('SIGKILL');
    expect(manager.exists(cg)).toBe(false);
  });

  test('oomKilled is false where the tree has no memory controller to count kills', () => {
    manager.create(`${parent}/m`);
    expect(manager.oomKilled(`${parent}/m`)).toBe(false);
  });
});
