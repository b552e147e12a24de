// A daemon whose start-up fails part way (a port it needs is taken) undoes what it had opened and
// exits with an error naming the step; once the port is free, the next start on the same root works.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { criClient } from '../../support/cri_client';
import { startDaemon, shutdownMonitor } from '../../support/daemon';

/** A TCP server the test holds on a loopback port, so the daemon cannot have it. */
async function holdPort(): Promise<{ address: string; release: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The daemon's start fails: its error, which startDaemon reports with the exit code and the log. */
async function failedStart(options: Parameters<typeof startDaemon>[0]): Promise<string> {
  const started = await startDaemon({ ...options, timeoutMs: 30_000 }).then(
    async (d) => {
      await d.stop();
      return undefined;
    },
    (err: Error) => err.message,
  );
  if (started === undefined) throw new Error('the daemon started although its port was taken');
  return started;
}

/** Whether some process holds the flock on `file` (the daemon's socket lock). */
function lockHeld(file: string): boolean {
  return spawnSync('flock', ['--nonblock', file, 'true']).status !== 0;
}

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-test-'));
});

afterEach(async () => {
  await shutdownMonitor(path.join(root, 'run'));
  spawnSync('ip', ['link', 'delete', `nlt${path.basename(root).slice(-6)}`], { stdio: 'ignore' });
  fs.rmSync(root, { recursive: true, force: true });
});

const socketOf = (r: string) => path.join(r, 'run', 'nodelet.sock');

describe('a daemon whose start-up fails part way', () => {
  test('exits when the metrics address is taken, naming it, with its socket and lock given back; starts once it is free', async () => {
    const held = await holdPort();
    const args = ['--metrics-address', held.address];
    try {
      // The metrics server is the last step: the gRPC and streaming servers were already up.
      const error = await failedStart({ root, args });
      expect(error).toContain('did not start (exit 1)');
      expect(error).toContain(`Cannot start the metrics server on '${held.address}'`);
      expect(error).toContain('EADDRINUSE');
      expect(fs.existsSync(socketOf(root))).toBe(false);
      expect(lockHeld(`${socketOf(root)}.lock`)).toBe(false);
    } finally {
      await held.release();
    }

    const daemon = await startDaemon({ root, args, timeoutMs: 30_000 });
    const cri = criClient(daemon.endpoint);
    try {
      await expect(cri.runtime('Version', { version: 'v1' })).resolves.toMatchObject({
        runtime_name: 'nodelet',
      });
      const metrics = await fetch(`http://${held.address}/healthz`);
      expect(metrics.status).toBe(200);
    } finally {
      cri.close();
      expect(await daemon.stop()).toBe(0);
    }
  });

  test('exits when the streaming port is taken, after closing its monitor connection; starts once it is free', async () => {
    const held = await holdPort();
    const config = { streamingAddress: held.address };
    try {
      // The streaming server comes after the monitor connection and the stats timer: both must
      // be closed again, or the process would live on without serving.
      const error = await failedStart({ root, config });
      expect(error).toContain('did not start (exit 1)');
      expect(error).toContain(`Cannot start the streaming server on '${held.address}'`);
      expect(error).toContain('EADDRINUSE');
      expect(fs.existsSync(socketOf(root))).toBe(false);
      expect(lockHeld(`${socketOf(root)}.lock`)).toBe(false);
    } finally {
      await held.release();
    }

    const daemon = await startDaemon({ root, config, timeoutMs: 30_000 });
    const cri = criClient(daemon.endpoint);
    try {
      await expect(cri.runtime('Version', { version: 'v1' })).resolves.toMatchObject({
        runtime_name: 'nodelet',
      });
    } finally {
      cri.close();
      expect(await daemon.stop()).toBe(0);
    }
  });
});
