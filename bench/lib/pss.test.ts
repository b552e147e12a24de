import { processTree, ProcessInfo, pssKb, runtimePss } from './pss';

describe('runtime memory', () => {
  const all: ProcessInfo[] = [
    { pid: 1, ppid: 0, argv: ['init'] },
    { pid: 10, ppid: 1, argv: ['daemon'] },
    { pid: 11, ppid: 10, argv: ['monitor'] },
    { pid: 12, ppid: 11, argv: ['/bin/sleep', '86400'] },
    { pid: 13, ppid: 11, argv: ['catatonit', '-P'] },
    { pid: 20, ppid: 1, argv: ['other'] },
  ];

  it('counts the roots and their descendants but not the skipped workloads nor other processes', () => {
    const tree = processTree(all, [10], (p) => p.argv[1] === '86400');
    expect(tree.map((p) => p.pid).sort()).toEqual([10, 11, 13]);
  });

  it('counts a process reachable from two roots once', () => {
    expect(processTree(all, [10, 11], () => false)).toHaveLength(4);
  });

  it('reads the PSS of a live process and 0 for one that is gone', () => {
    expect(pssKb(process.pid)).toBeGreaterThan(0);
    expect(pssKb(2 ** 22 + 1)).toBe(0);
    expect(runtimePss([process.pid], () => false).processes).toBeGreaterThanOrEqual(1);
  });
});
