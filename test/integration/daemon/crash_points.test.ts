// The crash-point walk: for every named crash point of the daemon (src/common/crash_point.ts), a
// daemon that SIGKILLs itself there, a restart on the same root, and then the object of the call
// is either complete and usable or absent (and the call can be made again), and once every pod is
// removed nothing remains: no mount, netns, veth, IPAM lease, cgroup, directory, record or
// process. One root, one registry and one pulled image serve the whole walk.
import fs from 'node:fs';
import path from 'node:path';
import { BUSYBOX } from '../../support/cri_env';
import { shutdownMonitor } from '../../support/daemon';
import { leftovers } from '../../support/leftovers';
import { useRestartableNode } from '../../support/restartable_node';

jest.setTimeout(600_000);

const MULTILAYER = 'registry.k8s.io/nodelet-test/multilayer:1';

const node = useRestartableNode(30_000);
/** What earlier cases left (asserted empty by the last test), so each case reports only its own. */
let before: string[] = [];

const start = (env?: Record<string, string>) => node.start(env);
const stop = () => node.stop();

type Shape = 'cni' | 'host-network' | 'shared-pid';

function podConfig(name: string, shape: Shape = 'cni') {
  // The kubelet always says how PID is shared; left out, the proto's default (POD) would share it.
  const nsOptions = {
    network: shape === 'host-network' ? 'NODE' : 'POD',
    pid: shape === 'shared-pid' ? 'POD' : 'CONTAINER',
  };
  return {
    metadata: { name, namespace: 'crash', uid: `uid-${name}`, attempt: 0 },
    linux: { security_context: { namespace_options: nsOptions } },
  };
}

async function runPod(name: string, shape?: Shape): Promise<string> {
  const { pod_sandbox_id } = await node.cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config: podConfig(name, shape) },
    60_000,
  );
  return pod_sandbox_id;
}

async function createContainer(podId: string, podName: string, name: string, image = BUSYBOX) {
  const { container_id } = await node.cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: podId,
      config: { metadata: { name }, image: { image }, command: ['sleep', '3600'] },
      sandbox_config: podConfig(podName),
    },
    60_000,
  );
  return container_id;
}

async function pods(): Promise<{ id: string; state: string; metadata: { name: string } }[]> {
  return (
    await node.cri.runtime<{ items: { id: string; state: string; metadata: { name: string } }[] }>(
      'ListPodSandbox',
    )
  ).items;
}

async function containers(): Promise<{ id: string; state: string; metadata: { name: string } }[]> {
  return (
    await node.cri.runtime<{ containers: { id: string; state: string; metadata: { name: string } }[] }>(
      'ListContainers',
    )
  ).containers;
}

async function exec(containerId: string, cmd: string[]): Promise<string> {
  const res = await node.cri.runtime<{ stdout: Buffer; exit_code: number; stderr: Buffer }>(
    'ExecSync',
    { container_id: containerId, cmd, timeout: 30 },
    60_000,
  );
  expect({ exit: res.exit_code, stderr: Buffer.from(res.stderr).toString() }).toEqual({
    exit: 0,
    stderr: '',
  });
  return Buffer.from(res.stdout).toString();
}

/** A container started in the pod runs and can exec; in a CNI pod it has the pod's address. */
async function expectUsablePod(podId: string, podName: string): Promise<void> {
  const { status } = await node.cri.runtime<{ status: { state: string; network?: { ip: string } } }>(
    'PodSandboxStatus',
    { pod_sandbox_id: podId },
  );
  expect(status.state).toBe('SANDBOX_READY');
  const id = await createContainer(podId, podName, `probe-${Date.now()}`);
  await node.cri.runtime('StartContainer', { container_id: id }, 60_000);
  await expectRunning(id);
  if (status.network?.ip)
    expect(await exec(id, ['ip', '-4', 'addr', 'show', 'eth0'])).toContain(status.network.ip);
  else expect(await exec(id, ['true'])).toBe('');
}

async function expectRunning(containerId: string): Promise<void> {
  const { status } = await node.cri.runtime<{ status: { state: string } }>('ContainerStatus', {
    container_id: containerId,
  });
  expect(status.state).toBe('CONTAINER_RUNNING');
  expect(await exec(containerId, ['echo', 'ok'])).toBe('ok\n');
}

/** Starts a daemon that dies at `point`, makes the call, sees it die by SIGKILL, and restarts it. */
async function crashAt(point: string, call: () => Promise<unknown>): Promise<void> {
  await stop();
  await start({ NODELET_CRASH_POINT: point });
  const proc = node.daemon!.proc;
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
  const answer = call().then(
    () => 'answered',
    (err: Error) => err.message,
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 60_000)))]);
  clearTimeout(timer);
  expect({ point, signal: proc.signalCode }).toEqual({ point, signal: 'SIGKILL' });
  expect(await answer).not.toBe('answered');
  node.cri.close();
  await start();
}

/** Every pod removed through the CRI, then nothing of them may remain on the node. */
async function expectCleanAfterRemovingPods(): Promise<void> {
  for (const p of await pods()) {
    await node.cri.runtime('StopPodSandbox', { pod_sandbox_id: p.id }, 60_000);
    await node.cri.runtime('RemovePodSandbox', { pod_sandbox_id: p.id }, 60_000);
  }
  expect(await pods()).toEqual([]);
  expect(await containers()).toEqual([]);
  const left = leftovers(node.daemon!, { daemonPid: node.daemon!.proc.pid });
  expect(left.filter((l) => !before.includes(l))).toEqual([]);
}

beforeEach(() => {
  if (node.daemon) before = leftovers(node.daemon, { daemonPid: node.daemon.proc.pid });
});

/** What a point leaves: the pod is gone and can be made again, or it is there and usable. */
async function expectPodAbsentOrUsable(name: string, shape: Shape): Promise<'absent' | 'usable'> {
  const found = (await pods()).filter((p) => p.metadata.name === name);
  if (found.length === 0) {
    await expectUsablePod(await runPod(name, shape), name);
    return 'absent';
  }
  expect(found).toHaveLength(1);
  await expectUsablePod(found[0].id, name);
  return 'usable';
}

describe.each<[string, Shape]>([
  ['run-pod-sandbox/pid-init-unpinned', 'shared-pid'],
  ['run-pod-sandbox/after-namespaces', 'shared-pid'],
  ['run-pod-sandbox/after-cni-add', 'cni'],
  ['run-pod-sandbox/after-record', 'shared-pid'],
  ['run-pod-sandbox/after-record', 'host-network'],
])('a node.daemon killed at %s (%s pod)', (point, shape) => {
  test('leaves the pod absent or usable, and nothing once it is removed', async () => {
    const name = `run-${point.split('/')[1]}-${shape}`;
    await crashAt(point, () => runPod(name, shape));
    const outcome = await expectPodAbsentOrUsable(name, shape);
    expect(outcome).toBe(point.endsWith('after-record') ? 'usable' : 'absent');
    await expectCleanAfterRemovingPods();
  });
});

describe.each([
  ['create-container/after-root', 'absent'],
  ['create-container/after-monitor-create', 'absent'],
  ['create-container/after-record', 'present'],
])('a node.daemon killed at %s', (point, expected) => {
  test('leaves the container absent (and creatable) or startable, and nothing once the pod is removed', async () => {
    const podName = `create-${point.split('/')[1]}`;
    const podId = await runPod(podName);
    await crashAt(point, () => createContainer(podId, podName, 'app'));
    const found = (await containers()).filter((c) => c.metadata.name === 'app');
    expect(found.length === 0 ? 'absent' : 'present').toBe(expected);
    const id = found[0]?.id ?? (await createContainer(podId, podName, 'app'));
    await node.cri.runtime('StartContainer', { container_id: id }, 60_000);
    await expectRunning(id);
    await expectCleanAfterRemovingPods();
  });
});

describe.each(['start-container/before-monitor-start', 'start-container/after-monitor-start'])(
  'a node.daemon killed at %s',
  (point) => {
    test('leaves a container that runs, or that starts when asked again', async () => {
      const podName = `start-${point.split('/')[1]}`;
      const podId = await runPod(podName);
      const id = await createContainer(podId, podName, 'app');
      await crashAt(point, () => node.cri.runtime('StartContainer', { container_id: id }, 60_000));
      const { status } = await node.cri.runtime<{ status: { state: string } }>('ContainerStatus', {
        container_id: id,
      });
      if (status.state === 'CONTAINER_CREATED')
        await node.cri.runtime('StartContainer', { container_id: id }, 60_000);
      await expectRunning(id);
      await expectCleanAfterRemovingPods();
    });
  },
);

describe.each([
  ['stop-pod-sandbox/after-cni-del', 'StopPodSandbox'],
  ['remove-pod-sandbox/after-cni-del', 'RemovePodSandbox'],
  ['remove-pod-sandbox/before-record', 'RemovePodSandbox'],
])('a node.daemon killed at %s', (point, rpc) => {
  test('leaves a pod that is not ready, or gone, and the call can be made again', async () => {
    const podName = `teardown-${point.replace('/', '-')}`;
    const podId = await runPod(podName);
    const id = await createContainer(podId, podName, 'app');
    await node.cri.runtime('StartContainer', { container_id: id }, 60_000);
    await crashAt(point, () => node.cri.runtime(rpc, { pod_sandbox_id: podId }, 60_000));
    const found = (await pods()).find((p) => p.id === podId);
    // Half stopped is never ready: a pod whose network is gone must not say SANDBOX_READY.
    if (found) expect(found.state).toBe('SANDBOX_NOTREADY');
    await node.cri.runtime(rpc, { pod_sandbox_id: podId }, 60_000);
    await expectCleanAfterRemovingPods();
  });
});

describe.each(['pull-image/layer-applied', 'pull-image/after-layer', 'pull-image/before-record'])(
  'a node.daemon killed at %s',
  (point) => {
    test('leaves no image, and the pull then succeeds and a container runs from it', async () => {
      await crashAt(point, () => node.cri.image('PullImage', { image: { image: MULTILAYER } }, 120_000));
      const { image } = await node.cri.image<{ image?: { id: string } }>('ImageStatus', {
        image: { image: MULTILAYER },
      });
      expect(image ?? null).toBeNull();
      await node.cri.image('PullImage', { image: { image: MULTILAYER } }, 120_000);
      const podId = await runPod('pull');
      const id = await createContainer(podId, 'pull', 'app', MULTILAYER);
      await node.cri.runtime('StartContainer', { container_id: id }, 60_000);
      expect(await exec(id, ['ls', '/opt'])).toMatch(/a[\s\S]*b/);
      await expectCleanAfterRemovingPods();
      await node.cri.image('RemoveImage', { image: { image: MULTILAYER } }, 60_000);
    });
  },
);

test('after the walk and the removal of every image, nothing of the node remains', async () => {
  await node.cri.image('RemoveImage', { image: { image: BUSYBOX } }, 60_000);
  expect(leftovers(node.daemon!, { daemonPid: node.daemon!.proc.pid, images: true })).toEqual([]);
  const runDir = node.daemon!.runDir;
  await stop();
  await shutdownMonitor(runDir, { killContainers: false });
  expect(leftovers(node.daemon!, { stopped: true, images: true })).toEqual([]);
  expect(fs.existsSync(path.join(runDir, 'monitor.sock'))).toBe(false);
});
