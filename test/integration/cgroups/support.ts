// Shared by the cgroup integration tests: a unique parent per test, busybox processes that wait
// for a go before running (so they can be put into a cgroup first), and a check that nothing is
// left under /sys/fs/cgroup.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const CGROUP_ROOT = '/sys/fs/cgroup';
export const BUSYBOX = '/bin/busybox';

export function uniqueParent(): string {
  return `/nodelet-test-${crypto.randomBytes(4).toString('hex')}`;
}

/** Directories named `cgroup` that still exist in any hierarchy under /sys/fs/cgroup. */
export function leftovers(cgroup: string): string[] {
  return fs
    .readdirSync(CGROUP_ROOT)
    .map((h) => path.join(CGROUP_ROOT, h, cgroup))
    .filter((d) => fs.existsSync(d));
}

export interface WaitingProcess {
  child: ChildProcess;
  pid: number;
  /** Lets the script run. */
  go(): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The processes a test started, so afterEach can kill what is still alive, by pid. */
export class Processes {
  private readonly started: WaitingProcess[] = [];

  /** `busybox sh -c` that first waits for a line on stdin, then runs `script`. */
  start(script: string): WaitingProcess {
    const child = spawn(BUSYBOX, ['sh', '-c', `read go; ${script}`], { stdio: ['pipe', 'ignore', 'ignore'] });
    if (child.pid === undefined) throw new Error('busybox did not start');
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const p: WaitingProcess = { child, pid: child.pid, go: () => child.stdin?.end('go\n'), exited };
    this.started.push(p);
    return p;
  }

  async killAll(): Promise<void> {
    for (const p of this.started) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }
    this.started.length = 0;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(20);
  }
}
