import { detectCgroups, hugepageSizeName } from './detect';
import { makeFakeRoot, type FakeRoot } from './fake_root.testutil';

describe('detectCgroups', () => {
  let fake: FakeRoot | undefined;
  afterEach(() => fake?.remove());

  it('finds v1 hierarchies by controller and skips named ones like systemd', () => {
    fake = makeFakeRoot('v1');
    const s = detectCgroups(fake.root, { hugepagesDir: fake.hugepagesDir });
    expect(s.mode).toBe('v1');
    expect(Object.keys(s.v1).sort()).toEqual(
      ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids'].sort(),
    );
    expect(s.swapAccounting).toBe(true);
    expect(s.hugepageSizes).toEqual(['2MB']);
    expect(s.psi).toBe(false);
  });

  it('calls v1 plus a cgroup2 mount at unified hybrid, with that mount’s controllers', () => {
    fake = makeFakeRoot('hybrid');
    const s = detectCgroups(fake.root, { hugepagesDir: fake.hugepagesDir });
    expect(s.mode).toBe('hybrid');
    expect(s.unified).toBe(`${fake.root}/unified`);
    expect(s.v2Controllers).toEqual(['hugetlb']);
    expect(s.psi).toBe(true);
  });

  it('sees a pure cgroup2 tree at the root', () => {
    fake = makeFakeRoot('v2');
    const s = detectCgroups(fake.root, { hugepagesDir: fake.hugepagesDir });
    expect(s.mode).toBe('v2');
    expect(s.v2Controllers).toContain('memory');
    expect(s.swapAccounting).toBe(true);
  });

  it('fails clearly where there are no cgroups at all', () => {
    expect(() => detectCgroups('/nonexistent-nodelet-root')).toThrow(/Cannot read cgroup root/);
  });

  it('names hugepage sizes as cgroup files do', () => {
    expect(hugepageSizeName('hugepages-2048kB')).toBe('2MB');
    expect(hugepageSizeName('hugepages-1048576kB')).toBe('1GB');
    expect(hugepageSizeName('other')).toBeUndefined();
  });
});
