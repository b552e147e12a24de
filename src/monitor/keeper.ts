// The keeper: a small process above the monitor, so that a monitor's death costs no exit code.
//
//   daemon ──starts──> keeper (child subreaper) ──> monitor ──> containers
//
// Only a parent can learn how a process ended. When the monitor dies, its containers are
// re-parented to the nearest subreaper among their ancestors: the keeper. The keeper reaps those
// orphans (by pid, never waitpid(-1): libuv reaps the monitor itself), reading the start time of
// each zombie first, and writes <runDir>/orphans/<pid>-<startTime>.json for every process that a
// container's state.json names. The replacement monitor, which the keeper starts at once, takes
// those records when the adopted processes end: their real exit codes, not "Unknown".
// If the keeper itself is killed, the monitor goes on; only a monitor that dies while no keeper
// runs loses exit codes (the monitor then reports "Unknown", honestly).
// It runs no request; the only container fds it holds are the stdin FIFOs of stdin_once containers
// (stdin_holds.ts). A shutdown of the monitor (exit 0) ends it too.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { crashPoint } from '../common/crash_point';
import { MONITOR_NODE_FLAGS } from '../common/node_flags';
import { nowNs } from '../common/time';
import { becomeChildSubreaper, decodeWaitStatus, reapIfExited, tryLockExclusive } from '../runtime/sys';
import { readProcIdentity } from './proc_stat';
import { containersRoot, exitFromStatus, signalName, writeOrphanExit, type StateRecord } from './records';
import { StdinHolds } from './stdin_holds';
import { TerminalHolds } from './terminal_holds';
import { rotateInPlace } from './log_rotation';

const REAP_EVERY_MS = 100;
/** How often the stdin_once FIFOs are checked (stdin_holds.ts); also the delay of their end-of-file. */
const HOLD_EVERY_MS = 250;
const RESTART_DELAYS_MS = [0, 100, 500, 2000, 5000];
const ROTATE_EVERY_MS = 60_000;
/** A monitor that ran this long resets the restart backoff. */
const STEADY_MS = 10_000;

function runKeeper(argv: string[]): number {
  const { runDir, monitorEntry, passThrough } = parseKeeperFlags(argv);
  fs.mkdirSync(runDir, { recursive: true, mode: 0o711 });
  const lockPath = path.join(runDir, 'keeper.lock');
  const lockFd = fs.openSync(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  if (!tryLockExclusive(lockFd, lockPath)) return 0; // one keeper per node; this one is not needed
  fs.ftruncateSync(lockFd, 0);
  fs.writeSync(lockFd, `${process.pid}\n`, 0);
  becomeChildSubreaper();

  let monitor: ChildProcess | undefined;
  let failures = 0;
  const startMonitor = () => {
    const startedAt = Date.now();
    monitor = spawn(
      process.execPath,
      [...MONITOR_NODE_FLAGS, monitorEntry, '--run-dir', runDir, ...passThrough],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: process.env,
      },
    );
    monitor.once('exit', (code, signal) => {
      monitor = undefined;
      if (code === 0) process.exit(0); // asked to stop
      crashPoint('keeper/monitor-exited');
      failures = Date.now() - startedAt > STEADY_MS ? 0 : failures + 1;
      const delay = RESTART_DELAYS_MS[Math.min(failures, RESTART_DELAYS_MS.length - 1)];
      log(`monitor exited (code ${code}, signal ${signal}); restarting in ${delay} ms`);
      setTimeout(startMonitor, delay);
    });
  };
  startMonitor();
  setInterval(() => reapOrphans(runDir, () => monitor?.pid), REAP_EVERY_MS);
  const holds = new StdinHolds(runDir);
  const terminals = new TerminalHolds(runDir);
  setInterval(() => {
    try {
      holds.sync();
    } catch (err) {
      log(`cannot hold the stdin_once FIFOs: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      terminals.sync();
    } catch (err) {
      log(`cannot hold the terminals: ${err instanceof Error ? err.message : String(err)}`);
    }
  }, HOLD_EVERY_MS);
  // The monitor inherits our stderr, monitor.log: we keep its size in check for both of us.
  setInterval(() => {
    try {
      if (rotateInPlace(path.join(runDir, 'monitor.log'), 2)) log('rotated monitor.log to monitor.log.1');
    } catch (err) {
      log(`cannot rotate monitor.log: ${err instanceof Error ? err.message : String(err)}`);
    }
  }, ROTATE_EVERY_MS);
  process.on('SIGTERM', () => process.exit(0)); // the monitor goes on without us
  return 0;
}

function reapOrphans(runDir: string, monitorPid: () => number | undefined): void {
  for (const pid of childPids()) {
    if (pid === monitorPid()) continue; // libuv's child: its status is libuv's to take
    const identity = readProcIdentity(pid);
    if (identity?.state !== 'Z') continue;
    const status = reapIfExited(pid);
    if (status === undefined) continue;
    crashPoint('keeper/orphan/before-record');
    const container = containerOf(runDir, pid, identity.startTime);
    if (!container) continue; // an exec or a container's stray child: nobody asks for it
    const { code, signal } = decodeWaitStatus(status);
    const exit = exitFromStatus(code, signal === null ? null : signalName(signal), nowNs());
    exit.message = 'Reaped by the keeper after its monitor died';
    writeOrphanExit(runDir, pid, identity.startTime, exit);
    log(`recorded the exit of container ${container} (pid ${pid}): ${exit.exitCode}`);
  }
}

/** Our children, from /proc/<pid>/task/<tid>/children (orphans are re-parented to any thread). */
function childPids(): number[] {
  const tasks = fs.readdirSync(`/proc/${process.pid}/task`);
  const pids = new Set<number>();
  for (const tid of tasks) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const pid of text.split(' ').filter(Boolean)) pids.add(Number(pid));
  }
  return [...pids];
}

function containerOf(runDir: string, pid: number, startTime: string): string | undefined {
  const root = containersRoot(runDir);
  if (!fs.existsSync(root)) return undefined;
  for (const id of fs.readdirSync(root)) {
    try {
      const state = JSON.parse(fs.readFileSync(path.join(root, id, 'state.json'), 'utf8')) as StateRecord;
      if (state.pid === pid && state.startTime === startTime) return id;
    } catch {
      // no state yet, or half gone: not the one
    }
  }
  return undefined;
}

function parseKeeperFlags(argv: string[]): { runDir: string; monitorEntry: string; passThrough: string[] } {
  let runDir: string | undefined;
  let monitorEntry = path.join(__dirname, 'main.js');
  const passThrough: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--run-dir') runDir = argv[++i];
    else if (argv[i] === '--monitor-entry') monitorEntry = argv[++i];
    else passThrough.push(argv[i]);
  }
  if (!runDir) throw new Error('Cannot start the keeper: --run-dir is required');
  return { runDir, monitorEntry, passThrough };
}

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} keeper[${process.pid}]: ${message}\n`);
}

if (require.main === module) {
  try {
    runKeeper(process.argv.slice(2));
  } catch (err) {
    log(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
