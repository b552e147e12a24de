// The daemon's handle on the monitor. ensureMonitor() connects to <runDir>/monitor.sock, starting
// the keeper (which starts the monitor) first when nobody answers. When the connection drops (the
// monitor died), the client reconnects at once, starting a keeper again if none runs; the new
// monitor adopts the running containers, and the client emits 'reconnect' so the daemon can
// list() and catch the exits it missed. Exit events are subscribed on every connection.
import { crashPointEnv } from '../common/crash_point';
import { MONITOR_NODE_FLAGS } from '../common/node_flags';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { unavailable } from '../common/errors';
import { tryLockExclusive, unlock } from '../runtime/sys';
import type { Logger } from '../common/log';
import { runInBackground } from '../common/background';
import { MonitorConnection } from './connection';
import {
  monitorSocketPath,
  type ContainerInfo,
  type MonitorCounters,
  type CreatedInfo,
  type CreateParams,
  type ExecSyncParams,
  type ExecSyncResult,
  type Op,
  type ParamsOf,
  type Results,
} from './protocol';
import type { ExitRecord } from './records';

export interface EnsureMonitorOptions {
  runDir: string;
  stateDir?: string;
  log: Logger;
  /** The monitor's entry script; by default dist/monitor/main.js. */
  entry?: string;
  /** Which launcher a monitor started here uses (default: the engine's real containers). */
  launcher?: 'engine' | 'plain';
  /** Container inits a monitor started here keeps ahead of need (its default when unset). */
  initPoolSize?: number;
  /** How long to wait for a monitor to answer. */
  startTimeoutMs?: number;
}

/** How long a keeper we started may take to load before we start another. */
const KEEPER_START_GRACE_MS = 3000;

export async function ensureMonitor(options: EnsureMonitorOptions): Promise<MonitorClient> {
  const client = new MonitorClient(options);
  await client.connected();
  return client;
}

export class MonitorClient extends EventEmitter<{ exit: [id: string, exit: ExitRecord]; reconnect: [] }> {
  private current?: Promise<MonitorConnection>;
  private closed = false;

  constructor(private readonly options: EnsureMonitorOptions) {
    super();
  }

  create(params: CreateParams): Promise<CreatedInfo> {
    return this.call('create', params);
  }
  start(id: string): Promise<ContainerInfo> {
    return this.call('start', { id });
  }
  async signal(id: string, signal: number): Promise<void> {
    await this.call('signal', { id, signal });
  }
  status(id: string): Promise<ContainerInfo> {
    return this.call('status', { id });
  }
  list(): Promise<ContainerInfo[]> {
    return this.call('list', {});
  }
  async reopenLog(id: string): Promise<void> {
    await this.call('reopenLog', { id });
  }
  execSync(params: ExecSyncParams): Promise<ExecSyncResult> {
    return this.call('execSync', params);
  }
  async remove(id: string): Promise<void> {
    await this.call('remove', { id });
  }
  counters(): Promise<MonitorCounters> {
    return this.call('counters', {});
  }

  /** Stops the monitor (tests, node teardown); with killContainers, after every container exited. */
  async shutdown(killContainers: boolean): Promise<void> {
    const conn = await this.connected();
    this.closed = true; // the close that follows is expected: no restart
    await conn.request('shutdown', { killContainers });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (!conn.isOpen) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
  }

  /** Closes the connection; the monitor and its containers keep running. */
  close(): void {
    this.closed = true;
    // A connection that never came needs no closing.
    this.current?.then((conn) => conn.close()).catch(() => undefined);
  }

  connected(): Promise<MonitorConnection> {
    if (this.closed) return Promise.reject(unavailable('Cannot reach the monitor: the client is closed'));
    this.current ??= this.connect().catch((err: unknown) => {
      this.current = undefined;
      throw err;
    });
    return this.current;
  }

  private async call<O extends Op>(op: O, params: ParamsOf<O>): Promise<Results[O]> {
    const conn = await this.connected();
    return conn.request(op, params);
  }

  private async connect(): Promise<MonitorConnection> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 10_000);
    for (;;) {
      const socket = await reachOrStart(this.options);
      const conn = new MonitorConnection(
        socket,
        (event) => this.emit('exit', event.container, event.exit),
        () => this.lost(conn),
      );
      try {
        await conn.request('subscribe', {});
        return conn;
      } catch (err) {
        // A monitor killed a moment ago can still accept a connection on its way out.
        conn.close();
        if (Date.now() > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** The monitor went away: reconnect (starting a keeper if none runs) until it works or we close. */
  private lost(conn: MonitorConnection): void {
    runInBackground(this.options.log, 'reconnect to the monitor', async () => {
      const live = await this.current;
      if (live !== conn || this.closed) return;
      this.current = undefined;
      this.options.log.warn({ runDir: this.options.runDir }, 'lost the monitor; reconnecting');
      for (let attempt = 1; !this.closed; attempt++) {
        try {
          await this.connected();
          this.emit('reconnect');
          return;
        } catch (err) {
          // e.g. a dying monitor's socket accepted us just before it closed
          this.options.log.warn({ err, attempt }, 'cannot reach the monitor yet');
          await new Promise((resolve) => setTimeout(resolve, Math.min(100 * attempt, 1000)));
        }
      }
    });
  }
}

async function reachOrStart(options: EnsureMonitorOptions) {
  const socketPath = monitorSocketPath(options.runDir);
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  let startedAt = 0;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      return await MonitorConnection.open(socketPath);
    } catch (err) {
      lastError = err;
    }
    // A live keeper restarts the monitor itself; a keeper we started may still be loading.
    if (Date.now() - startedAt > KEEPER_START_GRACE_MS && !keeperRunning(options.runDir)) {
      startMonitor(options);
      startedAt = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const logPath = path.join(options.runDir, 'monitor.log');
  throw unavailable(
    `Cannot reach the monitor at '${socketPath}': ${(lastError as Error)?.message}; see '${logPath}'`,
    lastError,
  );
}

/**
 * Whether a keeper holds <runDir>/keeper.lock. Starting one only when none runs keeps a keeper
 * that is slow to load from starting a monitor after the node was shut down.
 */
function keeperRunning(runDir: string): boolean {
  const lockPath = path.join(runDir, 'keeper.lock');
  if (!fs.existsSync(lockPath)) return false;
  const fd = fs.openSync(lockPath, fs.constants.O_RDWR);
  try {
    if (!tryLockExclusive(fd, lockPath)) return true;
    unlock(fd, lockPath);
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Starts the keeper, which starts the monitor and restarts it when it dies (keeper.ts). When a
 * keeper already runs, the new one sees its lock and exits at once.
 */
function startMonitor(options: EnsureMonitorOptions): void {
  const entry = options.entry ?? defaultEntry();
  fs.mkdirSync(options.runDir, { recursive: true, mode: 0o711 });
  const out = fs.openSync(path.join(options.runDir, 'monitor.log'), 'a', 0o600);
  const keeper = path.join(path.dirname(entry), 'keeper.js');
  const args = [...MONITOR_NODE_FLAGS, keeper, '--monitor-entry', entry, '--run-dir', options.runDir];
  if (options.stateDir) args.push('--state-dir', options.stateDir);
  if (options.launcher) args.push('--launcher', options.launcher);
  if (options.initPoolSize !== undefined) args.push('--init-pool-size', String(options.initPoolSize));
  // Its own session and no inherited pipes: it must outlive us and never die of our terminal.
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...crashPointEnv() },
  });
  fs.closeSync(out);
  child.on('error', (err) => options.log.error({ err }, 'cannot start the monitor'));
  child.unref();
  options.log.info({ keeperPid: child.pid, runDir: options.runDir }, 'started the monitor keeper');
}

function defaultEntry(): string {
  const candidates = [path.join(__dirname, 'main.js'), path.resolve(__dirname, '../../dist/monitor/main.js')];
  const found = candidates.find((file) => fs.existsSync(file));
  if (!found)
    throw unavailable(
      `Cannot start the monitor: none of ${candidates.join(', ')} exists (run npm run build)`,
    );
  return found;
}
