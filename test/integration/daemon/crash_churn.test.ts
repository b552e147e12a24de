// Pod churn while the daemon is killed at random moments: three workers create pods of varied
// shapes (CNI network, host network, shared PID namespace) with a container, exec in it, and stop
// and remove every other pod, while the test SIGKILLs the daemon several times and starts it again
// on the same root. Afterwards every container the daemon reported started still runs (unless the
// test was removing its pod), and once every pod is removed nothing remains on the node.
import path from 'node:path';
import { criClient, TestCriClient } from '../../support/cri_client';
import { BUSYBOX } from '../../support/cri_env';
import { shutdownMonitor, startDaemon, TestDaemon } from '../../support/daemon';
import { leftovers, removeNode } from '../../support/leftovers';
import { startRegistry, TestRegistry } from '../../support/registry';

jest.setTimeout(600_000);

const WORKERS = 3;
const KILLS = 4;
const SHAPES = ['cni', 'host-network', 'shared-pid'] as const;
type Shape = (typeof SHAPES)[number];

let registry: TestRegistry;
let daemon: TestDaemon;
let cri: TestCriClient;
let root: string | undefined;
/** False while the daemon is dead or starting: workers wait instead of spinning on errors. */
let serving = false;

async function start(): Promise<void> {
  daemon = await startDaemon({
    root,
    config: root ? undefined : { registry: registry.mirrorConfig() },
    timeoutMs: 60_000,
  });
  root = daemon.root;
  cri = criClient(daemon.endpoint);
  serving = true;
}

beforeAll(async () => {
  registry = await startRegistry({ withFixtures: true });
  await start();
  await cri.image('PullImage', { image: { image: BUSYBOX } }, 120_000);
});

afterAll(async () => {
  cri?.close();
  await daemon?.stop();
  if (daemon) await shutdownMonitor(daemon.runDir);
  if (root) await removeNode({ root, stateDir: path.join(root, 'state'), runDir: path.join(root, 'run') });
  await registry?.stop();
});

function podConfig(name: string, shape: Shape) {
  return {
    metadata: { name, namespace: 'churn', uid: `uid-${name}`, attempt: 0 },
    linux: {
      security_context: {
        namespace_options: {
          network: shape === 'host-network' ? 'NODE' : 'POD',
          pid: shape === 'shared-pid' ? 'POD' : 'CONTAINER',
        },
      },
    },
  };
}

interface Started {
  podId: string;
  containerId: string;
}

const started: Started[] = [];
/** Pods the test began to stop or remove: their containers may be gone, as asked. */
const removing = new Set<string>();

async function untilServing(): Promise<void> {
  while (!serving) await new Promise((r) => setTimeout(r, 50));
}

async function worker(w: number, done: () => boolean): Promise<void> {
  for (let i = 0; !done(); i++) {
    const shape = SHAPES[(w + i) % SHAPES.length];
    const name = `w${w}-${i}-${shape}`;
    const config = podConfig(name, shape);
    try {
      await untilServing();
      const { pod_sandbox_id: podId } = await cri.runtime<{ pod_sandbox_id: string }>(
        'RunPodSandbox',
        { config },
        60_000,
      );
      const { container_id: containerId } = await cri.runtime<{ container_id: string }>(
        'CreateContainer',
        {
          pod_sandbox_id: podId,
          config: { metadata: { name: 'app' }, image: { image: BUSYBOX }, command: ['sleep', '3600'] },
          sandbox_config: config,
        },
        60_000,
      );
      await cri.runtime('StartContainer', { container_id: containerId }, 60_000);
      started.push({ podId, containerId });
      await cri.runtime('ExecSync', { container_id: containerId, cmd: ['echo', name], timeout: 30 }, 60_000);
      if (i % 2 === 1) {
        removing.add(podId);
        await cri.runtime('StopPodSandbox', { pod_sandbox_id: podId }, 60_000);
        await cri.runtime('RemovePodSandbox', { pod_sandbox_id: podId }, 60_000);
      }
    } catch {
      // The daemon died under the call (or was not back yet): carry on once it serves again.
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test('pod churn with the daemon killed at random moments keeps every started container and leaves nothing', async () => {
  let finished = false;
  const workers = Array.from({ length: WORKERS }, (_, w) => worker(w, () => finished));
  const kills: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    const wait = 500 + Math.floor(Math.random() * 3000);
    kills.push(wait);
    await new Promise((r) => setTimeout(r, wait));
    serving = false;
    const exited = new Promise((r) => daemon.proc.once('exit', r));
    daemon.proc.kill('SIGKILL');
    await exited;
    cri.close();
    await start();
  }
  // A little more churn on the last daemon, then the workers finish their round.
  await new Promise((r) => setTimeout(r, 2000));
  finished = true;
  await Promise.all(workers);

  const lost: string[] = [];
  for (const { podId, containerId } of started.filter((s) => !removing.has(s.podId))) {
    const { status } = await cri.runtime<{ status: { state: string; reason: string } }>('ContainerStatus', {
      container_id: containerId,
    });
    if (status.state !== 'CONTAINER_RUNNING') {
      lost.push(`${containerId} of pod ${podId}: ${status.state} ${status.reason}`);
      continue;
    }
    const exec = await cri.runtime<{ stdout: Buffer; exit_code: number }>(
      'ExecSync',
      { container_id: containerId, cmd: ['echo', 'alive'], timeout: 30 },
      60_000,
    );
    if (exec.exit_code !== 0) lost.push(`${containerId}: exec exited ${exec.exit_code}`);
  }
  expect({ kills, lost }).toEqual({ kills, lost: [] });
  expect(started.filter((s) => !removing.has(s.podId)).length).toBeGreaterThan(0);

  const { items } = await cri.runtime<{ items: { id: string }[] }>('ListPodSandbox');
  for (const pod of items) {
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod.id }, 60_000);
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod.id }, 60_000);
  }
  expect(leftovers(daemon, { daemonPid: daemon.proc.pid })).toEqual([]);
  cri.close();
  await daemon.stop();
  await shutdownMonitor(daemon.runDir, { killContainers: false });
  expect(leftovers(daemon, { stopped: true })).toEqual([]);
});
