// Reads who a pid is right now from /proc/<pid>/stat: its start time (field 22, clock ticks since
// boot) and state. A pid plus its start time names one process for the whole boot, so a recycled
// pid is never mistaken for a container we knew.
import fs from 'node:fs';

export interface ProcIdentity {
  startTime: string;
  /** "Z" for a zombie: exited, waiting for a parent that is not us. */
  state: string;
}

export function readProcIdentity(pid: number): ProcIdentity | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: the fields that follow start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field 22 is fields[19].
  return { state: fields[0], startTime: fields[19] };
}

/** True when `pid` is still the live process that had `startTime`. */
export function isSameLiveProcess(pid: number, startTime: string | undefined): boolean {
  const now = readProcIdentity(pid);
  return now !== undefined && now.startTime === startTime && now.state !== 'Z' && now.state !== 'X';
}
