// A new monitor takes over what the last one left in <runDir>/containers.
//
// Assumptions, written down as containerd's restart.go does:
// - A directory without state.json is a create that crashed before its process was recorded: it is
//   deleted (a process it may have started is not ours to find).
// - exit.json present: the container's story is over; it is loaded as is.
// - Otherwise the process is ours only if /proc/<pid>/stat still shows the start time we recorded.
//   We open a pidfd on it, then check the start time again: the pidfd pins one process, so a pid
//   recycled between the two reads is caught.
// - The old monitor was the parent; we are not, and a non-parent cannot learn an exit status. An
//   adopted process that ends is recorded with reason "Unknown" and exit code 255, as is one that
//   ended while no monitor ran. The pidfd turns readable at exit; a timer polls it (without
//   blocking), since libuv cannot watch an arbitrary fd for us.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../common/log';
import { hasPidfdExited, openPidfd } from '../runtime/sys';
import { MonitoredContainer } from './container';
import { CriLogFile } from './cri_log';
import { isSameLiveProcess } from './proc_stat';
import { ContainerDir, containersRoot, type StateRecord } from './records';
import type { AttachHub } from './attach_hub';
import { attachHubFor } from './attach_wiring';
import { holdStdin, tapBoth, TtyTap, type TapPump } from './stdio';
import { copyTerminal } from './terminal_holds';
import type { LogDropCounter } from './log_drops';

const POLL_MS = 200;

/** Loads every container of runDir. Those returned with neither exit nor pidfd are already gone. */
export function adoptAll(
  runDir: string,
  log: Logger,
  clock: () => bigint,
  pump: TapPump,
  drops: LogDropCounter,
): MonitoredContainer[] {
  const root = containersRoot(runDir);
  if (!fs.existsSync(root)) return [];
  const adopted: MonitoredContainer[] = [];
  for (const name of fs.readdirSync(root)) {
    const dir = new ContainerDir(path.join(root, name));
    try {
      const c = adoptOne(dir, log, clock, pump, drops);
      if (c) adopted.push(c);
    } catch (err) {
      log.error({ err, dir: dir.dir }, 'cannot adopt container; leaving it on disk');
    }
  }
  return adopted;
}

function adoptOne(
  dir: ContainerDir,
  log: Logger,
  clock: () => bigint,
  pump: TapPump,
  drops: LogDropCounter,
): MonitoredContainer | undefined {
  const state = dir.readState();
  if (!state) {
    log.warn({ dir: dir.dir }, 'removing a container directory that has no state (interrupted create)');
    fs.rmSync(dir.dir, { recursive: true, force: true });
    return undefined;
  }
  const exit = dir.readExit();
  if (exit) {
    const c = new MonitoredContainer(dir, state, undefined, []);
    c.exit = exit;
    return c;
  }
  const pidfd = pinLiveProcess(state);
  if (pidfd === undefined) return new MonitoredContainer(dir, state, undefined, []);
  if (state.tty) return adoptTerminal(dir, state, pidfd, log, clock, drops);
  let holder: number | undefined;
  try {
    const logFile = new CriLogFile(state.logPath, drops.forContainer(state.id, log));
    // The last monitor's stdin_once holder died with it: hold the FIFO again (see stdin_port.ts).
    if (state.stdin && state.stdinOnce && !state.stdinClosed) holder = holdStdin(dir);
    const late: { hub?: AttachHub } = {}; // the taps exist before the hub they feed
    const taps = tapBoth(dir, logFile, clock, pump, (stream, bytes) => late.hub?.output(stream, bytes));
    const c = new MonitoredContainer(dir, state, logFile, taps);
    c.hub = late.hub = attachHubFor(c, { stdinHolder: holder });
    c.pidfd = pidfd;
    log.info({ id: state.id, pid: state.pid }, 'adopted a running container');
    return c;
  } catch (err) {
    if (holder !== undefined) fs.closeSync(holder);
    fs.closeSync(pidfd);
    throw err;
  }
}

/**
 * A terminal container gets its pty master back from the keeper's copy (terminal_holds.ts): output
 * is read and logged again, attach works again. Without a copy (the monitor died before the keeper
 * took one) nothing is left to read or to attach to.
 */
function adoptTerminal(
  dir: ContainerDir,
  state: StateRecord,
  pidfd: number,
  log: Logger,
  clock: () => bigint,
  drops: LogDropCounter,
): MonitoredContainer {
  const kept = dir.readKeeperTerminal();
  const master = kept ? copyTerminal(kept) : undefined;
  if (master === undefined) {
    log.warn({ id: state.id }, 'adopted a terminal container whose terminal is lost');
    // The pid and fd it names belong to a monitor that is gone: no keeper should look there again.
    const lost = { ...state, terminal: undefined };
    dir.writeState(lost);
    const c = new MonitoredContainer(dir, lost, undefined, []);
    c.pidfd = pidfd;
    return c;
  }
  let logFile: CriLogFile | undefined;
  let tap: TtyTap | undefined;
  try {
    logFile = new CriLogFile(state.logPath, drops.forContainer(state.id, log));
    const late: { hub?: AttachHub } = {};
    tap = new TtyTap(master, logFile, clock, (bytes) => late.hub?.output('stdout', bytes));
    // A keeper started later takes its copy from us.
    const adopted = { ...state, terminal: { pid: process.pid, fd: master, pty: kept!.pty } };
    dir.writeState(adopted);
    const c = new MonitoredContainer(dir, adopted, logFile, [tap]);
    c.hub = late.hub = attachHubFor(c, { master });
    c.pidfd = pidfd;
    log.info({ id: state.id, pid: state.pid }, 'adopted a running terminal container');
    return c;
  } catch (err) {
    // The tap owns the master once it exists.
    if (tap) tap.close();
    else fs.closeSync(master);
    logFile?.close();
    fs.closeSync(pidfd);
    throw err;
  }
}

function pinLiveProcess(state: StateRecord): number | undefined {
  if (state.pid === undefined || !isSameLiveProcess(state.pid, state.startTime)) return undefined;
  let pidfd: number;
  try {
    pidfd = openPidfd(state.pid);
  } catch {
    return undefined; // gone between the two calls
  }
  if (isSameLiveProcess(state.pid, state.startTime)) return pidfd;
  fs.closeSync(pidfd);
  return undefined;
}

/** Polls the pidfds of adopted containers; returns the function that stops it. */
export function watchAdopted(
  containers: () => Iterable<MonitoredContainer>,
  onGone: (c: MonitoredContainer) => void,
): () => void {
  const seen = new Set<MonitoredContainer>();
  const timer = setInterval(() => {
    for (const c of containers()) {
      if (c.exit || c.pidfd === undefined || seen.has(c)) continue;
      if (hasPidfdExited(c.pidfd)) {
        seen.add(c); // finish() is async; do not report it twice
        onGone(c);
      }
    }
  }, POLL_MS);
  return () => clearInterval(timer);
}
