// The monitor's table of containers and the operations the protocol offers on them. Every exit is
// written to disk before the 'exit' event fires, so whoever hears of it can also read it back later.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { crashPoint } from '../common/crash_point';
import {
  alreadyExists,
  failedPrecondition,
  invalidArgument,
  notFound,
  unimplemented,
} from '../common/errors';
import type { Logger } from '../common/log';
import { runInBackground } from '../common/background';
import { withCleanup, type Cleanup } from '../common/cleanup';
import { nowNs } from '../common/time';
import { MonitoredContainer } from './container';
import { CriLogFile } from './cri_log';
import { collectExec } from './exec_sync';
import type { LaunchedProcess, Launcher } from './launcher';
import { readProcIdentity } from './proc_stat';
import { openPidfd, ptyNumberOf } from '../runtime/sys';
import type {
  ContainerInfo,
  CreatedInfo,
  CreateParams,
  ExecSyncParams,
  ExecSyncResult,
  RestoreParams,
} from './protocol';
import {
  ContainerDir,
  exitFromStatus,
  RECORD_VERSION,
  takeOrphanExit,
  type ExitRecord,
  type StateRecord,
} from './records';
import { adoptAll, watchAdopted } from './adopt';
import { LogDropCounter } from './log_drops';
import { attachHubFor } from './attach_wiring';
import type { AttachHub, OutputStream } from './attach_hub';
import {
  closeChildStdio,
  holdStdin,
  makeFifos,
  openChildStdio,
  tapBoth,
  TapPump,
  TtyTap,
  type ChildStdio,
  type LogTap,
} from './stdio';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const KILL_WAIT_MS = 10_000;
/** How long an adopted exit waits for the keeper's record before it is called Unknown. */
const KEEPER_WAIT_MS = 1000;

export interface SupervisorOptions {
  runDir: string;
  launcher: Launcher;
  log: Logger;
  clock?: () => bigint;
}

export class Supervisor extends EventEmitter<{ exit: [id: string, exit: ExitRecord] }> {
  private readonly containers = new Map<string, MonitoredContainer>();
  private readonly reserved = new Set<string>();
  private readonly clock: () => bigint;
  private stopWatching?: () => void;
  private readonly pump: TapPump;
  /** Log records dropped because the log file could not take them, for the daemon's metrics. */
  readonly logDrops = new LogDropCounter();

  constructor(private readonly options: SupervisorOptions) {
    super();
    this.clock = options.clock ?? nowNs;
    this.pump = new TapPump((err, tap) =>
      options.log.error({ err, fifo: tap.fifoPath }, 'cannot copy to the log'),
    );
  }

  /** Takes over what an earlier monitor left in runDir (see adopt.ts). */
  recover(): void {
    for (const c of adoptAll(this.options.runDir, this.options.log, this.clock, this.pump, this.logDrops)) {
      this.containers.set(c.id, c);
      if (!c.exit && c.pidfd === undefined) this.finishAdopted(c);
    }
    this.stopWatching = watchAdopted(
      () => this.containers.values(),
      (c) => this.finishAdopted(c),
    );
  }

  async create(p: CreateParams): Promise<CreatedInfo> {
    if (!ID_PATTERN.test(p.id)) throw invalidArgument(`Cannot create container '${p.id}': invalid id`);
    if (!path.isAbsolute(p.logPath)) {
      throw invalidArgument(`Cannot create container '${p.id}': log path '${p.logPath}' is not absolute`);
    }
    if (this.containers.has(p.id) || this.reserved.has(p.id)) {
      throw alreadyExists(`Cannot create container '${p.id}': it exists`);
    }
    this.reserved.add(p.id); // before the first side effect: a second create cannot race us
    try {
      return await withCleanup(this.options.log.child({ id: p.id }), (cleanup) => this.build(p, cleanup));
    } finally {
      this.reserved.delete(p.id);
    }
  }

  /** create()'s steps, each followed by its undo; the stdio ends the child got are closed either way. */
  private async build(p: CreateParams, cleanup: Cleanup): Promise<CreatedInfo> {
    const dir = ContainerDir.of(this.options.runDir, p.id);
    fs.mkdirSync(dir.dir, { recursive: true, mode: 0o700 });
    cleanup.defer('remove the container directory', () =>
      fs.rmSync(dir.dir, { recursive: true, force: true }),
    );
    const tty = p.tty === true || p.spec.process.terminal; // either may say so
    if (p.restore && tty) {
      throw failedPrecondition(`Cannot create container '${p.id}' from a checkpoint: it has a terminal`);
    }
    const stdin = p.stdin === true;
    const stdinOnce = stdin && p.stdinOnce === true;
    if (!tty) makeFifos(dir, stdin);
    const holder = !tty && stdinOnce ? holdStdin(dir) : undefined;
    if (holder !== undefined) cleanup.defer('close the stdin holder', () => fs.closeSync(holder));
    const childStdio: ChildStdio = tty
      ? { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', terminal: true }
      : openChildStdio(dir, stdin, stdinOnce);
    try {
      const log = new CriLogFile(p.logPath, this.logDrops.forContainer(p.id, this.options.log));
      cleanup.defer('close the log', () => log.close());
      // The hub exists once the process does; output read before then has no client to go to.
      const late: { hub?: AttachHub } = {};
      const toHub = (stream: OutputStream, bytes: Buffer) => late.hub?.output(stream, bytes);
      const fifoTaps = tty ? [] : tapBoth(dir, log, this.clock, this.pump, toHub);
      cleanup.defer('stop the taps', () => fifoTaps.forEach((tap) => tap.close()));
      // A restore starts nothing now: CRIU brings the process back at start.
      const proc = p.restore ? undefined : await this.options.launcher.launch(p.spec, childStdio);
      crashPoint('monitor/create/after-spawn');
      cleanup.defer('kill the process', () => proc?.child.kill('SIGKILL'));
      const taps: LogTap[] = fifoTaps;
      if (proc?.terminalMaster !== undefined) {
        const ttyTap = new TtyTap(proc.terminalMaster, log, this.clock, (bytes) => toHub('stdout', bytes));
        cleanup.defer('close the terminal', () => ttyTap.close());
        taps.push(ttyTap);
      }
      const state: StateRecord = {
        version: RECORD_VERSION,
        id: p.id,
        logPath: p.logPath,
        stdin,
        stdinOnce,
        tty,
        spec: p.spec,
        createdAt: this.clock().toString(),
        pid: proc?.pid,
        startTime: proc ? readProcIdentity(proc.pid)?.startTime : undefined,
        restore: p.restore,
        ...(proc?.terminalMaster !== undefined
          ? {
              terminal: {
                pid: process.pid,
                fd: proc.terminalMaster,
                pty: ptyNumberOf(proc.terminalMaster),
              },
            }
          : {}),
      };
      dir.writeState(state);
      const c = new MonitoredContainer(dir, state, log, taps);
      c.hub = late.hub = attachHubFor(c, { master: proc?.terminalMaster, stdinHolder: holder });
      c.process = proc;
      if (proc) this.watchChild(c, proc);
      this.containers.set(p.id, c);
      if (!proc) {
        // The FIFOs' write ends stay open until CRIU hands them to the restored process: with no
        // writer left, the taps would see the FIFOs hang up and stop reading for good.
        c.heldStdio = childStdio;
        return c.info();
      }
      const { fromPool, initSeconds } = proc;
      if (initSeconds === undefined) return c.info(); // the plain launcher has no init
      return { ...c.info(), initStart: { source: fromPool ? 'pool' : 'cold', seconds: initSeconds } };
    } finally {
      // The process holds its own copies now (a restore: the container holds them until start).
      if (!p.restore || !this.containers.has(p.id)) closeChildStdio(childStdio);
    }
  }

  async start(id: string): Promise<ContainerInfo> {
    const c = this.get(id);
    if (c.phase !== 'created') throw failedPrecondition(`Cannot start container '${id}': it is ${c.phase}`);
    if (c.state.restore) return this.restore(c, c.state.restore);
    if (!c.process) {
      throw failedPrecondition(`Cannot start container '${id}': it was created by an earlier monitor`);
    }
    // Recorded before the workload may run: a monitor that dies in between leaves a container that
    // the next one sees end (its init reads end-of-file and exits), never one whose workload runs
    // while its record says "created".
    c.state = { ...c.state, startedAt: this.clock().toString() };
    c.dir.writeState(c.state);
    crashPoint('monitor/start/after-record');
    await c.process.start();
    return c.info();
  }

  /**
   * Start of a container created from a checkpoint: CRIU restores its process tree with the
   * container's FIFOs as stdio. The restored process is not our child (CRIU's, orphaned to the
   * keeper when CRIU exits), so it is watched through a pidfd as an adopted one is.
   */
  private async restore(c: MonitoredContainer, restore: RestoreParams): Promise<ContainerInfo> {
    const launcher = this.options.launcher;
    if (!launcher.restore) {
      throw unimplemented(`Cannot restore container '${c.id}': the ${launcher.name} launcher cannot restore`);
    }
    const stdio = c.heldStdio ?? openChildStdio(c.dir, c.state.stdin, c.state.stdinOnce);
    c.heldStdio = undefined;
    let pid: number;
    try {
      const fds = [stdio.stdin, stdio.stdout, stdio.stderr].map((fd) =>
        typeof fd === 'number' ? fd : undefined,
      );
      pid = await launcher.restore(c.state.spec, restore, fds);
    } finally {
      closeChildStdio(stdio);
    }
    c.pidfd = openPidfd(pid);
    c.state = {
      ...c.state,
      pid,
      startTime: readProcIdentity(pid)?.startTime,
      startedAt: this.clock().toString(),
    };
    c.dir.writeState(c.state);
    // It may have ended already; the adopted-process watch sees it either way.
    return c.info();
  }

  signal(id: string, signal: number): void {
    this.get(id).signal(signal);
  }

  status(id: string): ContainerInfo {
    return this.get(id).info();
  }

  list(): ContainerInfo[] {
    return [...this.containers.values()].map((c) => c.info());
  }

  /** The attach hub of a container that can be attached to. */
  attachHub(id: string): AttachHub {
    const c = this.get(id);
    if (c.hub) return c.hub;
    const why = c.exit ? 'it has exited' : 'its terminal closed with an earlier monitor';
    throw failedPrecondition(`Cannot attach to container '${id}': ${why}`);
  }

  reopenLog(id: string): void {
    const c = this.get(id);
    if (!c.log) throw failedPrecondition(`Cannot reopen the log of container '${id}': it is not running`);
    c.log.reopen();
  }

  async execSync(p: ExecSyncParams): Promise<ExecSyncResult> {
    const c = this.get(p.id);
    if (c.phase !== 'running' || c.state.pid === undefined) {
      throw failedPrecondition(`Cannot exec in container '${p.id}': it is ${c.phase}`);
    }
    const child = await this.options.launcher.exec(
      { pid: c.state.pid, spec: c.state.spec },
      { args: p.args, env: p.env ?? [] },
    );
    return collectExec(child, p.args[0] ?? '', p.timeoutSeconds);
  }

  /**
   * Kills the container if it still runs (the CRI's forced removal; a create being rolled back
   * lands here too), waits for its exit record, then forgets it and deletes its directory.
   * Unknown ids succeed, so retries are safe.
   */
  async remove(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (c && !c.exit) {
      await this.killAndWait([c]);
      if (!c.exit) throw failedPrecondition(`Cannot remove container '${id}': it did not exit after SIGKILL`);
    }
    if (c) this.options.launcher.release?.(c.state.spec); // throws before anything is forgotten
    c?.close();
    this.containers.delete(id);
    if (ID_PATTERN.test(id))
      fs.rmSync(ContainerDir.of(this.options.runDir, id).dir, { recursive: true, force: true });
  }

  /** SIGKILLs every process and waits until each exit is on disk (tests, node teardown). */
  killAll(): Promise<void> {
    return this.killAndWait([...this.containers.values()]);
  }

  private async killAndWait(containers: MonitoredContainer[]): Promise<void> {
    const waits = containers
      .filter((c) => !c.exit)
      .map((c) => {
        const exited = new Promise<void>((resolve) => {
          const onExit = (id: string) => {
            if (id !== c.id) return;
            this.off('exit', onExit);
            resolve();
          };
          this.on('exit', onExit);
        });
        try {
          c.signal(9);
        } catch (err) {
          this.options.log.warn({ err, id: c.id }, 'cannot kill container');
        }
        return exited;
      });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, KILL_WAIT_MS)));
    await Promise.race([Promise.all(waits), timeout]).finally(() => clearTimeout(timer));
  }

  /** Stops watching and reading; the containers keep running for the next monitor. */
  close(): void {
    this.stopWatching?.();
    this.pump.close();
    for (const c of this.containers.values()) c.close();
  }

  private get(id: string): MonitoredContainer {
    const c = this.containers.get(id);
    if (!c) throw notFound(`Cannot find container '${id}'`);
    return c;
  }

  private watchChild(c: MonitoredContainer, proc: LaunchedProcess): void {
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      this.record(c, exitFromStatus(code, signal, this.clock()));
    };
    // It may have ended while we were writing its state.
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      onExit(proc.child.exitCode, proc.child.signalCode);
    } else {
      proc.child.once('exit', onExit);
    }
  }

  /**
   * An adopted process ended: its real status is known only if the keeper reaped it (keeper.ts),
   * which it does within a moment; without a keeper the status is lost and we say so.
   */
  private finishAdopted(c: MonitoredContainer): void {
    const finishedAt = this.clock();
    const { pid, startTime } = c.state;
    runInBackground(this.options.log, `wait for the keeper's record of ${c.id}`, async () => {
      const deadline = Date.now() + KEEPER_WAIT_MS;
      while (pid !== undefined && startTime !== undefined) {
        const reaped = takeOrphanExit(this.options.runDir, pid, startTime);
        if (reaped) return this.record(c, reaped);
        if (Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const message = 'The process ended while no monitor was its parent; its exit status is unknown';
      this.record(c, { exitCode: 255, finishedAt: finishedAt.toString(), reason: 'Unknown', message });
    });
  }

  private record(c: MonitoredContainer, exit: ExitRecord): void {
    const finishing = c.finish(exit, (recorded) => {
      this.options.log.info({ id: c.id, exit: recorded }, 'container exited');
      this.emit('exit', c.id, recorded);
    });
    runInBackground(this.options.log, `record the exit of ${c.id}`, finishing);
  }
}
