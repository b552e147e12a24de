import { planWrites } from './plan';
import type { CgroupSystem } from './types';

const base: CgroupSystem = {
  mode: 'v1',
  root: '/sys/fs/cgroup',
  v1: { cpu: '/c/cpu', memory: '/c/memory', pids: '/c/pids', cpuset: '/c/cpuset' },
  v2Controllers: [],
  swapAccounting: true,
  hugepageSizes: ['2MB'],
  psi: false,
};
const v2: CgroupSystem = {
  ...base,
  mode: 'v2',
  v1: {},
  unified: '/c',
  v2Controllers: ['cpu', 'memory', 'pids', 'hugetlb', 'cpuset'],
};
const files = (ws: { file: string; value: string }[]) => ws.map((w) => `${w.file}=${w.value}`);

describe('planWrites on cgroup v1', () => {
  it('writes cpu shares, period, quota, cpuset and pids to their v1 files', () => {
    const ws = planWrites(base, {
      cpu: { shares: 512, period: 100000, quota: 20000, cpus: '0' },
      pids: { limit: 20 },
    });
    expect(files(ws)).toEqual([
      'cpu.shares=512',
      'cpu.cfs_period_us=100000',
      'cpu.cfs_quota_us=20000',
      'cpuset.cpus=0',
      'pids.max=20',
    ]);
  });

  it('lowers memory before memsw, so the kernel never sees memory above memsw', () => {
    const ws = planWrites(base, { memory: { limit: 32, swap: 32 } }, { currentMemoryLimit: 64 });
    expect(files(ws)).toEqual(['memory.limit_in_bytes=32', 'memory.memsw.limit_in_bytes=32']);
  });

  it('raises memsw before memory', () => {
    const ws = planWrites(base, { memory: { limit: 128, swap: 128 } }, { currentMemoryLimit: 64 });
    expect(files(ws)).toEqual(['memory.memsw.limit_in_bytes=128', 'memory.limit_in_bytes=128']);
  });

  it('lifts memsw with memory when memory becomes unlimited', () => {
    const ws = planWrites(base, { memory: { limit: -1 } }, { currentMemoryLimit: 64 });
    expect(files(ws)).toEqual(['memory.memsw.limit_in_bytes=-1', 'memory.limit_in_bytes=-1']);
  });

  it('skips memsw when the kernel has no swap accounting', () => {
    const ws = planWrites({ ...base, swapAccounting: false }, { memory: { limit: 32, swap: 32 } });
    expect(files(ws)).toEqual(['memory.limit_in_bytes=32']);
  });

  it('puts hugepage limits on the cgroup2 side of a hybrid host that has hugetlb only there', () => {
    const hybrid: CgroupSystem = {
      ...base,
      mode: 'hybrid',
      unified: '/c/unified',
      v2Controllers: ['hugetlb'],
    };
    const ws = planWrites(hybrid, { hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] });
    expect(ws).toEqual([{ tree: 'v2', controller: 'hugetlb', file: 'hugetlb.2MB.max', value: '4194304' }]);
  });

  it('refuses a page size the kernel does not have', () => {
    expect(() => planWrites(base, { hugepageLimits: [{ pageSize: '1GB', limit: 1 }] })).toThrow(
      /the kernel has 2MB/,
    );
  });

  it('refuses unified keys on a host without a cgroup2 tree', () => {
    expect(() => planWrites(base, { unified: { 'memory.high': '1' } })).toThrow(/no cgroup v2 tree/);
  });
});

describe('planWrites on cgroup v2', () => {
  it('converts shares to weight, quota and period to cpu.max, memsw to swap alone', () => {
    const ws = planWrites(v2, {
      cpu: { shares: 1024, quota: 20000, period: 100000 },
      memory: { limit: 64, swap: 96 },
      pids: { limit: 0 },
      hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }],
    });
    expect(files(ws)).toEqual([
      'cpu.weight=39',
      'cpu.max=20000 100000',
      'memory.swap.max=32',
      'memory.max=64',
      'pids.max=max',
      'hugetlb.2MB.max=2097152',
    ]);
  });

  it('writes an unlimited quota as max', () => {
    expect(files(planWrites(v2, { cpu: { quota: -1, period: 50000 } }))).toEqual(['cpu.max=max 50000']);
  });

  it('writes unified keys last, as given', () => {
    const ws = planWrites(v2, { memory: { limit: 64 }, unified: { 'memory.high': '60' } });
    expect(files(ws)).toEqual(['memory.max=64', 'memory.high=60']);
  });

  it('refuses unified keys that are not controller files', () => {
    expect(() => planWrites(v2, { unified: { '../x': '1' } })).toThrow(/not a controller file/);
    expect(() => planWrites(v2, { unified: { 'cgroup.procs': '1' } })).toThrow(/not a controller file/);
  });
});

describe('device rules', () => {
  test('go to devices.deny and devices.allow in order on v1, as cgroup lines', () => {
    const system: CgroupSystem = { ...base, v1: { ...base.v1, devices: '/c/devices' } };
    const writes = planWrites(system, {
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        { allow: true, type: 'c', major: 136, access: 'rwm' },
      ],
    });
    expect(writes.map((w) => [w.file, w.value])).toEqual([
      ['devices.deny', 'a *:* rwm'],
      ['devices.allow', 'c 1:3 rwm'],
      ['devices.allow', 'c 136:* rwm'],
    ]);
  });

  test('are left out where no devices hierarchy exists (cgroup v2 needs a BPF program instead)', () => {
    expect(planWrites(base, { devices: [{ allow: false, access: 'rwm' }] })).toEqual([]);
  });
});
