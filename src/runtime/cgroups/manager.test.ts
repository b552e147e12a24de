import fs from 'node:fs';
import { detectCgroups } from './detect';
import { makeFakeRoot, type FakeRoot } from './fake_root.testutil';
import { createCgroupManager } from './manager';
import type { DeviceRule } from '../spec/types';

/** A device filter attacher that records what it was asked, and fails when told to. */
function recordingFilter(fail?: Error) {
  const attached: { dir: string; rules: readonly DeviceRule[] }[] = [];
  return {
    attached,
    attach(dir: string, rules: readonly DeviceRule[]) {
      if (fail) throw fail;
      attached.push({ dir, rules });
    },
  };
}

const RULES: DeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
];

describe('the cgroup manager on a fake v1/hybrid root', () => {
  let fake: FakeRoot;
  beforeEach(() => (fake = makeFakeRoot('hybrid')));
  afterEach(() => fake.remove());
  const manager = () => createCgroupManager(detectCgroups(fake.root, { hugepagesDir: fake.hugepagesDir }));

  it('creates the cgroup in every hierarchy and writes the limits to the right files', () => {
    manager().create('/nodelet/pod1/c1', {
      cpu: { shares: 256, quota: 20000, period: 100000 },
      memory: { limit: 33554432, swap: 33554432 },
      pids: { limit: 20 },
      hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }],
    });
    for (const h of ['cpu', 'cpuacct', 'memory', 'pids', 'freezer', 'unified']) {
      expect(fake.exists(`${h}/nodelet/pod1/c1`)).toBe(true);
    }
    expect(fake.exists('systemd/nodelet')).toBe(false);
    expect(fake.read('cpu/nodelet/pod1/c1/cpu.shares')).toBe('256');
    expect(fake.read('cpu/nodelet/pod1/c1/cpu.cfs_quota_us')).toBe('20000');
    expect(fake.read('memory/nodelet/pod1/c1/memory.limit_in_bytes')).toBe('33554432');
    expect(fake.read('memory/nodelet/pod1/c1/memory.memsw.limit_in_bytes')).toBe('33554432');
    expect(fake.read('pids/nodelet/pod1/c1/pids.max')).toBe('20');
    expect(fake.read('unified/nodelet/pod1/c1/hugetlb.2MB.max')).toBe('2097152');
  });

  it('enables hugetlb down the cgroup2 side only when a hugepage limit needs it', () => {
    manager().create('/nodelet/a');
    expect(fake.read('unified/cgroup.subtree_control')).toBe('');
    manager().create('/nodelet/b', { hugepageLimits: [{ pageSize: '2MB', limit: 0 }] });
    expect(fake.read('unified/cgroup.subtree_control')).toBe('+hugetlb');
    expect(fake.read('unified/nodelet/cgroup.subtree_control')).toBe('+hugetlb');
  });

  it('gives a new cpuset cgroup its parent’s cpus and mems', () => {
    manager().create('/nodelet/p');
    expect(fake.read('cpuset/nodelet/cpuset.cpus')).toBe('0-1');
    expect(fake.read('cpuset/nodelet/p/cpuset.mems')).toBe('0');
  });

  it('removes the directories it made when a limit cannot be applied', () => {
    // The fake cannot refuse a value, so make the first write after mkdir fail: a directory
    // where the cgroup2 root's subtree_control file should be.
    fs.rmSync(`${fake.root}/unified/cgroup.subtree_control`);
    fs.mkdirSync(`${fake.root}/unified/cgroup.subtree_control`);
    expect(() =>
      manager().create('/nodelet/bad', { hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }),
    ).toThrow(/Cannot read '.*cgroup.subtree_control': EISDIR/);
    expect(fake.exists('memory/nodelet')).toBe(false);
    expect(fake.exists('unified/nodelet')).toBe(false);
  });

  it('updates a live cgroup and refuses one that does not exist', () => {
    const m = manager();
    m.create('/nodelet/u', { memory: { limit: 64, swap: 64 } });
    m.update('/nodelet/u', { memory: { limit: 128, swap: 128 }, cpu: { quota: 50000 } });
    expect(fake.read('memory/nodelet/u/memory.limit_in_bytes')).toBe('128');
    expect(fake.read('cpu/nodelet/u/cpu.cfs_quota_us')).toBe('50000');
    expect(() => m.update('/nodelet/missing', { pids: { limit: 1 } })).toThrow(
      /Cannot find cgroup '\/nodelet\/missing'/,
    );
  });

  it('refuses paths that would reach a hierarchy root or leave it', () => {
    expect(() => manager().create('/')).toThrow(/hierarchy's root/);
    expect(() => manager().create('/a/../../etc')).toThrow(/not allowed/);
  });

  it('lists child cgroups over all hierarchies', () => {
    const m = manager();
    m.create('/nodelet/x');
    m.create('/nodelet/y');
    expect(m.listUnder('/nodelet')).toEqual(['/nodelet/x', '/nodelet/y']);
    expect(m.listUnder('/none')).toEqual([]);
  });

  it('reads the OOM kill counter of memory.oom_control', () => {
    const m = manager();
    m.create('/nodelet/o');
    expect(m.oomKilled('/nodelet/o')).toBe(false);
    fake.write('memory/nodelet/o/memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
    expect(m.oomKilled('/nodelet/o')).toBe(true);
  });

  it('reads v1 stats, with working set as usage minus inactive file', () => {
    const m = manager();
    m.create('/nodelet/s');
    fake.write('cpuacct/nodelet/s/cpuacct.usage', '5000000000\n');
    fake.write('cpuacct/nodelet/s/cpuacct.stat', 'user 300\nsystem 200\n');
    fake.write('memory/nodelet/s/memory.usage_in_bytes', '1000000\n');
    fake.write('memory/nodelet/s/memory.limit_in_bytes', '9223372036854771712\n');
    fake.write(
      'memory/nodelet/s/memory.stat',
      'rss 1\ntotal_rss 400000\ntotal_cache 600000\ntotal_inactive_file 250000\ntotal_pgfault 7\ntotal_pgmajfault 2\n',
    );
    fake.write('pids/nodelet/s/pids.current', '3\n');
    fake.write(
      'blkio/nodelet/s/blkio.throttle.io_service_bytes_recursive',
      '8:0 Read 10\n8:0 Write 20\nTotal 30\n',
    );
    fake.write('blkio/nodelet/s/blkio.throttle.io_serviced_recursive', '8:0 Read 1\n8:0 Write 2\nTotal 3\n');
    fake.write(
      'unified/nodelet/s/memory.pressure',
      'some avg10=1.50 avg60=0.00 avg300=0.00 total=42\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n',
    );
    const s = m.stats('/nodelet/s');
    expect(s.cpu).toMatchObject({ usageNs: 5e9, userNs: 3e9, systemNs: 2e9 });
    expect(s.memory).toMatchObject({
      usageBytes: 1000000,
      workingSetBytes: 750000,
      rssBytes: 400000,
      pageFaults: 7,
      majorPageFaults: 2,
      limitBytes: undefined,
    });
    expect(s.pids).toEqual({ current: 3 });
    expect(s.io).toEqual({ readBytes: 10, writeBytes: 20, readOps: 1, writeOps: 2 });
    expect(s.psi?.memory).toEqual({
      some: { avg10: 1.5, avg60: 0, avg300: 0, total: 42 },
      full: { avg10: 0, avg60: 0, avg300: 0, total: 7 },
    });
  });

  it('leaves the device rules to the v1 devices controller and attaches no BPF program', () => {
    const filter = recordingFilter();
    const m = createCgroupManager(detectCgroups(fake.root, { hugepagesDir: fake.hugepagesDir }), {
      deviceFilter: filter,
    });
    m.create('/nodelet/dev', { devices: RULES });
    expect(fake.read('devices/nodelet/dev/devices.allow')).toBe('c 1:3 rwm');
    expect(filter.attached).toEqual([]);
  });
});

describe('the cgroup manager on a fake v2 root', () => {
  let fake: FakeRoot;
  beforeEach(() => (fake = makeFakeRoot('v2')));
  afterEach(() => fake.remove());
  const manager = () => createCgroupManager(detectCgroups(fake.root, { hugepagesDir: fake.hugepagesDir }));

  it('enables the controllers at each level above the container and writes v2 files', () => {
    manager().create('/kubepods/burstable/pod1/c1', {
      cpu: { shares: 1024, quota: 20000, period: 100000 },
      memory: { limit: 64, swap: 64 },
      pids: { limit: 20 },
    });
    expect(fake.read('cgroup.subtree_control')).toBe('+cpu +cpuset +memory +pids +io +hugetlb');
    expect(fake.read('kubepods/burstable/pod1/cgroup.subtree_control')).toContain('+memory');
    expect(fake.exists('kubepods/burstable/pod1/c1/cgroup.subtree_control')).toBe(false);
    expect(fake.read('kubepods/burstable/pod1/c1/cpu.weight')).toBe('39');
    expect(fake.read('kubepods/burstable/pod1/c1/cpu.max')).toBe('20000 100000');
    expect(fake.read('kubepods/burstable/pod1/c1/memory.max')).toBe('64');
    expect(fake.exists('kubepods/burstable/pod1/c1/memory.swap.max')).toBe(false);
    expect(fake.read('kubepods/burstable/pod1/c1/pids.max')).toBe('20');
  });

  it('sets memory.swap.max to the swap alone where the kernel accounts swap', () => {
    const m = manager();
    m.create('/n/s');
    fake.write('n/s/memory.swap.max', 'max\n');
    m.update('/n/s', { memory: { limit: 64, swap: 96 } });
    expect(fake.read('n/s/memory.swap.max')).toBe('32');
    expect(fake.read('n/s/memory.max')).toBe('64');
  });

  it('reads the OOM kill counter of memory.events and v2 stats', () => {
    const m = manager();
    m.create('/n/c');
    fake.write('n/c/memory.events', 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    fake.write(
      'n/c/cpu.stat',
      'usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_throttled 4\nthrottled_usec 10\n',
    );
    fake.write('n/c/memory.current', '5000\n');
    fake.write('n/c/memory.max', 'max\n');
    fake.write('n/c/memory.stat', 'anon 3000\nfile 2000\ninactive_file 1000\npgfault 9\npgmajfault 1\n');
    fake.write('n/c/io.stat', '8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n');
    expect(m.oomKilled('/n/c')).toBe(true);
    const s = m.stats('/n/c');
    expect(s.cpu).toEqual({
      usageNs: 2e6,
      userNs: 1.5e6,
      systemNs: 5e5,
      throttledPeriods: 4,
      throttledNs: 1e4,
    });
    expect(s.memory).toMatchObject({
      usageBytes: 5000,
      workingSetBytes: 4000,
      rssBytes: 3000,
      limitBytes: undefined,
    });
    expect(s.io).toEqual({ readBytes: 100, writeBytes: 200, readOps: 1, writeOps: 2 });
  });

  it('attaches the device rules as a BPF program to the container’s directory', () => {
    const filter = recordingFilter();
    const m = createCgroupManager(detectCgroups(fake.root), { deviceFilter: filter });
    m.create('/n/pod', {});
    m.create('/n/pod/c', { devices: RULES });
    expect(filter.attached).toEqual([{ dir: `${fake.root}/n/pod/c`, rules: RULES }]);
  });

  it('removes the cgroup it made when the device program cannot be attached', () => {
    const filter = recordingFilter(new Error('Cannot bpf(PROG_LOAD): Operation not permitted (EPERM)'));
    const m = createCgroupManager(detectCgroups(fake.root), { deviceFilter: filter });
    m.create('/n', {});
    expect(() => m.create('/n/c', { devices: RULES })).toThrow(
      /Cannot attach the device allow-list to cgroup '\/n\/c': Cannot bpf\(PROG_LOAD\).*EPERM/,
    );
    expect(fake.exists('n/c')).toBe(false);
  });
});
