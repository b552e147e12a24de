// How the monitor turns a spec into a process. The monitor only needs a pid, a ChildProcess whose
// 'exit' event it hears (it is the parent), and a start() that lets the workload run; the engine
// (src/runtime) builds real containers behind the same interface, and the plain launcher below
// runs argv on the host, for tests and for hosts without the engine.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { unimplemented } from '../common/errors';
import type { ContainerSpec } from '../runtime/spec';
import type { ChildStdio } from './stdio';
import type { RestoreParams } from './protocol';

export interface LaunchedProcess {
  readonly pid: number;
  /** The monitor is its parent: 'exit' carries the real status. */
  readonly child: ChildProcess;
  /** Lets the created process exec the workload (CRI StartContainer). */
  start(): Promise<void>;
  /** The pty master when a terminal was asked for; the monitor owns it from here. */
  readonly terminalMaster?: number;
  /** Whether a pre-started init was used (the engine's pool), for logs and metrics. */
  readonly fromPool?: boolean;
  /** Seconds from asking for the init to its "ready" (nodelet_init_start_duration_seconds). */
  readonly initSeconds?: number;
}

export interface ExecTarget {
  pid: number;
  spec: ContainerSpec;
}

export interface ExecProcess {
  args: string[];
  /** Extra "KEY=value" entries on top of the container's environment. */
  env: string[];
}

export interface Launcher {
  readonly name: string;
  /** Creates the process, stopped before the workload runs; rejects leaving nothing behind. */
  launch(spec: ContainerSpec, stdio: ChildStdio): Promise<LaunchedProcess>;
  /** Runs another process beside a running container's; stdout and stderr are pipes. */
  exec(target: ExecTarget, proc: ExecProcess): Promise<ChildProcess>;
  /** Undoes what launch left on the host once the container is removed (safe to repeat). */
  release?(spec: ContainerSpec): void;
  /** Stops what the launcher keeps running besides containers (the engine's init pool). */
  close?(): Promise<void>;
  /**
   * Restores a checkpointed container with CRIU, its stdio the given fds; resolves with the pid of
   * the restored process, which is not our child (the keeper reaps it, as an adopted one).
   */
  restore?(spec: ContainerSpec, restore: RestoreParams, stdio: (number | undefined)[]): Promise<number>;
}

// The shell waits on fd 3 for the start line, then execs the workload, which keeps the pid. If the
// monitor dies before start, fd 3 reads end-of-file and the process exits 125 instead of running.
const GATE = 'read _ <&3 || exit 125; exec 3<&-; exec "$@"';

/** Runs spec.process.args directly on the host: no namespaces, no root filesystem. */
export class PlainLauncher implements Launcher {
  readonly name = 'plain';

  async launch(spec: ContainerSpec, stdio: ChildStdio): Promise<LaunchedProcess> {
    if (spec.process.args.length === 0) throw new Error(`Cannot launch '${spec.id}': process.args is empty`);
    if (stdio.terminal) throw unimplemented(`Cannot launch '${spec.id}': the plain launcher has no terminal`);
    const child = spawn('/bin/sh', ['-c', GATE, 'nodelet-gate', ...spec.process.args], {
      stdio: [stdio.stdin, stdio.stdout, stdio.stderr, 'pipe'],
      env: envObject(spec.process.env),
      cwd: existingDir(spec.process.cwd),
      // Its own session: signals meant for the monitor's group never reach the container.
      detached: true,
    });
    const pid = await spawned(child, spec.id);
    const gate = child.stdio[3] as NodeJS.WritableStream & { destroy(): void };
    return {
      pid,
      child,
      start: async () => {
        await new Promise<void>((resolve, reject) =>
          gate.write('\n', (err) => (err ? reject(err) : resolve())),
        );
        gate.destroy();
      },
    };
  }

  async exec(target: ExecTarget, proc: ExecProcess): Promise<ChildProcess> {
    const [file, ...args] = proc.args;
    return spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: envObject([...target.spec.process.env, ...proc.env]),
      cwd: existingDir(target.spec.process.cwd),
    });
  }
}

/** Resolves with the pid once the kernel created the process, or rejects with spawn's error. */
export function spawned(child: ChildProcess, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    if (child.pid !== undefined) return resolve(child.pid);
    child.once('error', (err) => reject(new Error(`Cannot start '${what}': ${err.message}`, { cause: err })));
  });
}

function envObject(entries: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

function existingDir(dir: string): string | undefined {
  return dir && fs.existsSync(dir) ? dir : undefined;
}
