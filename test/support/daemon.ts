// Starts a real `nodelet daemon` from dist/ in a temporary root, for integration and e2e tests.
// Every path is moved under the temp root, so tests never touch /var/lib/nodelet or /run/nodelet
// and several daemons can run side by side.
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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
  /** Removes the temp root (call after stop). */
  cleanup(): void;
}

export interface StartOptions {
  /** Reuse an existing root (a restart); a fresh temp dir otherwise. */
  root?: string;
  args?: string[];
  timeoutMs?: number;
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
  if (!fs.existsSync(path.join(root, 'config.yaml')))
    fs.writeFileSync(path.join(root, 'config.yaml'), '{}\n');
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

  const deadline = Date.now() + (options.timeoutMs ?? 15000);
  while (!stderr.includes('nodelet is serving')) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
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
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}
