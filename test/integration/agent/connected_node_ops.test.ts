// Node operations against a real kube-apiserver and kube-controller-manager (its CSR approving and
// signing controllers, with the test CA): `nodelet agent --config` (a KubeletConfiguration) joins with
// only a bootstrap token, as kubeadm sets one up (the token Secret and kubeadm's three
// ClusterRoleBindings), gets its client certificate by CSR and renews it, gets its serving certificate
// once the test approves that CSR, registers with its labels and taints, and on SIGTERM (standing for
// the node's shutdown, shutdownGracePeriod) stops the regular pod before the critical one and gives
// both the kubelet's shutdown status.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { ControlPlane, controlPlaneInstalled, startControlPlane } from '../../support/control_plane';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { spawnAgent, stopAgent } from '../../support/agent_process';
import { startRegistry, TestRegistry } from '../../support/registry';
import { stopConnectedParts } from '../../support/connected_node';

jest.setTimeout(420_000);

const NODE = `nodelet-ops-${process.pid}`;
const CGROUP_ROOT = `/nodelet-ops-${process.pid}`;
const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const TOKEN = 'abcdef.0123456789abcdef';
const installed = controlPlaneInstalled() && fs.existsSync('/usr/local/bin/nodelet-kube-controller-manager');
const title = installed
  ? 'connected mode: node operations'
  : 'connected mode: node operations (skipped: no kube tools; run scripts/install-kube-tools.sh)';

let cp: ControlPlane;
let registry: TestRegistry;
let daemon: TestDaemon;
let dir: string;
let agent: ChildProcess | undefined;
let agentLog = '';

const bootstrapObjects = `apiVersion: v1
kind: Secret
metadata: { name: bootstrap-token-abcdef, namespace: kube-system }
type: bootstrap.kubernetes.io/token
stringData:
  token-id: abcdef
  token-secret: 0123456789abcdef
  usage-bootstrap-authentication: "true"
  auth-extra-groups: system:bootstrappers:kubeadm:default-node-token
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: "kubeadm:kubelet-bootstrap" }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:node-bootstrapper" }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:bootstrappers:kubeadm:default-node-token" }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: "kubeadm:node-autoapprove-bootstrap" }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:certificates.k8s.io:certificatesigningrequests:nodeclient" }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:bootstrappers:kubeadm:default-node-token" }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: "kubeadm:node-autoapprove-certificate-rotation" }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient" }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:nodes" }]
`;

const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
maxPods: 20
rotateCertificates: true
serverTLSBootstrap: true
shutdownGracePeriod: 20s
shutdownGracePeriodCriticalPods: 10s
registerWithTaints:
  - { key: example.com/dedicated, value: ops, effect: PreferNoSchedule }
`;

const podYaml = (name: string, namespace: string, extra: string) => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 2
  ${extra}
  tolerations: [{ operator: Exists }]
  containers:
    - { name: main, image: ${IMAGE}, command: ["sleep", "1000"] }
`;

async function kubectl(...args: string[]): Promise<string> {
  const r = await cp.kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function getJson<T>(...args: string[]): Promise<T | undefined> {
  const r = await cp.kubectl([...args, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${agentLog.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

type Csr = {
  metadata: { name: string };
  spec: { signerName: string; username: string };
  status: { certificate?: string; conditions?: { type: string }[] };
};
const csrs = async () => (await getJson<{ items: Csr[] }>('get', 'csr'))?.items ?? [];
type Node = {
  metadata: { labels: Record<string, string> };
  spec: { taints?: { key: string; value?: string; effect: string }[] };
  status: {
    conditions: { type: string; status: string; reason: string; message: string }[];
    daemonEndpoints: { kubeletEndpoint: { Port: number } };
  };
};
const getNode = () => getJson<Node>('get', 'node', NODE);
type Pod = {
  status: {
    phase: string;
    reason?: string;
    message?: string;
    conditions?: { type: string; status: string; reason?: string }[];
    containerStatuses?: { state: { terminated?: { finishedAt: string } } }[];
  };
};

function peerIssuer(port: number): Promise<{ issuer: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, ca: fs.readFileSync(cp.caFile), servername: NODE },
      () => {
        const cert = socket.getPeerCertificate();
        resolve({ issuer: String(cert.issuer.CN), authorized: socket.authorized });
        socket.end();
      },
    );
    socket.on('error', reject);
  });
}

(installed ? describe : describe.skip)(title, () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-ops-'));
    fs.mkdirSync(path.join(dir, 'manifests'));
    registry = await startRegistry({ withFixtures: true });
    daemon = await startDaemon({ config: { registry: registry.mirrorConfig() } });
    cp = await startControlPlane({ csrControllers: { signingDuration: '3m' } });
    expect((await cp.kubectl(['apply', '-f', '-'], bootstrapObjects)).code).toBe(0);
    const bootstrap = path.join(dir, 'bootstrap-kubeconfig.yaml');
    fs.writeFileSync(
      bootstrap,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: cp.url, 'certificate-authority': cp.caFile } }],
        users: [{ name: 'tls-bootstrap-token-user', user: { token: TOKEN } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'tls-bootstrap-token-user' } }],
        'current-context': 'c',
      }),
    );
    fs.writeFileSync(path.join(dir, 'kubelet-config.yaml'), kubeletConfig);
    const extra = [
      ...['--config', path.join(dir, 'kubelet-config.yaml')],
      ...['--bootstrap-kubeconfig', bootstrap, '--kubeconfig', path.join(dir, 'kubelet.conf')],
      ...['--node-labels', 'example.com/team=ops,node.kubernetes.io/pool=blue'],
      ...['--node-ip', '127.0.0.1', '--address', '127.0.0.1', '--port', '0'],
      ...['--client-ca-file', cp.caFile],
    ];
    const args = { dir, endpoint: daemon.endpoint, cgroupRoot: CGROUP_ROOT, node: NODE };
    agent = spawnAgent(args, extra, (chunk) => (agentLog += chunk));
  });

  afterAll(async () => {
    await stopConnectedParts({ agent, daemon, registry, cp, dir, cgroupRoot: CGROUP_ROOT });
  });

  test('a node with only a bootstrap token gets its client certificate by CSR and registers with its labels and taints', async () => {
    const node = await waitFor('the node to register', getNode);
    expect(fs.existsSync(path.join(dir, 'kubelet.conf'))).toBe(true);
    const client = (await csrs()).find(
      (c) => c.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet',
    );
    expect(client?.spec.username).toBe('system:bootstrap:abcdef');
    expect(client?.status.conditions?.map((c) => c.type)).toContain('Approved');
    expect(node.metadata.labels).toMatchObject({
      'example.com/team': 'ops',
      'node.kubernetes.io/pool': 'blue',
      'kubernetes.io/hostname': NODE,
    });
    expect(node.spec.taints).toContainEqual({
      key: 'example.com/dedicated',
      value: 'ops',
      effect: 'PreferNoSchedule',
    });
  });

  test('the serving certificate comes from an approved kubelet-serving CSR', async () => {
    const serving = await waitFor('the serving CSR', async () =>
      (await csrs()).find((c) => c.spec.signerName === 'kubernetes.io/kubelet-serving'),
    );
    expect(serving.spec.username).toBe(`system:node:${NODE}`);
    await kubectl('certificate', 'approve', serving.metadata.name);
    const port = (await getNode())!.status.daemonEndpoints.kubeletEndpoint.Port;
    const peer = await waitFor('the signed serving certificate in use', async () => {
      const p = await peerIssuer(port).catch(() => undefined);
      return p?.authorized ? p : undefined;
    });
    expect(peer.issuer).toBe('nodelet-test-ca');
  });

  test('the client certificate is renewed by the node itself before it expires, and the node goes on', async () => {
    const renewed = await waitFor(
      'a renewed client certificate',
      async () =>
        (await csrs()).find(
          (c) =>
            c.spec.signerName === 'kubernetes.io/kube-apiserver-client-kubelet' &&
            c.spec.username === `system:node:${NODE}` &&
            c.status.certificate,
        ),
      240_000,
    );
    expect(renewed.status.conditions?.map((c) => c.type)).toContain('Approved');
    expect(agentLog).toContain('certificate rotated');
    // The node still writes to the API with the new certificate.
    const before = Date.now();
    await waitFor('a node status after the rotation', async () => {
      const lease = await getJson<{ spec: { renewTime: string } }>(
        'get',
        'lease',
        '-n',
        'kube-node-lease',
        NODE,
      );
      return lease && Date.parse(lease.spec.renewTime) > before;
    });
  });

  test('on the node shutdown the regular pod stops before the critical one, both marked as the kubelet does', async () => {
    expect((await cp.kubectl(['apply', '-f', '-'], podYaml('regular', 'default', ''))).code).toBe(0);
    expect(
      (
        await cp.kubectl(
          ['apply', '-f', '-'],
          podYaml('critical', 'kube-system', 'priorityClassName: system-node-critical'),
        )
      ).code,
    ).toBe(0);
    for (const [name, ns] of [
      ['regular', 'default'],
      ['critical', 'kube-system'],
    ])
      await waitFor(
        `${name} running`,
        async () => (await getJson<Pod>('get', 'pod', '-n', ns, name))?.status.phase === 'Running',
      );

    const code = await stopAgent(agent!);
    agent = undefined;
    expect(code).toBe(0);
    const ready = (await getNode())!.status.conditions.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({
      status: 'False',
      reason: 'KubeletNotReady',
      message: 'node is shutting down',
    });
    const finished: number[] = [];
    for (const [name, ns] of [
      ['regular', 'default'],
      ['critical', 'kube-system'],
    ]) {
      const pod = (await getJson<Pod>('get', 'pod', '-n', ns, name))!;
      expect(pod.status).toMatchObject({
        phase: 'Failed',
        reason: 'Terminated',
        message: 'Pod was terminated in response to imminent node shutdown.',
      });
      expect(pod.status.conditions).toContainEqual(
        expect.objectContaining({ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet' }),
      );
      finished.push(Date.parse(pod.status.containerStatuses![0].state.terminated!.finishedAt));
    }
    expect(finished[0]).toBeLessThanOrEqual(finished[1]);
    expect(agentLog.indexOf('"pods":["regular"]')).toBeLessThan(agentLog.indexOf('"pods":["critical"]'));
  });
});
