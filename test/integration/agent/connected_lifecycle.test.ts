// Status and events as the kubelet's, against a real kube-apiserver (test/support/control_plane) with
// `nodelet agent --kubeconfig` as a node identity: a pod with a native sidecar and a readiness gate
// stays not Ready until someone else sets the gate's condition, that condition and a
// DisruptionTarget set by others survive the agent's status patches (a strategic merge patch), and
// `kubectl get events` shows the kubelet's reasons and messages.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeCgroupTree, unmountUnder } from '../../support/containerd';
import { ControlPlane, controlPlaneInstalled, startControlPlane } from '../../support/control_plane';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { removeAllPods } from '../../support/cri_client';
import { spawnAgent, stopAgent } from '../../support/agent_process';
import { startRegistry, TestRegistry } from '../../support/registry';

jest.setTimeout(240_000);

const NODE = `nodelet-life-${process.pid}`;
const CGROUP_ROOT = `/nodelet-life-${process.pid}`;
const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const GATE = 'example.com/load-balancer';
const installed = controlPlaneInstalled();
const title = installed
  ? 'connected mode: status and events'
  : 'connected mode: status and events (skipped: no kube-apiserver/etcd; run scripts/install-kube-tools.sh)';

let cp: ControlPlane;
let registry: TestRegistry;
let daemon: TestDaemon;
let dir: string;
let agent: ChildProcess | undefined;
let agentLog = '';

type Condition = { type: string; status: string; reason?: string; message?: string };
type Pod = {
  status: {
    phase: string;
    conditions?: Condition[];
    initContainerStatuses?: { name: string; started: boolean; ready: boolean }[];
  };
};

async function kubectl(...args: string[]): Promise<string> {
  const r = await cp.kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function getPod(): Promise<Pod | undefined> {
  const r = await cp.kubectl(['get', 'pod', 'gated', '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as Pod) : undefined;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 90_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${agentLog.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const conditionOf = (pod: Pod | undefined, type: string) =>
  pod?.status.conditions?.find((c) => c.type === type);

const podYaml = `apiVersion: v1
kind: Pod
metadata: { name: gated, namespace: default }
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 1
  readinessGates: [{ conditionType: ${GATE} }]
  initContainers:
    - { name: proxy, image: ${IMAGE}, restartPolicy: Always, command: ["sleep", "1000"] }
  containers:
    - { name: main, image: ${IMAGE}, command: ["sleep", "1000"] }
`;

(installed ? describe : describe.skip)(title, () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-life-'));
    fs.mkdirSync(path.join(dir, 'manifests'));
    registry = await startRegistry({ withFixtures: true });
    daemon = await startDaemon({ config: { registry: registry.mirrorConfig() } });
    cp = await startControlPlane();
    const extra = [
      ...['--kubeconfig', cp.kubeconfigFor(`system:node:${NODE}`, ['system:nodes'])],
      ...['--node-ip', '127.0.0.1', '--address', '127.0.0.1', '--port', '0'],
    ];
    const args = { dir, endpoint: daemon.endpoint, cgroupRoot: CGROUP_ROOT, node: NODE };
    agent = spawnAgent(args, extra, (chunk) => (agentLog += chunk));
  });

  afterAll(async () => {
    await cp?.kubectl(['delete', 'pod', 'gated', '--wait=true', '--timeout=60s']).catch(() => undefined);
    if (agent) await stopAgent(agent);
    if (daemon) await removeAllPods(daemon.endpoint);
    await daemon?.stop();
    await daemon?.cleanup();
    await registry?.stop();
    await cp?.stop();
    if (dir) {
      await unmountUnder(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    removeCgroupTree(CGROUP_ROOT);
  });

  test('a pod with a sidecar is not Ready until its readiness gate is True, and others conditions stay', async () => {
    const applied = await cp.kubectl(['apply', '-f', '-'], podYaml);
    expect(applied.code).toBe(0);
    const gated = await waitFor('the containers to be ready', async () => {
      const pod = await getPod();
      return conditionOf(pod, 'ContainersReady')?.status === 'True' ? pod : undefined;
    });
    expect(gated!.status.phase).toBe('Running');
    expect(gated!.status.initContainerStatuses?.[0]).toMatchObject({
      name: 'proxy',
      started: true,
      ready: true,
    });
    expect(conditionOf(gated, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ReadinessGatesNotReady',
      message: `corresponding condition of pod readiness gate "${GATE}" does not exist.`,
    });

    // Someone else (a load balancer controller, an eviction) sets its own conditions.
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const patch = {
      status: {
        conditions: [
          { type: GATE, status: 'True', lastTransitionTime: now },
          { type: 'DisruptionTarget', status: 'False', reason: 'Tested', lastTransitionTime: now },
        ],
      },
    };
    await kubectl(
      'patch',
      'pod',
      'gated',
      '--subresource=status',
      '--type=strategic',
      '-p',
      JSON.stringify(patch),
    );
    const ready = await waitFor('Ready', async () => {
      const pod = await getPod();
      return conditionOf(pod, 'Ready')?.status === 'True' ? pod : undefined;
    });
    // The agent's patch that made it Ready kept what it does not own.
    expect(conditionOf(ready, GATE)?.status).toBe('True');
    expect(conditionOf(ready, 'DisruptionTarget')).toMatchObject({ status: 'False', reason: 'Tested' });
    expect(conditionOf(ready, 'Ready')?.reason).toBeUndefined();
  });

  test('the events of the pod carry the kubelet reasons and messages', async () => {
    const events = await waitFor('the Started events', async () => {
      const out = await kubectl(
        'get',
        'events',
        '--field-selector',
        'involvedObject.name=gated',
        '-o',
        'jsonpath={range .items[*]}{.reason}|{.involvedObject.fieldPath}|{.message}{"\\n"}{end}',
      );
      return out.includes('Started container main') ? out : undefined;
    });
    expect(events).toContain('Created|spec.initContainers{proxy}|Created container: proxy');
    expect(events).toContain('Started|spec.initContainers{proxy}|Started container proxy');
    expect(events).toContain('Created|spec.containers{main}|Created container: main');
    expect(events).toMatch(
      /Pulled\|spec\.containers\{main\}\|Container image ".*" already present on machine/,
    );
  });
});
