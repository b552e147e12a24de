// The monitor process: `node dist/monitor/main.js --run-dir <dir> [--state-dir <dir>]`, or
// `nodelet monitor …`. One per node (a lock in runDir keeps a second one off). It is started detached
// by the daemon's client (its own session, stdio to <runDir>/monitor.log) and outlives the daemon.
// SIGTERM stops the monitor but not the containers: the next monitor adopts them.
import fs from 'node:fs';
import path from 'node:path';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from '../common/log';
import { exitOnUnhandledRejection, runInBackground } from '../common/background';
import { tryLockExclusive } from '../runtime/sys';
import { attachSocketPath } from './attach_protocol';
import { serveAttach } from './attach_server';
import { PlainLauncher, type Launcher } from './launcher';
import { monitorSocketPath } from './protocol';
import { serveMonitor } from './server';
import { Supervisor } from './supervisor';

export interface MonitorFlags {
  runDir: string;
  /** Accepted for symmetry with the daemon; the monitor keeps nothing there (pids die at reboot). */
  stateDir?: string;
  logLevel: LogLevel;
  /** "engine" builds real containers; "plain" runs argv on the host (tests, hosts without the engine). */
  launcher: LauncherName;
  /** Container inits the engine keeps started ahead of need (0: none); default 2. */
  initPoolSize?: number;
}

export type LauncherName = 'engine' | 'plain';

function parseMonitorFlags(argv: string[]): MonitorFlags {
  const flags: Partial<MonitorFlags> = { logLevel: 'info', launcher: 'engine' };
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (name === '--run-dir') flags.runDir = value();
    else if (name === '--state-dir') flags.stateDir = value();
    else if (name === '--log-level') flags.logLevel = value() as LogLevel;
    else if (name === '--launcher') flags.launcher = value() as LauncherName;
    else if (name === '--init-pool-size') flags.initPoolSize = Number(value());
    else throw new Error(`Cannot start the monitor: unknown flag '${argv[i]}'`);
  }
  if (!flags.runDir) throw new Error('Cannot start the monitor: --run-dir is required');
  if (!LOG_LEVELS.includes(flags.logLevel as LogLevel))
    throw new Error(`Cannot start the monitor: bad --log-level`);
  const size = flags.initPoolSize;
  if (size !== undefined && !(Number.isInteger(size) && size >= 0))
    throw new Error(`Cannot start the monitor: --init-pool-size must be a whole number >= 0`);
  if (flags.launcher !== 'plain' && flags.launcher !== 'engine') {
    throw new Error(`Cannot start the monitor: unknown launcher '${flags.launcher}' (engine or plain)`);
  }
  return flags as MonitorFlags;
}

export async function runMonitor(argv: string[]): Promise<number> {
  const flags = parseMonitorFlags(argv);
  fs.mkdirSync(flags.runDir, { recursive: true, mode: 0o711 });
  const lockPath = path.join(flags.runDir, 'monitor.lock');
  const lockFd = fs.openSync(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  if (!tryLockExclusive(lockFd, lockPath)) {
    process.stderr.write(`Cannot start the monitor: another monitor holds '${lockPath}'\n`);
    return 1;
  }
  fs.ftruncateSync(lockFd, 0);
  fs.writeSync(lockFd, `${process.pid}\n`, 0);

  const log = createLogger(flags.logLevel, { role: 'monitor' });
  exitOnUnhandledRejection(log);
  const launcher: Launcher =
    flags.launcher === 'plain' ? new PlainLauncher() : loadEngineLauncher(flags.initPoolSize, log);
  const supervisor = new Supervisor({ runDir: flags.runDir, launcher, log });
  supervisor.recover();
  const stop = (code: number) => {
    supervisor.close();
    // Kills the idle pooled inits at once; their reaping needs no wait.
    runInBackground(log, 'close the launcher', () => launcher.close?.());
    fs.rmSync(monitorSocketPath(flags.runDir), { force: true });
    fs.rmSync(attachSocketPath(flags.runDir), { force: true });
    process.exit(code);
  };
  await serveMonitor({
    socketPath: monitorSocketPath(flags.runDir),
    supervisor,
    log,
    onShutdown: async (killContainers) => {
      if (killContainers) await supervisor.killAll();
      stop(0);
    },
  });
  await serveAttach({
    socketPath: attachSocketPath(flags.runDir),
    hubOf: (id) => supervisor.attachHub(id),
    log,
  });
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  log.info({ runDir: flags.runDir, launcher: launcher.name }, 'monitor serving');
  return 0;
}

/** Loaded only when used: a monitor with the plain launcher never loads the engine. */
function loadEngineLauncher(initPoolSize: number | undefined, log: Logger): Launcher {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { EngineLauncher } = require('./engine_launcher') as typeof import('./engine_launcher');
  return new EngineLauncher({ initPoolSize, log });
}

if (require.main === module) {
  runMonitor(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exit(code);
    },
    (err: unknown) => {
      process.stderr.write(`nodelet monitor: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
