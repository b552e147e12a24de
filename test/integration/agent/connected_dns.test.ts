// What a pod of a cluster expects of its node, end to end against a real kube-apiserver: the agent
// (from dist/, with --cluster-dns and --cluster-domain) gives the containers the Service variables
// of the `kubernetes` Service and of their namespace's Services (from its Service informer), a
// resolv.conf with the cluster DNS, the search list and ndots:5, and a managed /etc/hosts with the
// pod's FQDN from spec.subdomain and its hostAliases; dnsPolicy Default and enableServiceLinks:
// false take that away again. Read inside the containers through kubectl exec.
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

const NODE = `nodelet-dns-${process.pid}`;
const CGROUP_ROOT = `/nodelet-dns-${process.pid}`;
const NS = 'shop';
const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const installed = controlPlaneInstalled();
const title = installed
  ? 'cluster DNS, hosts and Service variables of a connected agent'
  : 'cluster DNS, hosts and Service variables (skipped: no kube-apiserver/etcd; run scripts/install-kube-tools.sh)';

let cp: ControlPlane;
let registry: TestRegistry;
let daemon: TestDaemon;
let dir: string;
let agent: ChildProcess | undefined;
let agentLog = '';

type Pod = { status: { phase: string; podIP?: string } };

async function kubectl(...args: string[]): Promise<string> {
  const r = await cp.kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}\n${agentLog.slice(-3000)}`);
  return r.stdout;
}

async function waitRunning(name: string): Promise<Pod> {
  const until = Date.now() + 120_000;
  for (;;) {
    const r = await cp.kubectl(['get', 'pod', '-n', NS, name, '-o', 'json']);
    const pod = r.code === 0 ? (JSON.parse(r.stdout) as Pod) : undefined;
    if (pod?.status.phase === 'Running' && pod.status.podIP) return pod;
    if (Date.now() > until) throw new Error(`timed out waiting for pod ${name}\n${agentLog.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const exec = (pod: string, ...cmd: string[]) => kubectl('exec', '-n', NS, pod, '--', ...cmd);

const setup = `apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
apiVersion: v1
kind: Service
metadata: { name: redis-primary, namespace: ${NS} }
spec:
  clusterIP: 10.0.0.42
  ports: [{ name: redis, port: 6379 }]
---
apiVersion: v1
kind: Service
metadata: { name: peers, namespace: ${NS} }
spec:
  clusterIP: None
  ports: [{ port: 80 }]
`;

const pods = `apiVersion: v1
kind: Pod
metadata: { name: web, namespace: ${NS} }
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 1
  hostname: web-0
  subdomain: peers
  hostAliases: [{ ip: 10.9.9.9, hostnames: [alias-one.example, alias-two.example] }]
  dnsConfig: { searches: [extra.example], options: [{ name: edns0 }] }
  containers:
    - name: main
      image: ${IMAGE}
      command: ["sleep", "1000"]
      env: [{ name: REDIS_URL, value: "redis://$(REDIS_PRIMARY_SERVICE_HOST):$(REDIS_PRIMARY_SERVICE_PORT)" }]
---
apiVersion: v1
kind: Pod
metadata: { name: plain, namespace: ${NS} }
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 1
  dnsPolicy: Default
  enableServiceLinks: false
  containers:
    - name: main
      image: ${IMAGE}
      command: ["sleep", "1000"]
`;

(installed ? describe : describe.skip)(title, () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-dns-'));
    fs.mkdirSync(path.join(dir, 'manifests'));
    // The node's own resolver file, so what the pods get from it is known.
    fs.writeFileSync(
      path.join(dir, 'resolv.conf'),
      'nameserver 192.0.2.53\nsearch host.example\noptions timeout:2\n',
    );
    registry = await startRegistry({ withFixtures: true });
    daemon = await startDaemon({ config: { registry: registry.mirrorConfig() } });
    cp = await startControlPlane();
    // The Services exist before the agent starts: its first list has them, and pods wait for it.
    const r = await cp.kubectl(['apply', '-f', '-'], setup);
    if (r.code !== 0) throw new Error(r.stderr);
    agent = spawnAgent(
      { dir, endpoint: daemon.endpoint, cgroupRoot: CGROUP_ROOT, node: NODE },
      [
        ...['--kubeconfig', cp.kubeconfigFor(`system:node:${NODE}`, ['system:nodes'])],
        ...['--node-ip', '127.0.0.1', '--address', '127.0.0.1', '--port', '0'],
        ...['--client-ca-file', cp.kubeletClient.caFile],
        ...['--cluster-dns', '10.0.0.10', '--cluster-domain', 'cluster.local'],
        ...['--resolv-conf', path.join(dir, 'resolv.conf')],
      ],
      (chunk) => (agentLog += chunk),
    );
    const p = await cp.kubectl(['apply', '-f', '-'], pods);
    if (p.code !== 0) throw new Error(p.stderr);
  });

  afterAll(async () => {
    if (cp) await cp.kubectl(['delete', 'pod', '-n', NS, '--all', '--wait=true', '--timeout=60s']);
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

  test("the container's env has the kubernetes Service and its namespace's Services, its own refers to them", async () => {
    await waitRunning('web');
    const env = await exec('web', 'env');
    for (const line of [
      'KUBERNETES_SERVICE_HOST=10.0.0.1',
      'KUBERNETES_SERVICE_PORT=443',
      'KUBERNETES_SERVICE_PORT_HTTPS=443',
      'KUBERNETES_PORT=tcp://10.0.0.1:443',
      'KUBERNETES_PORT_443_TCP_ADDR=10.0.0.1',
      'REDIS_PRIMARY_SERVICE_HOST=10.0.0.42',
      'REDIS_PRIMARY_SERVICE_PORT=6379',
      'REDIS_PRIMARY_SERVICE_PORT_REDIS=6379',
      'REDIS_PRIMARY_PORT=tcp://10.0.0.42:6379',
      'REDIS_PRIMARY_PORT_6379_TCP=tcp://10.0.0.42:6379',
      'REDIS_PRIMARY_PORT_6379_TCP_PROTO=tcp',
      'REDIS_PRIMARY_PORT_6379_TCP_PORT=6379',
      'REDIS_PRIMARY_PORT_6379_TCP_ADDR=10.0.0.42',
      'REDIS_URL=redis://10.0.0.42:6379',
    ])
      expect(env.split('\n')).toContain(line);
    // A headless Service gives nothing.
    expect(env).not.toContain('PEERS_');
  });

  test('resolv.conf has the cluster DNS, the search list with the host and dnsConfig domains, and ndots:5', async () => {
    await waitRunning('web');
    const resolv = await exec('web', 'cat', '/etc/resolv.conf');
    expect(resolv.trim().split('\n')).toEqual([
      `search ${NS}.svc.cluster.local svc.cluster.local cluster.local host.example extra.example`,
      'nameserver 10.0.0.10',
      'options ndots:5 edns0',
    ]);
  });

  test('/etc/hosts holds the pod IP with its FQDN from subdomain, then the hostAliases; hostname is web-0', async () => {
    const pod = await waitRunning('web');
    const hosts = await exec('web', 'cat', '/etc/hosts');
    expect(hosts).toMatch(/^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
    expect(hosts).toContain(`${pod.status.podIP}\tweb-0.peers.${NS}.svc.cluster.local\tweb-0\n`);
    expect(hosts).toMatch(
      /\n\n# Entries added by HostAliases\.\n10\.9\.9\.9\talias-one\.example\talias-two\.example\n$/,
    );
    expect((await exec('web', 'hostname')).trim()).toBe('web-0');
  });

  test('dnsPolicy Default gives the node resolver; enableServiceLinks false leaves only the kubernetes Service', async () => {
    const pod = await waitRunning('plain');
    expect((await exec('plain', 'cat', '/etc/resolv.conf')).trim().split('\n')).toEqual([
      'search host.example',
      'nameserver 192.0.2.53',
      'options timeout:2',
    ]);
    const env = await exec('plain', 'env');
    expect(env).toContain('KUBERNETES_SERVICE_HOST=10.0.0.1');
    expect(env).not.toContain('REDIS_PRIMARY');
    expect(await exec('plain', 'cat', '/etc/hosts')).toContain(`${pod.status.podIP}\tplain\n`);
  });
});
