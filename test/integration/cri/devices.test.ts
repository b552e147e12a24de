// The devices cgroup: a root container may make a device node, but opens only the default ones.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestCriClient } from '../../support/cri_client';
import { BUSYBOX, CriEnv, startCriEnv, stopCriEnv } from '../../support/cri_env';

const IMAGE = BUSYBOX;
let env: CriEnv | undefined;
let cri: TestCriClient;
let logs: string;

jest.setTimeout(180_000);

beforeAll(async () => {
  env = await startCriEnv();
  ({ cri } = env);
  logs = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-devlogs-'));
});

afterAll(async () => {
  // Pods first: their pinned namespaces and /dev/shm are mounts under the daemon's root.
  await stopCriEnv(env);
  fs.rmSync(logs, { recursive: true, force: true });
});

async function runContainer(name: string, privileged: boolean): Promise<string> {
  const podConfig = {
    metadata: { name, namespace: 'devices', uid: `uid-${name}`, attempt: 0 },
    log_directory: logs,
    linux: { security_context: { privileged } },
  };
  const { pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config: podConfig },
    60_000,
  );
  const { container_id: id } = await cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: pod,
      config: {
        metadata: { name },
        image: { image: IMAGE },
        command: ['sleep', '3600'],
        linux: { security_context: { privileged } },
      },
      sandbox_config: podConfig,
    },
    60_000,
  );
  await cri.runtime('StartContainer', { container_id: id }, 60_000);
  return id;
}

/**
 * Makes /dev/kmsg's node (c 1:11: outside the default list, and one this host lets root open) and
 * opens it for reading.
 */
async function tryOpenKmsg(id: string) {
  const script = 'mknod /dev/probe c 1 11 && : < /dev/probe && echo OPENED';
  const r = await cri.runtime<{ stdout: Buffer; stderr: Buffer; exit_code: number }>(
    'ExecSync',
    { container_id: id, cmd: ['sh', '-c', script], timeout: 30 },
    60_000,
  );
  return { out: Buffer.from(r.stdout).toString(), err: Buffer.from(r.stderr).toString(), code: r.exit_code };
}

describe('device access of containers', () => {
  test('an unprivileged root container can make a device node but not open one outside the default list', async () => {
    const id = await runContainer('plain', false);
    const r = await tryOpenKmsg(id);
    expect(r.out).not.toContain('OPENED');
    expect(r.err).toMatch(/Operation not permitted/);
    const ok = await cri.runtime<{ stdout: Buffer; exit_code: number }>(
      'ExecSync',
      {
        container_id: id,
        cmd: ['sh', '-c', 'echo x > /dev/null && head -c 4 /dev/urandom | wc -c'],
        timeout: 30,
      },
      60_000,
    );
    expect(ok.exit_code).toBe(0);
    expect(Buffer.from(ok.stdout).toString().trim()).toBe('4');
  });

  test('a privileged container may open every device', async () => {
    const id = await runContainer('privileged', true);
    const r = await tryOpenKmsg(id);
    expect(r).toEqual({ out: 'OPENED\n', err: '', code: 0 });
  });
});
