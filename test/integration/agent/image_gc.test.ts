// Image garbage collection by `nodelet agent` (from dist/) in standalone mode against a test nodelet
// daemon: with thresholds that make any usage too much, the image no container uses is removed and
// the one a static pod runs stays.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeCgroupTree, unmountUnder } from '../../support/containerd';
import { BUSYBOX, CriEnv, startCriEnv, stopCriEnv } from '../../support/cri_env';
import { requireBuilt } from '../../support/daemon';
import { spawnAgent, stopAgent } from '../../support/agent_process';

jest.setTimeout(180_000);

const NGINX = 'registry.k8s.io/e2e-test-images/nginx:1.14-2';
const CGROUP_ROOT = `/nodelet-image-gc-${process.pid}`;
let env: CriEnv | undefined;
let dir: string;
let agent: ChildProcess | undefined;
let agentLog = '';

const manifest = `apiVersion: v1
kind: Pod
metadata: { name: sleeper }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${BUSYBOX}
      command: ["sleep", "1000"]
`;

type Listed = { images: { id: string; repo_tags: string[] }[] };
const tagsInRuntime = async () =>
  (await env!.cri.image<Listed>('ListImages', {})).images.flatMap((i) => i.repo_tags);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>): Promise<T> {
  const until = Date.now() + 90_000;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${agentLog.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stopAgentProcess(): Promise<void> {
  const child = agent;
  agent = undefined;
  if (child) await stopAgent(child);
}

beforeAll(async () => {
  requireBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-image-gc-'));
  fs.mkdirSync(path.join(dir, 'manifests'));
  env = await startCriEnv({ images: [BUSYBOX, NGINX] });
});

afterAll(async () => {
  await stopAgentProcess();
  await stopCriEnv(env);
  await unmountUnder(dir);
  removeCgroupTree(CGROUP_ROOT);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the agent removes the image no container uses and keeps the one its static pod runs', async () => {
  expect(await tagsInRuntime()).toEqual(expect.arrayContaining([BUSYBOX, NGINX]));
  fs.writeFileSync(path.join(dir, 'manifests', 'sleeper.yaml'), manifest);
  // GC's first round waits for its period, so the pod's container exists before images are judged.
  const gc = [
    ...['--image-gc-high-threshold=1', '--image-gc-low-threshold=0', '--minimum-image-gc-age=0s'],
    '--image-gc-period=3s',
  ];
  const args = { dir, endpoint: env!.daemon.endpoint, cgroupRoot: CGROUP_ROOT, node: 'gc-node' };
  agent = spawnAgent(args, gc, (chunk) => (agentLog += chunk));

  await waitFor('the static pod to run', async () => {
    const { containers } = await env!.cri.runtime<{ containers: { state: string }[] }>('ListContainers', {});
    return containers.some((c) => c.state === 'CONTAINER_RUNNING');
  });
  await waitFor('the unused image to be removed', async () => !(await tagsInRuntime()).includes(NGINX));
  expect(await tagsInRuntime()).toContain(BUSYBOX);

  // The pod goes with its manifest, before the daemon stops.
  fs.rmSync(path.join(dir, 'manifests', 'sleeper.yaml'));
  await waitFor('the pod to be gone', async () => {
    const { items } = await env!.cri.runtime<{ items: unknown[] }>('ListPodSandbox', {});
    return items.length === 0;
  });
  await stopAgentProcess();
});
