// The crash-point walk of the monitor and the keeper (src/common/crash_point.ts): each point makes
// one of them die by SIGKILL in the middle of its work (the keeper restarts the monitor; the
// daemon starts a keeper again when none runs), and the container concerned keeps running or is
// reported exited, never lost silently; once every pod is removed nothing remains.
import fs from 'node:fs';
import path from 'node:path';
import { removeAllPods } from '../../support/cri_client';
import { BUSYBOX } from '../../support/cri_env';
import { shutdownMonitor } from '../../support/daemon';
import { leftovers, processesIn } from '../../support/leftovers';
import YAML from 'yaml';
import { useRestartableNode } from '../../support/restartable_node';

jest.setTimeout(600_000);

const node = useRestartableNode(60_000);
let before: string[] = [];

const start = (env?: Record<string, string>) => node.start(env);
const stop = () => node.stop();

beforeEach(() => {
  if (node.daemon) before = leftovers(node.daemon, { daemonPid: node.daemon.proc.pid });
});

/** A daemon whose new keeper and monitor carry the crash point; returns the file that says it fired. */
async function armed(point: string): Promise<string> {
  await stop();
  await shutdownMonitor(node.daemon!.runDir); // the next keeper and monitor must be started with the point
  const once = path.join(node.root!, 'crashed');
  fs.rmSync(once, { force: true });
  await start({ NODELET_CRASH_POINT: point, NODELET_CRASH_ONCE: once });
  return once;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const POD = {
  metadata: { name: 'm', namespace: 'crash-monitor', uid: 'uid-m', attempt: 0 },
  linux: { security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER' } } },
};

async function runPod(): Promise<string> {
  return (await node.cri.runtime<{ pod_sandbox_id: string }>('RunPodSandbox', { config: POD }, 60_000))
    .pod_sandbox_id;
}

async function createContainer(podId: string, name = 'app'): Promise<string> {
  const { container_id } = await node.cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: podId,
      config: { metadata: { name }, image: { image: BUSYBOX }, command: ['sleep', '3600'] },
      sandbox_config: POD,
    },
    60_000,
  );
  return container_id;
}

async function status(id: string): Promise<{ state: string; reason: string; exit_code: number }> {
  return (
    await node.cri.runtime<{ status: { state: string; reason: string; exit_code: number } }>(
      'ContainerStatus',
      {
        container_id: id,
      },
    )
  ).status;
}

async function expectRunsAndExecs(id: string): Promise<void> {
  expect((await status(id)).state).toBe('CONTAINER_RUNNING');
  const res = await until('an exec', () =>
    node.cri.runtime<{ stdout: Buffer; exit_code: number }>(
      'ExecSync',
      { container_id: id, cmd: ['echo', 'ok'], timeout: 30 },
      60_000,
    ),
  );
  expect({ exit: res.exit_code, out: Buffer.from(res.stdout).toString() }).toEqual({ exit: 0, out: 'ok\n' });
}

function monitorPid(): number {
  return Number(fs.readFileSync(path.join(node.daemon!.runDir, 'monitor.lock'), 'utf8').trim());
}

async function expectCleanAfterRemovingPods(): Promise<void> {
  await removeAllPods(node.daemon!.endpoint);
  const { items } = await node.cri.runtime<{ items: unknown[] }>('ListPodSandbox');
  expect(items).toEqual([]);
  // A pod's processes may take a moment to leave after the monitor that held them was replaced.
  let left: string[] = [];
  for (let i = 0; i < 25; i++) {
    left = leftovers(node.daemon!, { daemonPid: node.daemon!.proc.pid }).filter((l) => !before.includes(l));
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(left).toEqual([]);
}

test('a monitor killed after spawning a container, before its state is written: the container is absent and can be created again', async () => {
  const once = await armed('monitor/create/after-spawn');
  const podId = await runPod();
  const answer = await createContainer(podId).then(
    () => 'answered',
    (err: Error) => err.message,
  );
  expect(fs.existsSync(once)).toBe(true);
  expect(answer).not.toBe('answered');
  const { containers } = await node.cri.runtime<{ containers: unknown[] }>('ListContainers', {});
  expect(containers).toEqual([]);
  const id = await until('a create on the new monitor', () => createContainer(podId));
  await node.cri.runtime('StartContainer', { container_id: id }, 60_000);
  await expectRunsAndExecs(id);
  await expectCleanAfterRemovingPods();
});

test('a monitor killed after recording a start, before the workload runs: the container is reported exited', async () => {
  const once = await armed('monitor/start/after-record');
  const podId = await runPod();
  const id = await createContainer(podId);
  await node.cri.runtime('StartContainer', { container_id: id }, 60_000).catch(() => undefined);
  expect(fs.existsSync(once)).toBe(true);
  const exited = await until('the exit', async () => {
    const s = await status(id);
    return s.state === 'CONTAINER_EXITED' ? s : undefined;
  });
  expect(exited.exit_code).not.toBe(0);
  // Reported exited means exited: the workload must not run behind the report.
  const { cgroupParent } = YAML.parse(fs.readFileSync(path.join(node.root!, 'config.yaml'), 'utf8')) as {
    cgroupParent: string;
  };
  expect(processesIn(cgroupParent).filter((p) => p.includes('sleep'))).toEqual([]);
  await expectCleanAfterRemovingPods();
});

test('a monitor killed while recording an exit: the container is reported exited (Unknown), not lost', async () => {
  const once = await armed('monitor/exit/before-record');
  const podId = await runPod();
  const id = await createContainer(podId);
  await node.cri.runtime('StartContainer', { container_id: id }, 60_000);
  await node.cri.runtime('StopContainer', { container_id: id, timeout: 0 }, 60_000).catch(() => undefined);
  expect(fs.existsSync(once)).toBe(true);
  const exited = await until('the exit', async () => {
    const s = await status(id);
    return s.state === 'CONTAINER_EXITED' ? s : undefined;
  });
  expect(exited.reason).toBe('Unknown');
  await expectCleanAfterRemovingPods();
});

test('a keeper killed as its monitor died: the container keeps running, and a restarted node.daemon brings both back', async () => {
  const once = await armed('keeper/monitor-exited');
  const podId = await runPod();
  const id = await createContainer(podId);
  await node.cri.runtime('StartContainer', { container_id: id }, 60_000);
  process.kill(monitorPid(), 'SIGKILL');
  await until('the keeper to die', async () => (fs.existsSync(once) ? true : undefined));
  await expectRunsAndExecs(id);
  await stop();
  await start();
  await expectRunsAndExecs(id);
  await expectCleanAfterRemovingPods();
});

test('a keeper killed after reaping an orphan, before recording its exit: the container is reported exited (Unknown)', async () => {
  const once = await armed('keeper/orphan/before-record');
  const podId = await runPod();
  const id = await createContainer(podId);
  await node.cri.runtime('StartContainer', { container_id: id }, 60_000);
  const first = monitorPid();
  process.kill(first, 'SIGKILL');
  // The keeper starts a monitor that adopts the container; then the container's end is the keeper's to reap.
  await until('the next monitor', async () => {
    const pid = monitorPid();
    return pid !== first && (await status(id)).state === 'CONTAINER_RUNNING' ? pid : undefined;
  });
  await until('the stop', () => node.cri.runtime('StopContainer', { container_id: id, timeout: 0 }, 60_000));
  const exited = await until('the exit', async () => {
    const s = await status(id);
    return s.state === 'CONTAINER_EXITED' ? s : undefined;
  });
  expect(fs.existsSync(once)).toBe(true);
  expect(exited.reason).toBe('Unknown');
  await expectCleanAfterRemovingPods();
});

test('after the walk, once the node.daemon and its monitor stop, nothing of the node remains', async () => {
  expect(leftovers(node.daemon!, { daemonPid: node.daemon!.proc.pid })).toEqual([]);
  await stop();
  await shutdownMonitor(node.daemon!.runDir, { killContainers: false });
  expect(leftovers(node.daemon!, { stopped: true })).toEqual([]);
});
