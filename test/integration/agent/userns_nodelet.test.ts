// `nodelet agent` running a static pod with hostUsers: false on nodelet's own runtime (the daemon
// from dist/): the agent gives the pod a host id range of its own (kept in the pod's directory),
// the pod's root is root inside and that range's first id on the host, and its emptyDir is an
// idmapped mount (what root writes there is root's inside and stored unshifted on disk).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Agent, startAgent } from '../../../src/agent';
import { Backoff } from '../../../src/agent/backoff';
import { removeCgroupTree, unmountUnder } from '../../support/containerd';
import { criClient, removeAllPods, TestCriClient } from '../../support/cri_client';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { startRegistry, TestRegistry } from '../../support/registry';

jest.setTimeout(180_000);

const NODE = 'usernsnode';
const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const CGROUP_ROOT = `/nodelet-agent-userns-test-${process.pid}`;
// Names the container's process among the host's (it has no other name the host can see).
const SLEEP_S = String(7_000_000 + process.pid);

let registry: TestRegistry;
let daemon: TestDaemon;
let agent: Agent | undefined;
let cri: TestCriClient;
let dir: string;

const manifests = () => path.join(dir, 'manifests');
const rootDir = () => path.join(dir, 'agent');

function startTheAgent(): Promise<Agent> {
  return startAgent({
    endpoint: daemon.endpoint,
    manifestDir: manifests(),
    rootDir: rootDir(),
    podLogsDir: path.join(dir, 'logs'),
    nodeName: NODE,
    cgroupRoot: CGROUP_ROOT,
    syncIntervalMs: 300,
    rescanMs: 1000,
    backoff: new Backoff({ initialMs: 1000, maxMs: 5000 }),
    log: pino({ level: process.env.AGENT_TEST_LOG ?? 'silent' }),
  });
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 90_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function addPod(name: string, spec: Record<string, unknown>): void {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec };
  fs.writeFileSync(path.join(manifests(), `${name}.json`), JSON.stringify(pod));
  agent!.rescan();
}

function runningPod(name: string): { uid: string } | undefined {
  for (const { desired, status } of agent!.pods().values()) {
    if (desired.name !== `${name}-${NODE}`) continue;
    const state = status?.containerStatuses[0]?.state ?? {};
    if (status?.phase === 'Running' && 'running' in state) return { uid: desired.uid };
  }
  return undefined;
}

async function sh(id: string, script: string): Promise<string> {
  const r = await cri.runtime<{ stdout: Buffer; stderr: Buffer; exit_code: number }>(
    'ExecSync',
    { container_id: id, cmd: ['sh', '-c', script], timeout: 30 },
    60_000,
  );
  const out = Buffer.from(r.stdout).toString() + Buffer.from(r.stderr).toString();
  if (r.exit_code !== 0) throw new Error(`'${script}' exited ${r.exit_code}: ${out}`);
  return out.trim();
}

/** The host's uid of the process running `sleep SLEEP_S`. */
function hostUidOfSleep(): number | undefined {
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[0] !== 'sleep' || argv[1] !== SLEEP_S) continue;
      const uid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      return uid ? Number(uid[1]) : undefined;
    } catch {
      // Gone while read: not ours.
    }
  }
  return undefined;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-agent-userns-'));
  fs.mkdirSync(manifests());
  registry = await startRegistry({ withFixtures: true });
  daemon = await startDaemon({ config: { registry: registry.mirrorConfig() } });
  cri = criClient(daemon.endpoint);
  agent = await startTheAgent();
});

afterAll(async () => {
  if (agent) {
    for (const f of fs.readdirSync(manifests())) fs.rmSync(path.join(manifests(), f));
    agent.rescan();
    await agent.settled();
    await agent.stop();
  }
  cri?.close();
  if (daemon) {
    await removeAllPods(daemon.endpoint);
    await daemon.stop();
    await daemon.cleanup();
  }
  await registry?.stop();
  if (dir) {
    await unmountUnder(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  removeCgroupTree(CGROUP_ROOT);
});

test('a hostUsers: false pod runs as root inside and as its own id range on the host, its emptyDir idmapped', async () => {
  addPod('userns', {
    hostUsers: false,
    terminationGracePeriodSeconds: 1,
    volumes: [{ name: 'data', emptyDir: {} }],
    containers: [
      {
        name: 'main',
        image: IMAGE,
        command: ['sh', '-c', `echo from-root > /data/written; exec sleep ${SLEEP_S}`],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
      },
    ],
  });
  const { uid } = await waitFor('the pod to run', () => runningPod('userns'));

  // The range the agent gave the pod, in the kubelet's file in the pod's directory.
  const mappings = JSON.parse(fs.readFileSync(path.join(rootDir(), 'pods', uid, 'userns'), 'utf8'));
  const hostId: number = mappings.uidMappings[0].hostId;
  expect(hostId % 65536).toBe(0);
  expect(hostId).toBeGreaterThan(0);
  expect(mappings.gidMappings).toEqual(mappings.uidMappings);

  const { containers } = await cri.runtime<{ containers: { id: string }[] }>('ListContainers', {
    filter: { label_selector: { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.container.name': 'main' } },
  });
  const id = containers[0]!.id;
  expect((await sh(id, 'cat /proc/self/uid_map')).split(/\s+/)).toEqual(['0', String(hostId), '65536']);
  expect((await sh(id, 'cat /proc/self/gid_map')).split(/\s+/)).toEqual(['0', String(hostId), '65536']);
  expect(await sh(id, 'id -u')).toBe('0');
  // The emptyDir is an idmapped mount: root's file inside, and stored as root's on the host's disk
  // too (without the mount's mapping it would be stored as the range's first id, the writer's host id).
  expect((await sh(id, 'ls -ln /data/written')).split(/\s+/).slice(2, 4)).toEqual(['0', '0']);
  const onDisk = path.join(rootDir(), 'pods', uid, 'volumes', 'kubernetes.io~empty-dir', 'data', 'written');
  expect(fs.statSync(onDisk).uid).toBe(0);
  expect(fs.statSync(onDisk).gid).toBe(0);
  // The container's process, seen from the host, is not root.
  expect(hostUidOfSleep()).toBe(hostId);

  // A restarted agent keeps the pod's range (it reads it back) and gives a new pod another one.
  await agent!.stop();
  agent = await startTheAgent();
  await waitFor('the pod to be picked up again', () => runningPod('userns'));
  addPod('userns-two', {
    hostUsers: false,
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'main', image: IMAGE, command: ['sleep', '1000'] }],
  });
  const two = await waitFor('the second pod to run', () => runningPod('userns-two'));
  const twoFile = JSON.parse(fs.readFileSync(path.join(rootDir(), 'pods', two.uid, 'userns'), 'utf8'));
  expect(twoFile.uidMappings[0].hostId).not.toBe(hostId);
  expect(hostUidOfSleep()).toBe(hostId);
});
