// The node's pod cgroups as the kubelet keeps them, with `nodelet agent` (from dist/, static pods) on
// nodelet's own runtime: the kubepods cgroup held to allocatable (--system-reserved), burstable and
// besteffort below it, a Guaranteed, a Burstable and a BestEffort pod each in pod<uid> with the
// kubelet's values (--pod-max-pids too), read from the real cgroup files under this test's own
// --cgroup-root; the pod cgroups and the burstable shares follow the pods as they go, and a pod
// cgroup left from a pod that is gone is swept when the agent starts.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { detectCgroups } from '../../../src/runtime/cgroups';
import { removeCgroupTree, unmountUnder } from '../../support/containerd';
import { removeAllPods } from '../../support/cri_client';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { spawnAgent, stopAgent } from '../../support/agent_process';
import { startRegistry, TestRegistry } from '../../support/registry';

jest.setTimeout(300_000);

const NODE = 'cgnode';
const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const CGROUP_ROOT = `/nodelet-podcg-test-${process.pid}`;
const Mi = 2 ** 20;
const RESERVED_MEMORY = 256 * Mi;

let registry: TestRegistry;
let daemon: TestDaemon;
let agent: ChildProcess | undefined;
let agentLog = '';
let dir: string;
const system = detectCgroups();
const v1 = (controller: string) => system.v1[controller];

function startAgentProcess(): ChildProcess {
  return spawnAgent(
    { dir, endpoint: daemon.endpoint, cgroupRoot: CGROUP_ROOT, node: NODE },
    [
      '--enable-server=false',
      '--system-reserved',
      `cpu=500m,memory=${RESERVED_MEMORY}`,
      '--pod-max-pids',
      '512',
      '--enforce-node-allocatable',
      'pods',
    ],
    (chunk) => (agentLog += chunk),
  );
}

function addPod(name: string, resources?: Record<string, Record<string, string>>): void {
  const container = {
    name: 'main',
    image: IMAGE,
    command: ['sleep', '1000'],
    ...(resources && { resources }),
  };
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { terminationGracePeriodSeconds: 1, containers: [container] },
  };
  fs.writeFileSync(path.join(dir, 'manifests', `${name}.json`), JSON.stringify(pod));
}

/** The status.json files of the agent's pods, by pod name. */
function statuses(): Map<string, { uid: string; phase: string; qosClass: string }> {
  const out = new Map<string, { uid: string; phase: string; qosClass: string }>();
  const pods = path.join(dir, 'root', 'pods');
  for (const uid of fs.existsSync(pods) ? fs.readdirSync(pods) : []) {
    const file = path.join(pods, uid, 'status.json');
    if (!fs.existsSync(file)) continue;
    const s = JSON.parse(fs.readFileSync(file, 'utf8'));
    out.set(s.metadata.name, { uid, phase: s.status.phase, qosClass: s.status.qosClass });
  }
  return out;
}

async function waitFor<T>(what: string, probe: () => T | undefined | false): Promise<T> {
  const until = Date.now() + 180_000;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${agentLog.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A control file of a cgroup below the test's root, in the hierarchy of its controller. */
function control(controller: string, cgroup: string, file: string): string {
  return fs.readFileSync(path.join(v1(controller), CGROUP_ROOT, cgroup, file), 'utf8').trim();
}
const exists = (cgroup: string) => fs.existsSync(path.join(v1('cpu'), CGROUP_ROOT, cgroup));

beforeAll(async () => {
  if (system.mode === 'v2') throw new Error('this test reads the v1 files of this project’s hosts');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-podcg-'));
  fs.mkdirSync(path.join(dir, 'manifests'));
  registry = await startRegistry({ withFixtures: true });
  daemon = await startDaemon({ config: { registry: registry.mirrorConfig() } });
});

afterAll(async () => {
  if (agent) {
    for (const f of fs.readdirSync(path.join(dir, 'manifests'))) fs.rmSync(path.join(dir, 'manifests', f));
    await waitFor('the pods to go', () => statuses().size === 0).catch(() => undefined);
    await stopAgent(agent);
  }
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

test('a Guaranteed, a Burstable and a BestEffort pod get the kubelet’s pod and QoS cgroups', async () => {
  addPod('fixed', { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '250m', memory: '64Mi' } });
  addPod('bursty', { requests: { cpu: '100m', memory: '32Mi' }, limits: { memory: '128Mi' } });
  addPod('loose');
  agent = startAgentProcess();
  const running = await waitFor('the three pods to run', () => {
    const s = statuses();
    return [...s.values()].filter((p) => p.phase === 'Running').length === 3 ? s : undefined;
  });
  const uid = (name: string) => running.get(`${name}-${NODE}`)!.uid;
  expect(running.get(`fixed-${NODE}`)!.qosClass).toBe('Guaranteed');
  expect(running.get(`bursty-${NODE}`)!.qosClass).toBe('Burstable');
  expect(running.get(`loose-${NODE}`)!.qosClass).toBe('BestEffort');

  // kubepods: capacity minus --system-reserved; pids: the node's pid capacity
  const cpus = os.cpus().length;
  expect(control('cpu', 'kubepods', 'cpu.shares')).toBe(
    String(Math.floor(((cpus * 1000 - 500) * 1024) / 1000)),
  );
  expect(Number(control('memory', 'kubepods', 'memory.limit_in_bytes'))).toBe(
    os.totalmem() - RESERVED_MEMORY,
  );
  const pidMax = Math.min(
    Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8')),
    Number(fs.readFileSync('/proc/sys/kernel/threads-max', 'utf8')),
  );
  expect(control('pids', 'kubepods', 'pids.max')).toBe(String(pidMax));
  // QoS cgroups: burstable carries the Burstable pod's 100m, besteffort the minimum
  expect(control('cpu', 'kubepods/burstable', 'cpu.shares')).toBe('102');
  expect(control('cpu', 'kubepods/besteffort', 'cpu.shares')).toBe('2');

  const fixed = `kubepods/pod${uid('fixed')}`;
  expect(control('cpu', fixed, 'cpu.shares')).toBe('256');
  expect(control('cpu', fixed, 'cpu.cfs_quota_us')).toBe('25000');
  expect(control('cpu', fixed, 'cpu.cfs_period_us')).toBe('100000');
  expect(control('memory', fixed, 'memory.limit_in_bytes')).toBe(String(64 * Mi));
  expect(control('pids', fixed, 'pids.max')).toBe('512');
  // the runtime put the container's own cgroup below the pod's
  expect(
    fs
      .readdirSync(path.join(v1('cpu'), CGROUP_ROOT, fixed), { withFileTypes: true })
      .some((e) => e.isDirectory()),
  ).toBe(true);

  const bursty = `kubepods/burstable/pod${uid('bursty')}`;
  expect(control('cpu', bursty, 'cpu.shares')).toBe('102');
  expect(control('cpu', bursty, 'cpu.cfs_quota_us')).toBe('-1');
  expect(control('memory', bursty, 'memory.limit_in_bytes')).toBe(String(128 * Mi));

  const loose = `kubepods/besteffort/pod${uid('loose')}`;
  expect(control('cpu', loose, 'cpu.shares')).toBe('2');
  expect(control('cpu', loose, 'cpu.cfs_quota_us')).toBe('-1');
  expect(Number(control('memory', loose, 'memory.limit_in_bytes'))).toBeGreaterThan(os.totalmem());
  expect(control('pids', loose, 'pids.max')).toBe('512');
});

test('a deleted pod’s cgroup is removed and the burstable shares drop with it', async () => {
  const uids = new Map([...statuses()].map(([name, s]) => [name.replace(`-${NODE}`, ''), s.uid]));
  fs.rmSync(path.join(dir, 'manifests', 'bursty.json'));
  await waitFor(
    'the Burstable pod cgroup to go',
    () => !exists(`kubepods/burstable/pod${uids.get('bursty')}`),
  );
  // The agent (another process) sets the QoS shares right after the pod cgroup's directories go.
  await waitFor(
    'the burstable shares to drop',
    () => control('cpu', 'kubepods/burstable', 'cpu.shares') === '2',
  );

  fs.rmSync(path.join(dir, 'manifests', 'fixed.json'));
  fs.rmSync(path.join(dir, 'manifests', 'loose.json'));
  await waitFor('the other pod cgroups to go', () => {
    return (
      !exists(`kubepods/pod${uids.get('fixed')}`) && !exists(`kubepods/besteffort/pod${uids.get('loose')}`)
    );
  });
  // the node-level and QoS cgroups stay, as the kubelet's do
  expect(exists('kubepods/burstable') && exists('kubepods/besteffort')).toBe(true);
});

test('a pod cgroup left by a pod that is gone is swept when the agent starts', async () => {
  expect(await stopAgent(agent!)).toBe(0);
  agent = undefined;
  const orphan = 'kubepods/besteffort/pod0f0f0f0f-1111-2222-3333-444444444444';
  for (const controller of ['cpu', 'memory', 'pids'])
    fs.mkdirSync(path.join(v1(controller), CGROUP_ROOT, orphan));
  agent = startAgentProcess();
  await waitFor('the orphaned pod cgroup to be swept', () => !exists(orphan));
  for (const controller of ['memory', 'pids'])
    expect(fs.existsSync(path.join(v1(controller), CGROUP_ROOT, orphan))).toBe(false);
});
