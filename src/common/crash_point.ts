// Crash points, for tests only: a named place on a path with side effects where the process can be
// made to die by SIGKILL, so a test can show what a crash at that very step leaves behind.
//
//   NODELET_CRASH_POINT=<name>[:<n>]   die the n-th time (default: the first) this process passes <name>
//   NODELET_CRASH_ONCE=<file>          die only if <file> can still be created (O_EXCL): one crash in
//                                      all the processes that inherit the variables (a monitor that
//                                      its keeper restarts does not die again), and the test sees
//                                      the file appear when the crash happened
//
// Nothing else reads these variables; unset (always, outside tests) crashPoint() is one comparison.
// SIGKILL because it is what a crash is: no handler, no finally block, no flush runs.
import fs from 'node:fs';

export const CRASH_POINT_ENV = 'NODELET_CRASH_POINT';
export const CRASH_ONCE_ENV = 'NODELET_CRASH_ONCE';

interface Armed {
  name: string;
  nth: number;
  once?: string;
  passes: number;
}

const armed = parse(process.env[CRASH_POINT_ENV], process.env[CRASH_ONCE_ENV]);

function parse(value: string | undefined, once: string | undefined): Armed | undefined {
  if (!value) return undefined;
  const match = /^([^:]+)(?::(\d+))?$/.exec(value);
  if (!match) return undefined;
  return { name: match[1], nth: Math.max(1, Number(match[2] ?? 1)), once: once || undefined, passes: 0 };
}

/** Kills this process with SIGKILL when the test environment names this point (see above). */
export function crashPoint(name: string): void {
  if (armed === undefined || armed.name !== name) return;
  if (++armed.passes < armed.nth) return;
  if (armed.once !== undefined) {
    try {
      fs.closeSync(fs.openSync(armed.once, 'wx'));
    } catch {
      return; // another process (or an earlier life of this one) already crashed
    }
  }
  process.kill(process.pid, 'SIGKILL');
}

/** The crash-point variables of this process, for a child that should inherit them (the keeper). */
export function crashPointEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of [CRASH_POINT_ENV, CRASH_ONCE_ENV]) {
    const value = process.env[key];
    if (value) env[key] = value;
  }
  return env;
}
