// oom_score_adj as root without CAP_SYS_RESOURCE: raising works, lowering below the floor is
// clamped and reported, never an error.
import fs from 'node:fs';
import { setOomScoreAdj } from '../../../src/runtime/cgroups';
import { Processes } from './support';

describe('setOomScoreAdj', () => {
  const procs = new Processes();
  afterEach(() => procs.killAll());

  const read = (pid: number) => Number(fs.readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8'));

  test('applies a value it is allowed to set as given', () => {
    const p = procs.start('sleep 30');
    expect(setOomScoreAdj(p.pid, 500)).toEqual({ applied: 500, clamped: false });
    expect(read(p.pid)).toBe(500);
  });

  test('clamps a value below what the process may go to and says so', () => {
    const p = procs.start('sleep 30');
    setOomScoreAdj(p.pid, 900);
    const r = setOomScoreAdj(p.pid, -998);
    expect(read(p.pid)).toBe(r.applied);
    if (r.clamped) {
      // Clamped to the process's floor: somewhere between the request and where it was.
      expect(r.applied).toBeGreaterThan(-998);
      expect(r.applied).toBeLessThanOrEqual(900);
    } else {
      expect(r.applied).toBe(-998); // a process with CAP_SYS_RESOURCE may go anywhere
    }
  });

  test('clamps values outside -1000..1000', () => {
    const p = procs.start('sleep 30');
    expect(setOomScoreAdj(p.pid, 5000)).toEqual({ applied: 1000, clamped: true });
  });

  test('fails with the process named when it does not exist', () => {
    expect(() => setOomScoreAdj(999_999_999, 0)).toThrow(/Cannot write '\/proc\/999999999\/oom_score_adj'/);
  });
});
