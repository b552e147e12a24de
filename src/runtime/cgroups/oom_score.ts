// oom_score_adj with clamping. Root without CAP_SYS_RESOURCE cannot go below the process's
// oom_score_adj_min (inherited, unreadable from user space): the kernel answers EACCES. Then we
// find the lowest value it accepts between the request and the current value, apply that and
// say so — as containerd's restrict_oom_score_adj does — instead of failing the container.
import fs from 'node:fs';
import path from 'node:path';
import { controlError } from './files';

export interface OomScoreAdjResult {
  applied: number;
  /** The request could not be applied as given (below the floor, or outside -1000..1000). */
  clamped: boolean;
}

export function setOomScoreAdj(pid: number, value: number, procRoot = '/proc'): OomScoreAdjResult {
  const file = path.join(procRoot, String(pid), 'oom_score_adj');
  const wanted = Math.max(-1000, Math.min(1000, Math.round(value)));
  if (tryWrite(file, wanted)) return { applied: wanted, clamped: wanted !== value };
  const current = Number(fs.readFileSync(file, 'utf8').trim());
  if (!(current > wanted) || !tryWrite(file, current)) {
    throw controlError(
      Object.assign(new Error('permission denied'), { code: 'EACCES' }),
      `set oom_score_adj of process ${pid} to ${wanted}`,
    );
  }
  // The floor lies in (wanted, current]: binary search, about ten writes at most.
  let refused = wanted;
  let accepted = current;
  while (accepted - refused > 1) {
    const mid = Math.floor((refused + accepted) / 2);
    if (tryWrite(file, mid)) accepted = mid;
    else refused = mid;
  }
  if (!tryWrite(file, accepted)) throw new Error(`oom_score_adj of ${pid} changed while being set`);
  return { applied: accepted, clamped: true };
}

function tryWrite(file: string, value: number): boolean {
  try {
    fs.writeFileSync(file, String(value));
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return false;
    throw controlError(err, `write '${file}'`);
  }
}
