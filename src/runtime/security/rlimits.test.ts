import { clampRlimit, RLIM_INFINITY, rlimitResource, rlimitValue } from './rlimits';

describe('rlimits', () => {
  it('clamps a hard limit above the current one, and the soft limit to the hard one', () => {
    expect(clampRlimit({ type: 'RLIMIT_NOFILE', soft: 1_000_000, hard: 1_000_000 }, 20000n)).toEqual({
      soft: 20000n,
      hard: 20000n,
    });
    expect(clampRlimit({ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }, 20000n)).toEqual({
      soft: 1024n,
      hard: 4096n,
    });
  });

  it('reads -1 and huge numbers as unlimited', () => {
    expect(rlimitValue(-1)).toBe(RLIM_INFINITY);
    expect(rlimitValue(2 ** 64)).toBe(RLIM_INFINITY);
  });

  it('refuses an unknown resource name', () => {
    expect(rlimitResource('RLIMIT_NOFILE')).toBe(7);
    expect(() => rlimitResource('RLIMIT_COFFEE')).toThrow(
      "Cannot set rlimit 'RLIMIT_COFFEE': unknown resource",
    );
  });
});
