// Shared pieces of the monitor's integration tests: a temp runDir, a monitor started from a
// test-only transpile (see transpile.ts) with the plain launcher, specs for host processes, and
// waiting without timing assertions.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ensureMonitor, type ExitRecord, type MonitorClient } from '../../../src/monitor';
import type { ContainerSpec } from '../../../src/runtime';
// Only the spec builder: the rest of the engine is not needed to run host processes.
import { defaultSpec } from '../../../src/runtime/spec/defaults';
import { transpileMonitor, type TranspiledMonitor } from './transpile';

export const silentLog = pino({ level: 'silent' });

export { transpileMonitor, type TranspiledMonitor };

export interface MonitorFixture {
  root: string;
  runDir: string;
  logDir: string;
  connect(): Promise<MonitorClient>;
  /** pid of the monitor that holds the lock now. */
  monitorPid(): number;
  keeperPid(): number;
  cleanup(): void;
}

/** A temp runDir for one test; `monitor` comes from transpileMonitor() in the file's beforeAll. */
export function monitorFixture(
  monitor: TranspiledMonitor,
  launcher: 'plain' | 'engine' = 'plain',
): MonitorFixture {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-monitor-'));
  const runDir = path.join(root, 'run');
  const logDir = path.join(root, 'logs');
  return {
    root,
    runDir,
    logDir,
    connect: () => ensureMonitor({ runDir, log: silentLog, entry: monitor.entry, launcher }),
    monitorPid: () => Number(fs.readFileSync(path.join(runDir, 'monitor.lock'), 'utf8').trim()),
    keeperPid: () => Number(fs.readFileSync(path.join(runDir, 'keeper.lock'), 'utf8').trim()),
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** A spec the plain launcher runs as `sh -c script` on the host. */
export function shellSpec(id: string, script: string, cwd = '/'): ContainerSpec {
  return defaultSpec({ id, rootPath: '/', args: ['/bin/sh', '-c', script], cwd });
}

/** Resolves once `check` returns a value, polling; fails with `what` after a generous limit. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Gave up waiting for ${what}`);
}

/** Collects exit events by container id. */
export function exitsOf(client: MonitorClient): Map<string, ExitRecord> {
  const exits = new Map<string, ExitRecord>();
  client.on('exit', (id, exit) => exits.set(id, exit));
  return exits;
}

/** Parses a CRI log: every line must have the four fields. */
export function readCriLog(file: string): { stream: string; tag: string; content: string }[] {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([FP]) ([^\n]*)$/.exec(line);
      if (!match) throw new Error(`Not a CRI log line: '${line}'`);
      return { stream: match[2], tag: match[3], content: match[4] };
    });
}

/** True when the pid is gone or a zombie (exited, waiting for a parent that is not us). */
export function processGone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}
