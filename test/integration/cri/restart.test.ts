// The daemon killed -9 and started again on the same root: what the CRI answers is the same as
// before (ids, states, exit codes, pod addresses), the running container still runs and can be
// stopped, and everything can be removed afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { criClient, TestCriClient } from '../../support/cri_client';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { BUSYBOX, CriEnv, startCriEnv, stopCriEnv } from '../../support/cri_env';

const IMAGE = BUSYBOX;
let env: CriEnv | undefined;
let daemon: TestDaemon;
let cri: TestCriClient;
let logs: string;

jest.setTimeout(300_000);

beforeAll(async () => {
  env = await startCriEnv();
  ({ daemon, cri } = env);
  logs = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-restartlogs-'));
});

afterAll(async () => {
  await stopCriEnv(env);
  fs.rmSync(logs, { recursive: true, force: true });
});

interface Seen {
  pods: { id: string; state: string; ip: string }[];
  containers: { id: string; pod: string; state: string; exitCode: number; reason: string }[];
}

/** What a kubelet reads after a restart: the lists, then each status. */
async function observe(): Promise<Seen> {
  const { items } = await cri.runtime<{ items: { id: string; state: string }[] }>('ListPodSandbox', {});
  const pods = [];
  for (const p of items) {
    const s = await cri.runtime<{ status: { network: { ip: string } } }>('PodSandboxStatus', {
      pod_sandbox_id: p.id,
    });
    pods.push({ id: p.id, state: p.state, ip: s.status.network.ip });
  }
  const { containers: list } = await cri.runtime<{
    containers: { id: string; pod_sandbox_id: string; state: string }[];
  }>('ListContainers', {});
  const containers = [];
  for (const c of list) {
    const { status } = await cri.runtime<{ status: { exit_code: number; reason: string } }>(
      'ContainerStatus',
      { container_id: c.id },
    );
    containers.push({
      id: c.id,
      pod: c.pod_sandbox_id,
      state: c.state,
      exitCode: status.exit_code,
      reason: status.reason,
    });
  }
  const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
  return { pods: pods.sort(byId), containers: containers.sort(byId) };
}

async function runPod(name: string): Promise<{ id: string; config: object }> {
  const config = {
    metadata: { name, namespace: 'restart', uid: `uid-${name}`, attempt: 0 },
    log_directory: logs,
  };
  const { pod_sandbox_id: id } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config },
    60_000,
  );
  return { id, config };
}

async function runContainer(
  pod: { id: string; config: object },
  name: string,
  script: string,
  mounts: object[] = [],
) {
  const { container_id: id } = await cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: pod.id,
      config: {
        metadata: { name },
        image: { image: IMAGE },
        command: ['sh', '-c', script],
        log_path: `${name}.log`,
        mounts,
      },
      sandbox_config: pod.config,
    },
    60_000,
  );
  await cri.runtime('StartContainer', { container_id: id }, 60_000);
  return id;
}

async function waitForState(id: string, state: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const { status } = await cri.runtime<{ status: { state: string } }>('ContainerStatus', {
      container_id: id,
    });
    if (status.state === state) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`container ${id} never reached ${state}`);
}

/** The monitor's own record of an exit (<runDir>/containers/<id>/exit.json), written as it sees it. */
async function waitForMonitorExit(runDir: string, id: string): Promise<void> {
  const file = path.join(runDir, 'containers', id, 'exit.json');
  for (let i = 0; i < 600 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
  if (!fs.existsSync(file)) throw new Error(`the monitor never recorded the exit of ${id}`);
}

test('after kill -9 and a restart on the same root, pods and containers are as they were and can still be stopped and removed', async () => {
  const web = await runPod('web');
  const job = await runPod('job');
  const running = await runContainer(web, 'server', 'echo up; exec sleep 3600');
  const exited = await runContainer(job, 'task', 'echo done; exit 7');
  // Exits once the test drops a file in its volume: while the daemon is down.
  const trigger = fs.mkdtempSync(path.join(logs, 'trigger-'));
  const waiter = await runContainer(web, 'waiter', 'while [ ! -e /trigger/go ]; do sleep 0.1; done; exit 5', [
    { host_path: trigger, container_path: '/trigger' },
  ]);
  const created = (
    await cri.runtime<{ container_id: string }>(
      'CreateContainer',
      {
        pod_sandbox_id: web.id,
        config: { metadata: { name: 'idle' }, image: { image: IMAGE }, command: ['sleep', '1'] },
        sandbox_config: web.config,
      },
      60_000,
    )
  ).container_id;
  await waitForState(exited, 'CONTAINER_EXITED');
  await cri.runtime('StopPodSandbox', { pod_sandbox_id: job.id }, 60_000);
  const before = await observe();
  expect(before.containers.map((c) => [c.id, c.state, c.exitCode])).toEqual(
    expect.arrayContaining([
      [running, 'CONTAINER_RUNNING', 0],
      [exited, 'CONTAINER_EXITED', 7],
      [created, 'CONTAINER_CREATED', 0],
      [waiter, 'CONTAINER_RUNNING', 0],
    ]),
  );
  expect(before.pods.find((p) => p.id === web.id)?.ip).toMatch(/^10\./);

  cri.close();
  daemon.proc.kill('SIGKILL');
  await daemon.stop();
  fs.writeFileSync(path.join(trigger, 'go'), '');
  // The monitor records the exit whether or not a daemon listens; wait until it has.
  await waitForMonitorExit(daemon.runDir, waiter);
  daemon = await startDaemon({ root: daemon.root, timeoutMs: 30_000 });
  cri = criClient(daemon.endpoint);
  if (env) env = { ...env, daemon, cri };

  const after = await observe();
  const waiterAfter = after.containers.find((c) => c.id === waiter);
  expect(waiterAfter).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 5, reason: 'Error' });
  expect({ ...after, containers: after.containers.filter((c) => c.id !== waiter) }).toEqual({
    ...before,
    containers: before.containers.filter((c) => c.id !== waiter),
  });

  // The workload kept running while no daemon watched it, and is still under control.
  const exec = await cri.runtime<{ stdout: Buffer; exit_code: number }>(
    'ExecSync',
    { container_id: running, cmd: ['cat', '/proc/1/cmdline'], timeout: 30 },
    60_000,
  );
  expect(exec.exit_code).toBe(0);
  expect(Buffer.from(exec.stdout).toString()).toContain('sleep');
  await cri.runtime('StopContainer', { container_id: running, timeout: 5 }, 60_000);
  const { status } = await cri.runtime<{ status: { state: string; exit_code: number } }>('ContainerStatus', {
    container_id: running,
  });
  expect(status.state).toBe('CONTAINER_EXITED');
  expect(status.exit_code).not.toBe(0);
  expect(fs.readFileSync(path.join(logs, 'server.log'), 'utf8')).toContain('stdout F up');

  for (const pod of [web, job]) {
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id }, 60_000);
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id }, 60_000);
  }
  expect(await observe()).toEqual({ pods: [], containers: [] });
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4]?.startsWith(daemon.root));
  expect(mounts).toEqual([]);
});
