// What the monitor keeps on disk for each container, under <runDir>/containers/<id>/:
//   state.json  who the process is (pid and its kernel start time, so a recycled pid is never
//               taken for ours), the log path, create and start times
//   exit.json   how it ended; written before anyone is told, so an exit is never reported twice
//               differently or lost by a crash
//   stdin, stdout, stderr  the FIFOs (see stdio.ts)
//   terminal.json  where the keeper holds a copy of a terminal container's pty master
// Everything is written temp + fsync + rename: a crash leaves the old file or the new, never half.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic_write';
import type { ContainerSpec } from '../runtime/spec';
import type { RestoreParams } from './protocol';

export const RECORD_VERSION = 1;

export interface ExitRecord {
  /** The exit code; 128+n when killed by signal n; 255 when unknown (containerd's convention). */
  exitCode: number;
  /** The signal name when the process was killed by one. */
  signal?: string;
  /** ns since the epoch, decimal (a CRI int64). */
  finishedAt: string;
  /** "Completed", "Error", "OOMKilled" (set by the cgroup side) or "Unknown". */
  reason: string;
  message?: string;
}

export interface StateRecord {
  version: number;
  id: string;
  logPath: string;
  stdin: boolean;
  /** stdin closes for good when the first client that attached with stdin leaves. */
  stdinOnce?: boolean;
  /** stdin_once has closed stdin: an adopting monitor must not open it again. */
  stdinClosed?: boolean;
  /** A terminal container: its output comes from a pty master the monitor holds. */
  tty?: boolean;
  /** Where the monitor holds that master, so the keeper can take a copy (terminal_holds.ts). */
  terminal?: TerminalCopy;
  /** Kept so an adopted container can still run exec. */
  spec: ContainerSpec;
  createdAt: string;
  pid?: number;
  /** Field 22 of /proc/<pid>/stat: with the pid, names one process for the life of the boot. */
  startTime?: string;
  startedAt?: string;
  /** Created to be restored by CRIU at start: no init runs until then. */
  restore?: RestoreParams;
}

/** A process holding a terminal container's pty master: its pid, the fd there, and the pty number. */
export interface TerminalCopy {
  pid: number;
  fd: number;
  pty: number;
}

export class ContainerDir {
  constructor(readonly dir: string) {}

  static of(runDir: string, id: string): ContainerDir {
    return new ContainerDir(path.join(containersRoot(runDir), id));
  }

  get statePath(): string {
    return path.join(this.dir, 'state.json');
  }
  get exitPath(): string {
    return path.join(this.dir, 'exit.json');
  }
  fifo(name: 'stdin' | 'stdout' | 'stderr'): string {
    return path.join(this.dir, name);
  }

  readState(): StateRecord | undefined {
    return readJson<StateRecord>(this.statePath);
  }
  writeState(state: StateRecord): void {
    writeJsonAtomic(this.statePath, state);
  }
  /** The keeper's copy of the pty master, which outlives monitors. */
  get keeperTerminalPath(): string {
    return path.join(this.dir, 'terminal.json');
  }
  readKeeperTerminal(): TerminalCopy | undefined {
    return readJson<TerminalCopy>(this.keeperTerminalPath);
  }
  writeKeeperTerminal(copy: TerminalCopy): void {
    writeJsonAtomic(this.keeperTerminalPath, copy);
  }
  readExit(): ExitRecord | undefined {
    return readJson<ExitRecord>(this.exitPath);
  }
  writeExit(exit: ExitRecord): void {
    writeJsonAtomic(this.exitPath, exit);
  }
}

export function containersRoot(runDir: string): string {
  return path.join(runDir, 'containers');
}

/** Exit code and reason the way the CRI reports them. */
export function exitFromStatus(
  code: number | null,
  signal: NodeJS.Signals | null,
  finishedAt: bigint,
): ExitRecord {
  if (signal !== null) {
    const number = signalNumber(signal);
    return { exitCode: 128 + number, signal, finishedAt: finishedAt.toString(), reason: 'Error' };
  }
  const exitCode = code ?? 255;
  return { exitCode, finishedAt: finishedAt.toString(), reason: exitCode === 0 ? 'Completed' : 'Error' };
}

function signalNumber(signal: NodeJS.Signals): number {
  return os.constants.signals[signal] ?? 0;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Cannot read '${file}': ${(err as Error).message}`, { cause: err });
  }
}

function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value));
}

// Exits of containers whose monitor died, as seen by the keeper (see keeper.ts), which became
// their parent: <runDir>/orphans/<pid>-<startTime>.json, consumed by the monitor that adopted them.
function orphanExitPath(runDir: string, pid: number, startTime: string): string {
  return path.join(runDir, 'orphans', `${pid}-${startTime}.json`);
}

export function writeOrphanExit(runDir: string, pid: number, startTime: string, exit: ExitRecord): void {
  fs.mkdirSync(path.join(runDir, 'orphans'), { recursive: true, mode: 0o700 });
  writeJsonAtomic(orphanExitPath(runDir, pid, startTime), exit);
}

/** Reads and deletes the keeper's record of this process, if there is one. */
export function takeOrphanExit(runDir: string, pid: number, startTime: string): ExitRecord | undefined {
  const file = orphanExitPath(runDir, pid, startTime);
  const exit = readJson<ExitRecord>(file);
  if (exit) fs.rmSync(file, { force: true });
  return exit;
}

export function signalName(signal: number): NodeJS.Signals | null {
  const entry = Object.entries(os.constants.signals).find(([, n]) => n === signal);
  return entry ? (entry[0] as NodeJS.Signals) : null;
}
