import { cpuBetween, cpuSeconds, treeCpu } from './cpu';

describe('CPU seconds of process trees', () => {
  it('reads the CPU time this process has spent and 0 for a process that is gone', () => {
    const start = Date.now();
    while (Date.now() - start < 50) Math.sqrt(Math.random());
    expect(cpuSeconds(process.pid)).toBeGreaterThan(0);
    expect(cpuSeconds(2 ** 22 + 1)).toBe(0);
    expect(treeCpu([process.pid], () => false).get(process.pid)).toBeGreaterThan(0);
  });

  it('counts what live processes spent since the first reading, and new ones whole', () => {
    const before = new Map([
      [10, 1.5],
      [11, 0.2],
      [12, 4],
    ]);
    const after = new Map([
      [10, 2],
      [11, 0.2],
      [13, 0.3],
    ]);
    expect(cpuBetween(before, after)).toBeCloseTo(0.8);
  });
});
