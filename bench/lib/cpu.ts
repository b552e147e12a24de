// CPU seconds a set of process trees spends over a window: user + system time of each process
// (/proc/<pid>/stat utime, stime) plus that of its children it has reaped (cutime, cstime), so a
// short-lived helper (a CNI plugin, runc, a probe) counts for whoever started it.
import fs from 'node:fs';
import { processTree, ProcessInfo, readProcesses } from './pss';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const USER_HZ = 100;

/** CPU seconds of one process and its reaped children so far; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name: state is field 3, utime..cstime are fields 14..17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / USER_HZ;
  } catch {
    return 0;
  }
}

/** CPU seconds by pid of every process in the trees of `roots`, leaving out what `skip` names. */
export function treeCpu(roots: number[], skip: (p: ProcessInfo) => boolean): Map<number, number> {
  return new Map(processTree(readProcesses(), roots, skip).map((p) => [p.pid, cpuSeconds(p.pid)]));
}

/**
 * CPU seconds spent between two readings: each process alive at the end counts what it spent
 * since the first reading (all of it when it started since). A process that ended in between
 * counts in its parent's reaped-children time.
 */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += Math.max(0, seconds - (before.get(pid) ?? 0));
  return total;
}
