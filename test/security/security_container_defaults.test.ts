// What a container gets when its CRI config says nothing, and what a Localhost seccomp reference
// may point at, on a real daemon:
//   - a fresh cgroup namespace: /proc/self/cgroup shows "/" and no host path (the daemon's cgroup
//     parent would tell a container where it runs and name its neighbours' cgroups);
//   - oom_score_adj 0, not the daemon's own value (here the daemon runs with 500, so every
//     container inherited a raised score), and a request below the floor clamped and logged;
//   - a Localhost seccomp reference with "..", a relative path or a FIFO is refused at
//     CreateContainer, and a file that is not a profile is never quoted back.
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildImage, HostileRegistry } from '../integration/image/hostile_registry';
import { criClient, type TestCriClient } from '../support/cri_client';
import { stopCriEnv } from '../support/cri_env';
import { startDaemon, type TestDaemon } from '../support/daemon';
import { busyboxLayer } from './hostile_layers';

jest.setTimeout(180_000);

const DAEMON_OOM_SCORE_ADJ = 500;

let registry: HostileRegistry;
let daemon: TestDaemon;
let cri: TestCriClient;
let tmp: string;
let pod: string;
let image: string;
const podConfig = {
  metadata: { name: 'defaults', namespace: 'security', uid: 'uid-defaults', attempt: 0 },
};

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-defaults-'));
  fs.mkdirSync(path.join(tmp, 'seccomp'));
  registry = new HostileRegistry();
  await registry.start();
  registry.add('plain/busybox', '1', buildImage([await busyboxLayer()]));
  image = `${registry.host}/plain/busybox:1`;
  // The daemon (and its monitor) inherit this worker's score; raising it needs no privilege, and
  // the worker lowers it back to its own floor once the daemon runs.
  const own = fs.readFileSync('/proc/self/oom_score_adj', 'utf8').trim();
  fs.writeFileSync('/proc/self/oom_score_adj', String(DAEMON_OOM_SCORE_ADJ));
  try {
    daemon = await startDaemon({ timeoutMs: 30_000 });
  } finally {
    fs.writeFileSync('/proc/self/oom_score_adj', own);
  }
  cri = criClient(daemon.endpoint);
  await cri.image('PullImage', { image: { image } }, 120_000);
  ({ pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config: podConfig },
    60_000,
  ));
});

afterAll(async () => {
  await stopCriEnv({ cri, daemon, registry });
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function create(name: string, linux: object = {}): Promise<string> {
  const { container_id: id } = await cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: pod,
      config: { metadata: { name }, image: { image }, command: ['sleep', '3600'], linux },
      sandbox_config: podConfig,
    },
    60_000,
  );
  return id;
}

async function running(name: string, linux: object = {}): Promise<string> {
  const id = await create(name, linux);
  await cri.runtime('StartContainer', { container_id: id }, 60_000);
  return id;
}

async function sh(id: string, script: string): Promise<string> {
  const res = await cri.runtime<{ stdout: Buffer; stderr: Buffer; exit_code: number }>(
    'ExecSync',
    { container_id: id, cmd: ['sh', '-c', script], timeout: 30 },
    60_000,
  );
  expect(res.stderr.toString()).toBe('');
  expect(res.exit_code).toBe(0);
  return res.stdout.toString();
}

async function remove(id: string): Promise<void> {
  await cri.runtime('StopContainer', { container_id: id, timeout: 0 }, 60_000);
  await cri.runtime('RemoveContainer', { container_id: id }, 60_000);
}

describe('a container that asks for nothing', () => {
  test('has its own cgroup namespace: /proc/self/cgroup shows "/" and no host path, in an exec too', async () => {
    const id = await running('cgroupns');
    for (const file of ['/proc/1/cgroup', '/proc/self/cgroup']) {
      const lines = (await sh(id, `cat ${file}`)).trim().split('\n');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/^\d+:[^:]*:\/$/);
    }
    await remove(id);
  });

  test("gets oom_score_adj 0, not the daemon's 500, in its init and in an exec", async () => {
    const id = await running('oom-default');
    expect((await sh(id, 'cat /proc/1/oom_score_adj /proc/self/oom_score_adj')).split('\n')).toEqual([
      '0',
      '0',
      '',
    ]);
    await remove(id);
  });

  test('gets the oom_score_adj it asks for, and a value below the floor is clamped and logged', async () => {
    const raised = await running('oom-raised', { resources: { oom_score_adj: '300' } });
    expect((await sh(raised, 'cat /proc/1/oom_score_adj /proc/self/oom_score_adj')).trim()).toBe('300\n300');
    await remove(raised);

    const floor = Number(fs.readFileSync('/proc/self/oom_score_adj', 'utf8').trim());
    const lowered = await running('oom-lowered', { resources: { oom_score_adj: '-999' } });
    const applied = Number((await sh(lowered, 'cat /proc/1/oom_score_adj')).trim());
    let capSysResource = false;
    try {
      fs.writeFileSync('/proc/self/oom_score_adj', '-999');
      capSysResource = true;
    } catch {
      // the node lacks CAP_SYS_RESOURCE, as these machines do
    } finally {
      fs.writeFileSync('/proc/self/oom_score_adj', String(floor));
    }
    if (capSysResource) expect(applied).toBe(-999);
    else {
      expect(applied).toBeGreaterThan(-999);
      expect(daemon.logs()).toMatch(/oom_score_adj clamped/);
    }
    await remove(lowered);
  });
});

describe('a Localhost seccomp profile', () => {
  const localhost = (ref: string) => ({
    security_context: { seccomp: { profile_type: 'Localhost', localhost_ref: ref } },
  });

  test('that leaves its directory with ".." is refused without quoting the file it reached', async () => {
    fs.writeFileSync(path.join(tmp, 'secret'), 'TOPSECRET host data\n');
    const error = await create('dotdot', localhost(`${tmp}/seccomp/../secret`)).catch(
      (e: grpc.ServiceError) => e,
    );
    expect(error).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    expect((error as grpc.ServiceError).details).toMatch(/must not leave its directory with '\.\.'/);
    expect((error as grpc.ServiceError).details).not.toMatch(/TOPSECRET/);
  });

  test('that is not JSON is refused without quoting it', async () => {
    const file = path.join(tmp, 'seccomp/not-json');
    fs.writeFileSync(file, 'TOPSECRET host data\n');
    const error = (await create('notjson', localhost(file)).catch(
      (e: grpc.ServiceError) => e,
    )) as grpc.ServiceError;
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/it is not valid JSON/);
    expect(error.details).not.toMatch(/TOPSECRET/);
  });

  test('with a field of the wrong shape is refused naming the field, without quoting its value', async () => {
    const file = path.join(tmp, 'seccomp/bad-action.json');
    const rule = { names: ['chmod'], action: 'TOPSECRET' };
    fs.writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [rule] }));
    const error = (await create('badaction', localhost(file)).catch(
      (e: grpc.ServiceError) => e,
    )) as grpc.ServiceError;
    expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error.details).toMatch(/syscalls\.0\.action: not a seccomp action/);
    expect(error.details).not.toMatch(/TOPSECRET/);
  });

  test('that is relative is refused', async () => {
    await expect(create('relative', localhost('profiles/audit.json'))).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/the path must be absolute/),
    });
  });

  test('that is a FIFO is refused within a second, and the daemon keeps answering', async () => {
    const fifo = path.join(tmp, 'seccomp/fifo.json');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    await expect(create('fifo', localhost(fifo))).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/it is a FIFO, not a regular file/),
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    await cri.runtime('Version', {}, 1_000);
  });

  test('at an absolute path under the profile directory is applied', async () => {
    const file = path.join(tmp, 'seccomp/no-hostname.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['sethostname'], action: 'SCMP_ACT_ERRNO' }],
      }),
    );
    const id = await running('applied', {
      ...localhost(file),
      security_context: {
        ...localhost(file).security_context,
        capabilities: { add_capabilities: ['CAP_SYS_ADMIN'] },
      },
    });
    expect(await sh(id, 'grep ^Seccomp: /proc/self/status')).toMatch(/^Seccomp:\s+2$/m);
    const res = await cri.runtime<{ exit_code: number; stderr: Buffer }>(
      'ExecSync',
      { container_id: id, cmd: ['hostname', 'changed'], timeout: 30 },
      60_000,
    );
    expect(res.exit_code).not.toBe(0);
    await remove(id);
  });
});
