// Limits and identity as a pod's author sees them through the CRI, on a real daemon: a container
// over its memory limit is reported OOMKilled with exit code 137, one within it exits normally,
// and a user name the image does not know is refused at CreateContainer with a clear message.
// (The kernel side of each is tested under test/integration/cgroups and ./process_security.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { criClient, type TestCriClient } from '../../support/cri_client';
import { startDaemon, type TestDaemon } from '../../support/daemon';
import { startRegistry, type TestRegistry } from '../../support/registry';

const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const MiB = 1024 * 1024;
const EXITED = 'CONTAINER_EXITED';

let registry: TestRegistry;
let daemon: TestDaemon;
let cri: TestCriClient;
let logs: string;
let pod: string;
let podConfig: object;

jest.setTimeout(180_000);

beforeAll(async () => {
  registry = await startRegistry({ withFixtures: true });
  daemon = await startDaemon({ config: { registry: registry.mirrorConfig() }, timeoutMs: 30_000 });
  cri = criClient(daemon.endpoint);
  logs = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-isolation-logs-'));
  await cri.image('PullImage', { image: { image: IMAGE } }, 120_000);
  podConfig = {
    metadata: { name: 'isolation', namespace: 'security', uid: 'uid-isolation', attempt: 0 },
    log_directory: logs,
  };
  ({ pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config: podConfig },
    60_000,
  ));
});

afterAll(async () => {
  // The pod first: its pinned namespaces and /dev/shm are mounts under the daemon's root.
  if (cri && pod) await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod }, 60_000);
  cri?.close();
  await daemon?.stop();
  await daemon?.cleanup();
  await registry?.stop();
  if (logs) fs.rmSync(logs, { recursive: true, force: true });
});

function createContainer(name: string, config: object): Promise<{ container_id: string }> {
  return cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: pod,
      config: { metadata: { name }, image: { image: IMAGE }, log_path: `${name}.log`, ...config },
      sandbox_config: podConfig,
    },
    60_000,
  );
}

interface Status {
  state: string;
  exit_code: number;
  reason: string;
}

/** Starts the container and waits for it to exit; returns what ContainerStatus then says. */
async function runToExit(id: string): Promise<Status> {
  await cri.runtime('StartContainer', { container_id: id }, 60_000);
  for (;;) {
    const { status } = await cri.runtime<{ status: Status }>('ContainerStatus', { container_id: id });
    if (status.state === EXITED) return status;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const memoryLimited = (script: string) => ({
  command: ['sh', '-c', script],
  linux: { resources: { memory_limit_in_bytes: String(32 * MiB) } },
});

describe('isolation seen through the CRI', () => {
  test('a container that allocates 64 MiB under a 32 MiB limit is OOMKilled with exit code 137', async () => {
    const { container_id: id } = await createContainer(
      'oom',
      memoryLimited('dd if=/dev/zero of=/dev/null bs=64M count=1'),
    );
    expect(await runToExit(id)).toMatchObject({ exit_code: 137, reason: 'OOMKilled' });
    await cri.runtime('RemoveContainer', { container_id: id }, 60_000);
  });

  test('a container that stays within its memory limit exits 0 and is not called OOMKilled', async () => {
    const { container_id: id } = await createContainer(
      'fits',
      memoryLimited('dd if=/dev/zero of=/dev/null bs=8M count=1'),
    );
    const status = await runToExit(id);
    expect(status.exit_code).toBe(0);
    expect(status.reason).not.toBe('OOMKilled');
    await cri.runtime('RemoveContainer', { container_id: id }, 60_000);
  });

  test('a user name missing from the image’s /etc/passwd fails CreateContainer and says so', async () => {
    await expect(
      createContainer('nouser', {
        command: ['true'],
        linux: { security_context: { run_as_username: 'no-such-user' } },
      }),
    ).rejects.toMatchObject({
      details: expect.stringMatching(/user 'no-such-user': no such user in the image's \/etc\/passwd/),
    });
    const { containers } = await cri.runtime<{ containers: unknown[] }>('ListContainers', {
      filter: { pod_sandbox_id: pod },
    });
    expect(containers).toEqual([]);
  });
});
