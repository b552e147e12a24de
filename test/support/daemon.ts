// Starts a real `nodelet daemon` from dist/ in a temporary root, for integration and e2e tests.
// Every path is moved under the temp root, so tests never touch /var/lib/nodelet or /run/nodelet
// and several daemons can run side by side.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { removeNode } from './leftovers';

export const NODELET_BIN = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'main.js');

export interface TestDaemon {
  root: string;
  stateDir: string;
  runDir: string;
  socket: string;
  endpoint: string;
  proc: ChildProcess;
  /** Everything the daemon wrote on stderr so far (its structured log). */
  logs(): string;
  /** SIGTERM, wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /**
   * Stops the node monitor (and its keeper) that outlives the daemon by design, killing any
   * container left, then removes the temp root. Call after stop().
   */
  cleanup(): Promise<void>;
}

export interface StartOptions {
  /** Reuse an existing root (a restart); a fresh temp dir otherwise. */
  root?: string;
  args?: string[];
  /** The daemon's configuration file (YAML), written into the root. */
  config?: Record<string, unknown>;
  timeoutMs?: number;
  /** Return once the log shows this (default: the daemon serves); earlier lines catch start-up. */
  readyLine?: string;
  /** More environment variables for the daemon (and what it starts), such as a crash point. */
  env?: Record<string, string>;
  /** Flags for the daemon's node (not its children), such as `--cpu-prof`: NODE_OPTIONS refuses some. */
  nodeArgs?: string[];
  /** The node binary to run the daemon (and so all it starts) with; this process's by default. */
  execPath?: string;
}

export function requireBuilt(): void {
  if (!fs.existsSync(NODELET_BIN)) {
    throw new Error(`Cannot find ${NODELET_BIN}: run 'npm run build' before the integration tests`);
  }
}

export async function startDaemon(options: StartOptions = {}): Promise<TestDaemon> {
  requireBuilt();
  const root = options.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-test-'));
  const stateDir = path.join(root, 'state');
  const runDir = path.join(root, 'run');
  const socket = path.join(runDir, 'nodelet.sock');
  const args = [
    ...(options.nodeArgs ?? []),
    NODELET_BIN,
    'daemon',
    '--state-dir',
    stateDir,
    '--run-dir',
    runDir,
    '--metrics-address',
    '',
    '--config',
    path.join(root, 'config.yaml'),
    ...(options.args ?? []),
  ];
  const configFile = path.join(root, 'config.yaml');
  if (options.config || !fs.existsSync(configFile)) {
    // Side by side with other tests: own cgroup parent, CNI config, bridge and pod range.
    const tag = path.basename(root).slice(-6);
    const h = crypto.createHash('sha256').update(root).digest();
    const defaults = {
      cgroupParent: `/nodelet-test-${tag}`,
      cniConfDir: path.join(root, 'cni'),
      cniBridge: bridgeName(root),
      podCidr: `10.${200 + (h[0] % 50)}.${h[1]}.0/24`,
    };
    fs.writeFileSync(configFile, YAML.stringify({ ...defaults, ...(options.config ?? {}) }));
  }
  // Started in its root, so every process it starts (monitor, keeper, a pod's PID init) has its cwd
  // there and a test can tell its own leftovers from other daemons' (test/support/leftovers.ts).
  const proc = spawn(options.execPath ?? process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

  // Generous: a loaded 2-core machine has taken over 15 s to start a daemon; a healthy start is
  // no slower for it.
  const deadline = Date.now() + (options.timeoutMs ?? 60000);
  while (!stderr.includes(options.readyLine ?? 'nodelet is serving')) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      // A failed start leaves nothing running: the monitor and keeper it may have started already,
      // and everything of a root made here (a caller's root, a restart, keeps its containers).
      await Promise.race([shutdownMonitor(runDir), new Promise((r) => setTimeout(r, 10000).unref())]);
      if (!options.root) await removeNode({ root, stateDir, runDir });
      throw new Error(`nodelet daemon did not start (exit ${proc.exitCode}):\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    root,
    stateDir,
    runDir,
    socket,
    endpoint: `unix://${socket}`,
    proc,
    logs: () => stderr,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    cleanup: async () => {
      await shutdownMonitor(runDir);
      // The bridge plugin never deletes its bridge; the test's own one goes with the test.
      spawnSync('ip', ['link', 'delete', bridgeName(root)], { stdio: 'ignore' });
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Asks the monitor of a run dir to stop, with its containers unless told to leave them; nothing to
 * do when none runs.
 */
export async function shutdownMonitor(
  runDir: string,
  options: { killContainers?: boolean } = {},
): Promise<void> {
  const killContainers = options.killContainers ?? true;
  const sock = path.join(runDir, 'monitor.sock');
  if (!fs.existsSync(sock)) return;
  await new Promise<void>((resolve) => {
    const conn = net.createConnection({ path: sock });
    const done = () => {
      conn.destroy();
      resolve();
    };
    conn.once('error', done);
    conn.once('close', done);
    // Read (and drop) the answer: a paused socket never sees the monitor hang up.
    conn.resume();
    conn.once('connect', () =>
      conn.write(JSON.stringify({ v: 1, id: 1, op: 'shutdown', params: { killContainers } }) + '\n'),
    );
    setTimeout(done, 15000).unref();
  });
  // The keeper and the monitor leave once their containers are gone.
  for (const lock of ['monitor.lock', 'keeper.lock']) {
    const file = path.join(runDir, lock);
    const pid = Number(fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : NaN);
    for (let i = 0; i < 100 && pid > 0 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The test daemon's own bridge name, from its root (at most 15 characters). */
function bridgeName(root: string): string {
  return `nlt${path.basename(root).slice(-6)}`;
}
