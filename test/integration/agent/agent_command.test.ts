// `nodelet agent` as a process (from dist/, built by `npx tsc -p tsconfig.build.json`) against a real
// containerd: it runs a static pod, a SIGTERM stops the agent but not the pod, a new agent process takes
// the pod over without restarting it, and removing the manifest removes the pod.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CriClient } from '../../../src/agent/cri_client';
import {
  Containerd,
  removeCgroupTree,
  startContainerd,
  TEST_BUSYBOX_IMAGE,
  unmountUnder,
} from '../../support/containerd';
import { requireBuilt } from '../../support/daemon';
import { spawnAgent, stopAgent } from '../../support/agent_process';

jest.setTimeout(120_000);

const CGROUP_ROOT = `/nodelet-agent-cmd-${process.pid}`;
let ctd: Containerd;
let cri: CriClient;
let dir: string;
let agent: ChildProcess | undefined;
let agentLog = '';
let podUid = '';

const manifest = `apiVersion: v1
kind: Pod
metadata: { name: sleeper }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${TEST_BUSYBOX_IMAGE}
      command: ["sleep", "1000"]
      resources: { requests: { cpu: 100m, memory: 16Mi }, limits: { cpu: 100m, memory: 16Mi } }
`;

function startAgentProcess(): ChildProcess {
  const args = { dir, endpoint: ctd.endpoint, cgroupRoot: CGROUP_ROOT, node: 'Node-A' };
  return spawnAgent(args, [], (chunk) => (agentLog += chunk));
}

function stopAgentProcess(): Promise<number | null> {
  const child = agent!;
  agent = undefined;
  return stopAgent(child);
}

function readStatus():
  | {
      metadata: { uid: string };
      status: {
        phase: string;
        qosClass: string;
        containerStatuses: { containerID: string; restartCount: number }[];
      };
    }
  | undefined {
  const pods = path.join(dir, 'root', 'pods');
  for (const uid of fs.existsSync(pods) ? fs.readdirSync(pods) : []) {
    const file = path.join(pods, uid, 'status.json');
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
  }
  return undefined;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
): Promise<T> {
  const until = Date.now() + 60_000;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${agentLog.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  requireBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-agent-cmd-'));
  fs.mkdirSync(path.join(dir, 'manifests'));
  ctd = await startContainerd();
  cri = new CriClient(ctd.endpoint);
});

afterAll(async () => {
  if (agent) await stopAgentProcess();
  cri?.close();
  await ctd?.stop();
  await unmountUnder(dir);
  removeCgroupTree(CGROUP_ROOT);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the agent command runs a static pod and survives its own restart without restarting the pod', async () => {
  fs.writeFileSync(path.join(dir, 'manifests', 'sleeper.yaml'), manifest);
  agent = startAgentProcess();
  const running = await waitFor('a running pod', () => {
    const s = readStatus();
    return s?.status.phase === 'Running' ? s : undefined;
  });
  expect(running.status.qosClass).toBe('Guaranteed');
  podUid = running.metadata.uid;
  const containerID = running.status.containerStatuses[0].containerID;
  expect(containerID).toMatch(/^containerd:\/\//);
  // the Guaranteed pod's cgroup is /kubepods/pod<uid> below the cgroup root
  expect(fs.existsSync(`/sys/fs/cgroup/memory${CGROUP_ROOT}/kubepods/pod${running.metadata.uid}`)).toBe(true);

  expect(await stopAgentProcess()).toBe(0);
  const { containers } = await cri.listContainers({});
  expect(containers.filter((c) => c.state === 'CONTAINER_RUNNING')).toHaveLength(1);

  agent = startAgentProcess();
  await waitFor(
    'the new agent to look at the pod',
    () => agentLog.split('connected to the runtime').length > 2,
  );
  await new Promise((r) => setTimeout(r, 2000)); // a few sync rounds of the new agent
  const after = readStatus()!;
  expect(after.status.phase).toBe('Running');
  expect(after.status.containerStatuses[0]).toMatchObject({ containerID, restartCount: 0 });
  expect((await cri.listContainers({})).containers).toHaveLength(1);
});

test('removing the manifest makes the agent command remove the pod', async () => {
  fs.rmSync(path.join(dir, 'manifests', 'sleeper.yaml'));
  await waitFor('the pod to be gone', async () => (await cri.listPodSandbox({})).items.length === 0);
  await waitFor('the pod directory to be gone', () => readStatus() === undefined);
  // the agent owns the pod-level cgroup and removes it with the pod
  expect(fs.existsSync(`/sys/fs/cgroup/memory${CGROUP_ROOT}/kubepods/pod${podUid}`)).toBe(false);
  expect(await stopAgentProcess()).toBe(0);
});
