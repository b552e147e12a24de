// Attack: a container that can write its own log directory (the pod's log directory shared into it
// as a volume, as a log shipper sidecar might have) swaps its log file, or the directory that holds
// it, for a symlink to a host path, then waits for the kubelet's rotation: ReopenContainerLog made
// the monitor (root, on the host) create and append to whatever the link named. The reopen must be
// refused, nothing written through the link, and the container's log must go on where it was.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUSYBOX, type CriEnv, startCriEnv, stopCriEnv } from '../support/cri_env';

let env: CriEnv | undefined;
let work: string;

jest.setTimeout(180_000);

beforeAll(async () => {
  env = await startCriEnv();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-loglinks-'));
});

afterAll(async () => {
  await stopCriEnv(env);
  fs.rmSync(work, { recursive: true, force: true });
});

/** A pod whose log directory is mounted read-write into its one container at /logs; returns the ids. */
async function podWithWritableLogs(name: string, script: string) {
  const cri = env!.cri;
  const logDir = path.join(work, name, 'pod-logs');
  fs.mkdirSync(logDir, { recursive: true });
  const config = {
    metadata: { name, namespace: 'attack', uid: `uid-${name}`, attempt: 0 },
    log_directory: logDir,
  };
  const podId = (await cri.runtime<{ pod_sandbox_id: string }>('RunPodSandbox', { config }, 60_000))
    .pod_sandbox_id;
  const { container_id: containerId } = await cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: podId,
      config: {
        metadata: { name: 'c' },
        image: { image: BUSYBOX },
        command: ['sh', '-c', script],
        log_path: 'c/0.log',
        mounts: [{ container_path: '/logs', host_path: logDir }],
      },
      sandbox_config: config,
    },
    60_000,
  );
  await cri.runtime('StartContainer', { container_id: containerId }, 60_000);
  return { podId, containerId, logDir };
}

async function waitForFile(file: string): Promise<void> {
  for (let i = 0; i < 100 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
  if (!fs.existsSync(file)) throw new Error(`${file} never appeared`);
}

/** The canary a link points at: a host file the attack wants written. */
function canary(name: string): { file: string; before: string } {
  const file = path.join(work, `${name}-host-canary`);
  fs.writeFileSync(file, 'host secret\n', { mode: 0o600 });
  return { file, before: 'host secret\n' };
}

describe('ReopenContainerLog never follows a link the container planted', () => {
  test('a log file swapped for a symlink to a host file: the reopen fails, the host file is untouched', async () => {
    const host = canary('file');
    // The container renames its log away, as the kubelet does before a reopen, and plants the link.
    const { containerId, logDir } = await podWithWritableLogs(
      'filelink',
      `echo before; while [ ! -e /logs/c/0.log ]; do sleep 0.1; done; ` +
        `mv /logs/c/0.log /logs/c/0.log.1; ln -s ${host.file} /logs/c/0.log; touch /logs/planted; ` +
        `while true; do echo after; sleep 0.2; done`,
    );
    await waitForFile(path.join(logDir, 'planted'));
    await expect(env!.cri.runtime('ReopenContainerLog', { container_id: containerId })).rejects.toThrow(
      /0\.log.*symlink|symlink.*0\.log/,
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(fs.readFileSync(host.file, 'utf8')).toBe(host.before);
    expect(fs.lstatSync(path.join(logDir, 'c', '0.log')).isSymbolicLink()).toBe(true);
    // The log goes on in the file the monitor already had open.
    expect(fs.readFileSync(path.join(logDir, 'c', '0.log.1'), 'utf8')).toContain('after');
  });

  test('a log directory swapped for a symlink to a host directory: no file is created there', async () => {
    const hostDir = path.join(work, 'host-dir');
    fs.mkdirSync(hostDir);
    const { containerId, logDir } = await podWithWritableLogs(
      'dirlink',
      `while [ ! -e /logs/c/0.log ]; do sleep 0.1; done; ` +
        `mv /logs/c /logs/c.old; ln -s ${hostDir} /logs/c; touch /logs/planted; ` +
        `while true; do echo after; sleep 0.2; done`,
    );
    await waitForFile(path.join(logDir, 'planted'));
    await expect(env!.cri.runtime('ReopenContainerLog', { container_id: containerId })).rejects.toThrow(
      /symlink/,
    );
    expect(fs.readdirSync(hostDir)).toEqual([]);
  });
});
