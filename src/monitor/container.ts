// One container as the monitor holds it: its records on disk, its log, the taps that feed the log,
// its attach hub, and either the process we launched (we are its parent and hear its exit) or,
// after a monitor restart, a pidfd on a process we adopted (we see that it ended; how, only the
// keeper can tell).
import fs from 'node:fs';
import { crashPoint } from '../common/crash_point';
import { signalPidfd } from '../runtime/sys';
import type { AttachHub } from './attach_hub';
import type { CriLogFile } from './cri_log';
import type { LaunchedProcess } from './launcher';
import type { ContainerInfo, ContainerState } from './protocol';
import type { ContainerDir, ExitRecord, StateRecord } from './records';
import { closeChildStdio, type ChildStdio, type LogTap } from './stdio';

/** How long an exit waits for the streams to drain: a daemonized grandchild may hold them forever. */
const DRAIN_MS = 2000;

export class MonitoredContainer {
  exit?: ExitRecord;
  process?: LaunchedProcess;
  pidfd?: number;
  /** What attach sessions share; absent when nothing can be attached (an adopted terminal). */
  hub?: AttachHub;
  /** A container to be restored holds its FIFOs' write ends from create until start. */
  heldStdio?: ChildStdio;
  private finishing?: Promise<void>;

  constructor(
    readonly dir: ContainerDir,
    public state: StateRecord,
    readonly log: CriLogFile | undefined,
    private readonly taps: LogTap[],
  ) {}

  get id(): string {
    return this.state.id;
  }

  get phase(): ContainerState {
    if (this.exit) return 'exited';
    return this.state.startedAt ? 'running' : 'created';
  }

  info(): ContainerInfo {
    return {
      id: this.id,
      state: this.phase,
      pid: this.state.pid,
      logPath: this.state.logPath,
      createdAt: this.state.createdAt,
      startedAt: this.state.startedAt,
      adopted: this.pidfd !== undefined,
      exit: this.exit,
    };
  }

  /**
   * Records how the process ended, once: waits (a bounded time) for the streams to drain so the
   * log is complete, writes exit.json durably, and only then lets `announce` tell anyone.
   */
  finish(exit: ExitRecord, announce: (exit: ExitRecord) => void): Promise<void> {
    this.finishing ??= (async () => {
      await drained(this.taps);
      crashPoint('monitor/exit/before-record');
      this.dir.writeExit(exit);
      this.exit = exit;
      this.closePidfd();
      this.hub?.finish(exit.exitCode); // after the drain: attached clients got every byte
      announce(exit);
    })();
    return this.finishing;
  }

  signal(signal: number): void {
    if (this.exit) return; // nothing left to signal; kill(2) on a finished process would say the same
    if (this.pidfd !== undefined) return signalPidfd(this.pidfd, signal);
    // ChildProcess.kill does nothing once the child was reaped, so a recycled pid is never hit.
    // Without either handle the process has ended and its exit is being recorded.
    this.process?.child.kill(signal);
  }

  /** Stops reading and closes files; the FIFOs and records stay on disk. */
  close(): void {
    if (this.heldStdio) closeChildStdio(this.heldStdio);
    this.heldStdio = undefined;
    this.taps.forEach((tap) => tap.close());
    this.hub?.close();
    this.log?.close();
    this.closePidfd();
  }

  private closePidfd(): void {
    if (this.pidfd === undefined) return;
    fs.closeSync(this.pidfd);
    this.pidfd = undefined;
  }
}

function drained(taps: LogTap[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, DRAIN_MS);
  });
  return Promise.race([Promise.all(taps.map((tap) => tap.done)).then(() => undefined), timeout]).finally(() =>
    clearTimeout(timer),
  );
}
