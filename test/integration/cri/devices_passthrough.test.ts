// CRI ContainerConfig.devices through a real daemon: the node appears at the container path with
// the host's numbers, its cgroup rule carries the permissions asked for, a bad host path is refused
// before anything is made. And /metrics counts how each container's init started.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestCriClient } from '../../support/cri_client';
import { BUSYBOX, CriEnv, scrapeMetrics, startCriEnv, stopCriEnv } from '../../support/cri_env';
import type { TestDaemon } from '../../support/daemon';

const IMAGE = BUSYBOX;
let env: CriEnv | undefined;
let daemon: TestDaemon;
let cri: TestCriClient;
let logs: string;
let pod: string;
const podConfig = {
  metadata: { name: 'passthrough', namespace: 'devices', uid: 'uid-passthrough', attempt: 0 },
  log_directory: '',
};

jest.setTimeout(180_000);

beforeAll(async () => {
  env = await startCriEnv({ args: ['--metrics-address', '127.0.0.1:0'] });
  ({ daemon, cri } = env);
  logs = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-devpass-'));
  podConfig.log_directory = logs;
  ({ pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config: podConfig },
    60_000,
  ));
});

afterAll(async () => {
  await stopCriEnv(env);
  fs.rmSync(logs, { recursive: true, force: true });
});

type Device = { host_path: string; container_path: string; permissions: string };

function createContainer(name: string, devices: Device[]) {
  return cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: pod,
      config: { metadata: { name }, image: { image: IMAGE }, command: ['sleep', '3600'], devices },
      sandbox_config: podConfig,
    },
    60_000,
  );
}

async function runContainer(name: string, devices: Device[]): Promise<string> {
  const { container_id: id } = await createContainer(name, devices);
  await cri.runtime('StartContainer', { container_id: id }, 60_000);
  return id;
}

async function sh(id: string, script: string) {
  const r = await cri.runtime<{ stdout: Buffer; stderr: Buffer; exit_code: number }>(
    'ExecSync',
    { container_id: id, cmd: ['sh', '-c', script], timeout: 30 },
    60_000,
  );
  return { out: Buffer.from(r.stdout).toString(), err: Buffer.from(r.stderr).toString(), code: r.exit_code };
}

function getMetrics(): Promise<string> {
  return scrapeMetrics(daemon);
}

describe('host devices passed to containers', () => {
  test('a device mapped read-write can be written at its container path and has the host numbers', async () => {
    const id = await runContainer('rw', [
      { host_path: '/dev/null', container_path: '/dev/mydev', permissions: 'rw' },
    ]);
    const r = await sh(id, 'echo hello > /dev/mydev && stat -c %t,%T /dev/mydev');
    expect(r).toEqual({ out: '1,3\n', err: '', code: 0 });
  });

  // /dev/zero is in the default allow-list (rwm), and cgroup rules only add: as with containerd and
  // runc, an "r" mapping of it stays writable. /dev/loop-control (c 10:237) is not in that list,
  // and opening it does nothing, so it shows what an "r" rule alone allows.
  test('a device mapped read-only opens for reading but not for writing', async () => {
    const id = await runContainer('ro', [
      { host_path: '/dev/loop-control', container_path: '/dev/ro', permissions: 'r' },
      { host_path: '/dev/zero', container_path: '/dev/zero-ro', permissions: 'r' },
    ]);
    expect(await sh(id, ': < /dev/ro && echo READ')).toEqual({ out: 'READ\n', err: '', code: 0 });
    const write = await sh(id, ': > /dev/ro');
    expect(write.code).not.toBe(0);
    expect(write.err).toMatch(/Operation not permitted/);
    expect((await sh(id, 'head -c 4 /dev/zero-ro | wc -c')).out.trim()).toBe('4');
  });

  test('a host path that does not exist fails CreateContainer with INVALID_ARGUMENT and leaves no container', async () => {
    const absent = path.join(logs, 'no-such-device');
    await expect(
      createContainer('absent', [{ host_path: absent, container_path: '/dev/x', permissions: 'rw' }]),
    ).rejects.toMatchObject({ code: 3, details: expect.stringContaining(`Cannot add device '${absent}'`) });
    const { containers } = await cri.runtime<{ containers: { metadata: { name: string } }[] }>(
      'ListContainers',
      {},
    );
    expect(containers.map((c) => c.metadata.name)).not.toContain('absent');
    // The name was released: a good create under it succeeds.
    await expect(createContainer('absent', [])).resolves.toHaveProperty('container_id');
  });

  test('every created container counts one init start, from the pool or cold', async () => {
    const body = await getMetrics();
    const counts = [
      ...body.matchAll(/^nodelet_init_start_duration_seconds_count\{source="(pool|cold)"\} (\d+)$/gm),
    ];
    const total = counts.reduce((sum, m) => sum + Number(m[2]), 0);
    // rw, ro and the good "absent" were created above (the refused one never reached the monitor).
    expect(total).toBe(3);
  });
});
