// Admission and eviction of a connected agent against a real kube-apiserver, as the kubelet does
// them: a pod asking for more cpu than the node has, or bound to a node its nodeSelector does not
// match, ends Failed with the kubelet's reason and "Pod was rejected: …"; the Node's allocatable is
// capacity less --system-reserved and the hard memory threshold; a pod writing past its emptyDir
// sizeLimit is evicted. For node pressure the agent's root dir is a 64 MiB tmpfs of the test's own
// with nodefs.available<16Mi: a pod filling it brings DiskPressure (the taint is the node lifecycle controller's) and
// its own eviction; deleting it ends the pressure. Nothing fills the real disk or memory.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeCgroupTree, unmountUnder } from '../../support/containerd';
import { ControlPlane, controlPlaneInstalled, run, startControlPlane } from '../../support/control_plane';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { removeAllPods } from '../../support/cri_client';
import { spawnAgent, stopAgent } from '../../support/agent_process';
import { startRegistry, TestRegistry } from '../../support/registry';

jest.setTimeout(300_000);

const NODE = `nodelet-admit-${process.pid}`;
const CGROUP_ROOT = `/nodelet-admit-${process.pid}`;
const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const installed = controlPlaneInstalled();
const title = installed
  ? 'admission and eviction of a connected agent'
  : 'admission and eviction (skipped: no kube-apiserver/etcd; run scripts/install-kube-tools.sh)';

let cp: ControlPlane;
let registry: TestRegistry;
let daemon: TestDaemon;
let dir: string;
let agent: ChildProcess | undefined;
let agentLog = '';
let mounted = false;

type PodObject = {
  status: {
    phase: string;
    reason?: string;
    message?: string;
    conditions?: { type: string; status: string }[];
  };
};
type NodeObject = {
  spec: { taints?: { key: string; effect: string }[] };
  status: {
    capacity: Record<string, string>;
    allocatable: Record<string, string>;
    conditions: { type: string; status: string; reason: string }[];
  };
};

async function getJson<T>(...args: string[]): Promise<T | undefined> {
  const r = await cp.kubectl(['get', ...args, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
}

async function waitFor<T>(
  what: string,
  read: () => Promise<T | undefined>,
  ok: (v: T) => boolean,
): Promise<T> {
  const until = Date.now() + 150_000;
  for (;;) {
    const v = await read();
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > until) {
      const du = await run('du', ['-ak', path.join(dir, 'root')]);
      const biggest = du.stdout
        .split('\n')
        .sort((a, b) => parseInt(b) - parseInt(a))
        .slice(0, 15)
        .join('\n');
      throw new Error(
        `timed out waiting for ${what}: ${JSON.stringify(v)}\n${biggest}\n${agentLog.slice(-3000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

const pod = (name: string) => getJson<PodObject>('pod', name);
const node = () => getJson<NodeObject>('node', NODE);

async function apply(manifest: string) {
  const r = await cp.kubectl(['apply', '-f', '-'], manifest);
  if (r.code !== 0) throw new Error(r.stderr);
}

const podManifest = (name: string, spec: string) => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: default }
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 1
  restartPolicy: Never
${spec}`;

(installed ? describe : describe.skip)(title, () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-admit-'));
    fs.mkdirSync(path.join(dir, 'manifests'));
    fs.mkdirSync(path.join(dir, 'root'));
    // The node's filesystem (nodefs) is this small tmpfs, so that pressure is cheap to make.
    const m = await run('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'nodelet-admit', path.join(dir, 'root')]);
    if (m.code !== 0) throw new Error(`cannot mount the test's tmpfs: ${m.stderr}`);
    mounted = true;
    registry = await startRegistry({ withFixtures: true });
    daemon = await startDaemon({ config: { registry: registry.mirrorConfig() }, timeoutMs: 90_000 });
    cp = await startControlPlane();
    agent = spawnAgent(
      { dir, endpoint: daemon.endpoint, cgroupRoot: CGROUP_ROOT, node: NODE },
      [
        ...['--kubeconfig', cp.kubeconfigFor(`system:node:${NODE}`, ['system:nodes'])],
        ...['--node-ip', '127.0.0.1', '--address', '127.0.0.1', '--port', '0'],
        ...['--client-ca-file', cp.kubeletClient.caFile],
        ...[
          '--system-reserved',
          'memory=1Gi',
          '--eviction-hard',
          'memory.available<100Mi,nodefs.available<16Mi',
        ],
        ...['--housekeeping-interval', '1s', '--eviction-pressure-transition-period', '2s'],
      ],
      (chunk) => (agentLog += chunk),
    );
    await waitFor('the node', node, () => true);
  });

  afterAll(async () => {
    if (cp) await cp.kubectl(['delete', 'pod', '--all', '--wait=true', '--timeout=60s']);
    if (agent) await stopAgent(agent);
    if (daemon) await removeAllPods(daemon.endpoint);
    await daemon?.stop();
    await daemon?.cleanup();
    await registry?.stop();
    await cp?.stop();
    if (dir) {
      // The pods' mounts and the test's tmpfs itself.
      if (mounted) await unmountUnder(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    removeCgroupTree(CGROUP_ROOT);
  });

  test('allocatable memory is capacity less --system-reserved and the hard memory.available threshold', async () => {
    const n = (await node())!;
    const ki = (q: string) => Number(q.replace(/Ki$/, ''));
    expect(ki(n.status.capacity.memory) - ki(n.status.allocatable.memory)).toBe(1024 * 1024 + 100 * 1024);
    expect(n.status.allocatable.cpu).toBe(n.status.capacity.cpu);
  });

  test('a pod asking for more cpu than the node has is rejected: OutOfcpu, Pod was rejected', async () => {
    await apply(
      podManifest(
        'too-big',
        `  containers:
    - { name: main, image: ${IMAGE}, command: [sleep, '100'], resources: { requests: { cpu: '1000' } } }`,
      ),
    );
    const p = await waitFor(
      'too-big to fail',
      () => pod('too-big'),
      (v) => v.status.phase === 'Failed',
    );
    expect(p.status.reason).toBe('OutOfcpu');
    expect(p.status.message).toMatch(
      /^Pod was rejected: Node didn't have enough resource: cpu, requested: 1000000, used: 0, capacity: \d+$/,
    );
  });

  test('a pod whose nodeSelector the node does not match is rejected: NodeAffinity', async () => {
    await apply(
      podManifest(
        'elsewhere',
        `  nodeSelector: { disktype: ssd }
  containers:
    - { name: main, image: ${IMAGE}, command: [sleep, '100'] }`,
      ),
    );
    const p = await waitFor(
      'elsewhere to fail',
      () => pod('elsewhere'),
      (v) => v.status.phase === 'Failed',
    );
    expect(p.status).toMatchObject({
      reason: 'NodeAffinity',
      message:
        "Pod was rejected: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    });
  });

  test('a pod writing past its emptyDir sizeLimit is evicted with the kubelet message', async () => {
    await apply(
      podManifest(
        'spill',
        `  volumes: [{ name: scratch, emptyDir: { sizeLimit: 1Mi } }]
  containers:
    - name: main
      image: ${IMAGE}
      command: [sh, -c, 'dd if=/dev/zero of=/scratch/f bs=1024 count=2048; sleep 1000']
      volumeMounts: [{ name: scratch, mountPath: /scratch }]`,
      ),
    );
    const p = await waitFor(
      'spill to be evicted',
      () => pod('spill'),
      (v) => v.status.phase === 'Failed',
    );
    expect(p.status).toMatchObject({
      reason: 'Evicted',
      message: 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ',
    });
    expect(p.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'DisruptionTarget', status: 'True' }),
    );
    await cp.kubectl(['delete', 'pod', 'spill', '--wait=true', '--timeout=60s']);
  });

  test('a pod filling nodefs below its threshold brings DiskPressure and its taint, and is evicted', async () => {
    await apply(
      podManifest(
        'filler',
        `  volumes: [{ name: scratch, emptyDir: {} }]
  containers:
    - name: main
      image: ${IMAGE}
      command: [sh, -c, 'dd if=/dev/zero of=/scratch/f bs=1M count=56; sleep 1000']
      volumeMounts: [{ name: scratch, mountPath: /scratch }]`,
      ),
    );
    const pressured = await waitFor('DiskPressure', node, (n) =>
      n.status.conditions.some((c) => c.type === 'DiskPressure' && c.status === 'True'),
    );
    expect(pressured.status.conditions.find((c) => c.type === 'DiskPressure')!.reason).toBe(
      'KubeletHasDiskPressure',
    );
    const p = await waitFor(
      'filler to be evicted',
      () => pod('filler'),
      (v) => v.status.phase === 'Failed',
    );
    expect(p.status.reason).toBe('Evicted');
    expect(p.status.message).toMatch(
      /^The node was low on resource: ephemeral-storage\. Threshold quantity: 16Mi, available: \S+\. $/,
    );
    // Its volume goes with it; the pressure ends after the transition period.
    await cp.kubectl(['delete', 'pod', 'filler', '--wait=true', '--timeout=60s']);
    await waitFor('the end of DiskPressure', node, (n) =>
      n.status.conditions.some((c) => c.type === 'DiskPressure' && c.status === 'False'),
    );
  });
});
