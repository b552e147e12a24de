// Debian's real Prometheus (apt package prometheus) in a temporary directory, scraping what the
// test says, for the metrics integration tests. Stopped by its pid; its directory is removed.
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const PROMTOOL_BIN = '/usr/bin/promtool';
export const MONITORING_DIR = path.resolve(__dirname, '..', '..', '..', 'manifests', 'monitoring');

export interface TestPrometheus {
  url: string;
  dir: string;
  /** GET /api/v1/<path> and return its parsed JSON body (status "success" or "error"). */
  api<T = unknown>(
    apiPath: string,
    params?: Record<string, string>,
  ): Promise<{ status: string; data: T; error?: string }>;
  logs(): string;
  stop(): Promise<void>;
}

/** A TCP port that was free a moment ago (bound to port 0, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts Prometheus on the shipped configuration, rewritten for a test: the scrape target, 1 s
 * scrape and evaluation intervals, and any extra jobs. The alert rules file is copied beside it.
 */
export async function startPrometheus(
  target: string,
  extraJobs: { job: string; target: string }[] = [],
): Promise<TestPrometheus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-prom-'));
  // scrape_configs is the file's last key, so further jobs can be appended as text.
  const config =
    fs
      .readFileSync(path.join(MONITORING_DIR, 'prometheus.yml'), 'utf8')
      .replace(/127\.0\.0\.1:10375/g, target)
      .replace(/(scrape_interval|evaluation_interval): \S+/g, '$1: 1s') +
    extraJobs
      .map((j) => `  - job_name: ${j.job}\n    static_configs:\n      - targets: ['${j.target}']\n`)
      .join('');
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), config);
  fs.copyFileSync(path.join(MONITORING_DIR, 'nodelet-alerts.yml'), path.join(dir, 'nodelet-alerts.yml'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let logs = '';
  proc.stdout?.on('data', (d: Buffer) => (logs += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, 'SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20000;
  while (true) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`Cannot start prometheus: it exited with ${proc.exitCode}:\n${logs}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Cannot start prometheus: not ready after 20 s:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dir,
    api: async (apiPath, params = {}) => {
      const res = await fetch(`${url}/api/v1/${apiPath}?${new URLSearchParams(params)}`);
      return res.json() as never;
    },
    logs: () => logs,
    stop,
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
