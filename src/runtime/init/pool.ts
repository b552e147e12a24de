// A few container inits started ahead of need, so that Node's start-up (tens to hundreds of ms)
// is not on CreateContainer's critical path. Each waits on its control channel as PID 1 of a
// fresh PID namespace, with a clean environment and only /dev/null and the channel open; it is
// told its spec when taken (pooled.ts does the rest in the init). Only containers that get a
// PID namespace of their own can use one: a shared or host PID namespace must be entered before
// the process exists, so those take the cold path.
//
// Nothing outlives the caller: an idle init reads EOF on its channel when the caller goes, and
// also has PR_SET_PDEATHSIG; close() kills and reaps the idle ones.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Socket } from 'node:net';
import { runInNamespaces, type NamespacePlan } from '../namespaces';
import { helperEntry, killAndReap, spawnHelper } from './entry';
import { CONTROL_FD, POOLED_FLAG, type PooledTakeover } from './protocol';

export interface InitPoolOptions {
  /** How many inits wait at most; 0 makes the pool a no-op. */
  size: number;
  /** Told when an idle init ended by itself (it should not). */
  onIdleExit?: (pid: number | undefined, code: number | null, signal: NodeJS.Signals | null) => void;
}

export class InitPool {
  private readonly idle: ChildProcess[] = [];
  /** The pool's own listeners of each idle init, removed when it is taken. */
  private readonly listeners = new WeakMap<ChildProcess, () => void>();
  private closed = false;
  private refillPending = false;

  constructor(private readonly options: InitPoolOptions) {}

  get size(): number {
    return this.options.size;
  }

  /** Host pids of the inits waiting now. */
  get idlePids(): number[] {
    return this.idle.flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  }

  /** Starts inits until `size` wait. Each costs this thread a fork and exec; the boot runs beside. */
  fill(): void {
    if (this.closed) return;
    const entry = helperEntry('init');
    while (this.idle.length < this.options.size) this.idle.push(this.startOne(entry));
  }

  /** fill() soon, off the current caller's path. */
  refillSoon(): void {
    if (this.closed || this.refillPending || this.idle.length >= this.options.size) return;
    this.refillPending = true;
    setImmediate(() => {
      this.refillPending = false;
      this.fill();
    });
  }

  /** A waiting init, now owned by the caller (referenced again: it keeps the caller's loop alive). */
  take(): ChildProcess | undefined {
    for (let child = this.idle.shift(); child !== undefined; child = this.idle.shift()) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
      this.listeners.get(child)?.();
      child.ref();
      (child.stdio[CONTROL_FD] as Socket).ref();
      return child;
    }
    return undefined;
  }

  /** Kills and reaps every idle init; the pool starts no more. */
  async close(): Promise<void> {
    this.closed = true;
    const idle = this.idle.splice(0);
    // Referenced again, or a caller with nothing else to do would exit before the reaping.
    idle.forEach((child) => child.ref());
    await Promise.all(idle.map((child) => killAndReap(child)));
  }

  private startOne(entry: string): ChildProcess {
    // PID 1 of a new PID namespace: only where the thread's children are born changes here.
    const child = runInNamespaces({ join: [], create: ['pid'] }, () =>
      spawnHelper(entry, ['ignore', 'ignore', 'ignore'], { args: [POOLED_FLAG] }),
    );
    // Waiting inits must not keep a caller alive that has nothing else to do.
    child.unref();
    (child.stdio[CONTROL_FD] as Socket).unref();
    const forget = () => {
      const at = this.idle.indexOf(child);
      if (at >= 0) this.idle.splice(at, 1);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      forget();
      if (!this.closed) this.options.onIdleExit?.(child.pid, code, signal);
    };
    child.once('error', forget);
    child.once('exit', onExit);
    this.listeners.set(child, () => {
      child.off('error', forget);
      child.off('exit', onExit);
    });
    return child;
  }
}

/**
 * What a pooled init needs to stand in for a cold one, or undefined when it cannot: the spec
 * asks for a PID namespace that exists already (pod-shared) or for the host's, or a stdio target
 * is not a FIFO (only a FIFO reopened through /proc is the same pipe as the inherited fd).
 */
export function pooledTakeover(
  plan: NamespacePlan,
  stdio: readonly (number | 'pipe' | 'ignore')[],
): PooledTakeover | undefined {
  if (!plan.create.includes('pid')) return undefined;
  if (plan.join.some((j) => j.type === 'pid' || j.type === 'mount')) return undefined;
  const fds: (number | null)[] = [];
  for (const target of stdio) {
    if (target === 'ignore') fds.push(null);
    else if (typeof target === 'number' && isFifo(target)) fds.push(target);
    else return undefined;
  }
  return { callerPid: process.pid, stdio: fds };
}

function isFifo(fd: number): boolean {
  try {
    return fs.fstatSync(fd).isFIFO();
  } catch {
    return false;
  }
}
