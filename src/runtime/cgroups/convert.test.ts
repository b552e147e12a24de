import { sharesToWeight, swapToV2, toLinuxResources } from './convert';

describe('toLinuxResources', () => {
  it('converts the CRI fields, which arrive as decimal strings, to OCI resources', () => {
    const r = toLinuxResources({
      cpu_period: '100000',
      cpu_quota: '20000',
      cpu_shares: '512',
      memory_limit_in_bytes: '33554432',
      memory_swap_limit_in_bytes: '33554432',
      oom_score_adj: '-998',
      cpuset_cpus: '0',
      cpuset_mems: '0',
      hugepage_limits: [{ page_size: '2MB', limit: '4194304' }],
      unified: { 'memory.high': '30000000' },
    });
    expect(r).toEqual({
      cpu: { shares: 512, quota: 20000, period: 100000, cpus: '0', mems: '0' },
      memory: { limit: 33554432, swap: 33554432 },
      hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
      unified: { 'memory.high': '30000000' },
    });
  });

  it('leaves out what the CRI left at zero', () => {
    expect(toLinuxResources({ cpu_shares: '0', memory_limit_in_bytes: 0 })).toEqual({});
    expect(toLinuxResources(undefined)).toEqual({});
  });

  it('adds a pids limit when one is configured', () => {
    expect(toLinuxResources({}, { pidsLimit: 20 })).toEqual({ pids: { limit: 20 } });
  });

  it('refuses a memory+swap limit below the memory limit', () => {
    expect(() =>
      toLinuxResources({ memory_limit_in_bytes: '100', memory_swap_limit_in_bytes: '50' }),
    ).toThrow(/below memory_limit_in_bytes/);
  });

  it('refuses negative cpu shares', () => {
    expect(() => toLinuxResources({ cpu_shares: '-1' })).toThrow(/must not be negative/);
  });
});

describe('cgroup v2 conversions', () => {
  it('maps cpu shares to cpu.weight with runc’s formula', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
  });

  it('turns memory+swap into the swap alone, and -1 into max', () => {
    expect(swapToV2(96, 64)).toBe('32');
    expect(swapToV2(64, 64)).toBe('0');
    expect(swapToV2(-1, 64)).toBe('max');
    expect(swapToV2(undefined, 64)).toBeUndefined();
    expect(() => swapToV2(64, undefined)).toThrow(/no memory limit/);
  });
});
