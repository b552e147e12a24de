// Connected mode end to end: a real kube-apiserver and etcd on loopback (test/support/control_plane),
// nodelet's daemon from dist/ with images from the local registry, and `nodelet agent --kubeconfig`
// as a process with a real node identity (system:node:<name> in system:nodes, under the Node
// authorizer and NodeRestriction). kubectl sees the node Ready; a pod bound by spec.nodeName runs;
// kubectl logs and exec go through the agent's kubelet API; a static pod shows as a mirror pod; a
// restarted agent restarts nothing; kubectl delete stops the pod and the agent removes it.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CriClient } from '../../../src/agent/cri_client';
import { removeCgroupTree, unmountUnder } from '../../support/containerd';
import { ControlPlane, controlPlaneInstalled, startControlPlane } from '../../support/control_plane';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { removeAllPods } from '../../support/cri_client';
import { spawnAgent, stopAgent } from '../../support/agent_process';
import { startRegistry, TestRegistry } from '../../support/registry';

jest.setTimeout(240_000);

const NODE = `nodelet-connected-${process.pid}`;
const CGROUP_ROOT = `/nodelet-connected-${process.pid}`;
const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const installed = controlPlaneInstalled();
const title = installed
  ? 'connected mode'
  : 'connected mode (skipped: no kube-apiserver/etcd; run scripts/install-kube-tools.sh)';

let cp: ControlPlane;
let registry: TestRegistry;
let daemon: TestDaemon;
let cri: CriClient;
let dir: string;
let agent: ChildProcess | undefined;
let agentLog = '';

type Pod = {
  metadata: { uid: string; annotations?: Record<string, string> };
  status: {
    phase: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { containerID: string; restartCount: number; ready: boolean }[];
  };
};

function startAgentProcess(): ChildProcess {
  const extra = [
    ...['--kubeconfig', cp.kubeconfigFor(`system:node:${NODE}`, ['system:nodes'])],
    ...['--node-ip', '127.0.0.1', '--address', '127.0.0.1', '--port', '0'],
    ...['--client-ca-file', cp.kubeletClient.caFile],
    // volumes are read again this often: a changed configMap reaches the pod within the test
    ...['--sync-frequency', '2s'],
  ];
  const args = { dir, endpoint: daemon.endpoint, cgroupRoot: CGROUP_ROOT, node: NODE };
  return spawnAgent(args, extra, (chunk) => (agentLog += chunk));
}

function stopAgentProcess(): Promise<number | null> {
  const child = agent!;
  agent = undefined;
  return stopAgent(child);
}

async function kubectl(...args: string[]): Promise<string> {
  const r = await cp.kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function getJson<T>(...args: string[]): Promise<T | undefined> {
  const r = await cp.kubectl([...args, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
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

const isReady = (pod: Pod | undefined) =>
  pod?.status.phase === 'Running' &&
  pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') &&
  pod;

const podYaml = `apiVersion: v1
kind: Pod
metadata: { name: greeter, namespace: default }
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 2
  containers:
    - name: main
      image: ${IMAGE}
      command: ["sh", "-c", "echo hello from the API; exec sleep 1000"]
`;

const staticYaml = `apiVersion: v1
kind: Pod
metadata: { name: static-web, namespace: default }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: ${IMAGE}
      command: ["sleep", "1000"]
`;

(installed ? describe : describe.skip)(title, () => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-connected-'));
    fs.mkdirSync(path.join(dir, 'manifests'));
    registry = await startRegistry({ withFixtures: true });
    daemon = await startDaemon({ config: { registry: registry.mirrorConfig() } });
    cri = new CriClient(daemon.endpoint);
    cp = await startControlPlane();
  });

  afterAll(async () => {
    if (agent) await stopAgentProcess();
    cri?.close();
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

  test('the agent registers a Ready node with its runtime, address, kubelet port and a lease', async () => {
    agent = startAgentProcess();
    type Node = {
      status: {
        conditions: { type: string; status: string; reason: string }[];
        nodeInfo: { containerRuntimeVersion: string };
        addresses: { type: string; address: string }[];
        daemonEndpoints: { kubeletEndpoint: { Port: number } };
        capacity: Record<string, string>;
      };
    };
    const node = await waitFor('the node to be Ready', async () => {
      const n = await getJson<Node>('get', 'node', NODE);
      return n?.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && n;
    });
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.reason).toBe('KubeletReady');
    expect(node.status.conditions.map((c) => c.type).sort()).toEqual(
      ['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready'].sort(),
    );
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^nodelet:\/\//);
    expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: '127.0.0.1' });
    expect(node.status.daemonEndpoints.kubeletEndpoint.Port).toBeGreaterThan(0);
    expect(Number(node.status.capacity.cpu)).toBe(os.cpus().length);
    expect(await kubectl('get', 'nodes')).toMatch(new RegExp(`${NODE}\\s+Ready`));
    const lease = await getJson<{ spec: { holderIdentity: string } }>(
      'get',
      'lease',
      '-n',
      'kube-node-lease',
      NODE,
    );
    expect(lease?.spec.holderIdentity).toBe(NODE);
  });

  test('a pod bound to the node with kubectl runs, and its logs and exec go through the agent', async () => {
    const r = await cp.kubectl(['apply', '-f', '-'], podYaml);
    expect(r.stderr).toBe('');
    const pod = await waitFor('the pod to be Running and Ready', async () =>
      isReady(await getJson<Pod>('get', 'pod', 'greeter')),
    );
    expect(pod.status.containerStatuses?.[0].containerID).toMatch(/^nodelet:\/\//);
    const logs = await waitFor('the pod log', async () => {
      const out = await cp.kubectl(['logs', 'greeter']);
      return out.code === 0 && out.stdout.includes('hello from the API') && out.stdout;
    });
    expect(logs).toContain('hello from the API');
    const exec = await cp.kubectl(['exec', 'greeter', '--', 'sh', '-c', 'echo exec works; exit 0']);
    expect(exec).toMatchObject({ code: 0, stdout: 'exec works\n' });
    // the agent's events, as `kubectl describe pod` lists them
    const events = await getJson<{ items: { reason: string; source: { host: string } }[] }>(
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=greeter',
    );
    expect(events?.items).toContainEqual(
      expect.objectContaining({ reason: 'Started', source: expect.objectContaining({ host: NODE }) }),
    );
  });

  test('configMap, secret and projected volumes and env show their content in the container', async () => {
    const objects = `apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: default }
data: { greeting: "hello from a configMap" }
---
apiVersion: v1
kind: Secret
metadata: { name: creds, namespace: default }
stringData: { password: hunter2 }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: reader, namespace: default }
---
apiVersion: v1
kind: Pod
metadata: { name: reader, namespace: default }
spec:
  nodeName: ${NODE}
  serviceAccountName: reader
  terminationGracePeriodSeconds: 1
  volumes:
    - { name: settings, configMap: { name: settings } }
    - name: api-access
      projected:
        sources:
          - serviceAccountToken: { path: token, expirationSeconds: 3607 }
          - downwardAPI: { items: [{ path: namespace, fieldRef: { fieldPath: metadata.namespace } }] }
    - { name: creds, secret: { secretName: creds, items: [{ key: password, path: pw, mode: 0400 }] } }
    - { name: podinfo, downwardAPI: { items: [{ path: labels, fieldRef: { fieldPath: metadata.labels } }] } }
  containers:
    - name: main
      image: ${IMAGE}
      command: ["sleep", "1000"]
      env: [{ name: GREETING, valueFrom: { configMapKeyRef: { name: settings, key: greeting } } }]
      envFrom: [{ prefix: CRED_, secretRef: { name: creds } }]
      volumeMounts:
        - { name: settings, mountPath: /etc/settings }
        - { name: creds, mountPath: /etc/creds, readOnly: true }
        - { name: podinfo, mountPath: /etc/podinfo }
        - { name: api-access, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true }
`;
    expect((await cp.kubectl(['apply', '-f', '-'], objects)).code).toBe(0);
    await waitFor('the reader to run', async () => isReady(await getJson<Pod>('get', 'pod', 'reader')));
    const out = await cp.kubectl([
      'exec',
      'reader',
      '--',
      'sh',
      '-c',
      'cat /etc/settings/greeting; echo; cat /etc/creds/pw',
    ]);
    expect(out).toMatchObject({ code: 0, stdout: 'hello from a configMap\nhunter2' });
    const env = await cp.kubectl(['exec', 'reader', '--', 'sh', '-c', 'echo "$GREETING/$CRED_password"']);
    expect(env).toMatchObject({ code: 0, stdout: 'hello from a configMap/hunter2\n' });
    // a projected service account token, bound to the pod, as the ServiceAccount admission adds them
    const sa = await cp.kubectl([
      'exec',
      'reader',
      '--',
      'sh',
      '-c',
      'cd /var/run/secrets/kubernetes.io/serviceaccount; cat namespace; echo; cat token',
    ]);
    expect(sa.code).toBe(0);
    const [namespace, jwt] = sa.stdout.split('\n');
    expect(namespace).toBe('default');
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as { sub: string };
    expect(claims.sub).toBe('system:serviceaccount:default:reader');

    // The kubelet's layout: the names are links through ..data, which a change swaps at once.
    const layout = await cp.kubectl(['exec', 'reader', '--', 'readlink', '/etc/settings/greeting']);
    expect(layout).toMatchObject({ code: 0, stdout: '..data/greeting\n' });
    await kubectl('patch', 'configmap', 'settings', '-p', '{"data":{"greeting":"changed"}}');
    await waitFor('the changed configMap in the running container', async () => {
      const r = await cp.kubectl(['exec', 'reader', '--', 'cat', '/etc/settings/greeting']);
      return r.stdout === 'changed';
    });
    // New labels on the running pod reach its downwardAPI volume.
    await kubectl('label', 'pod', 'reader', 'tier=web');
    await waitFor('the new label in the downwardAPI volume', async () => {
      const r = await cp.kubectl(['exec', 'reader', '--', 'cat', '/etc/podinfo/labels']);
      return r.stdout.includes('tier="web"');
    });
    const restarts = await getJson<Pod>('get', 'pod', 'reader');
    expect(restarts?.status.containerStatuses?.[0].restartCount).toBe(0);
    await kubectl('delete', 'pod', 'reader', '--wait=true', '--timeout=60s');
    await kubectl('delete', 'configmap', 'settings');
    await kubectl('delete', 'secret', 'creds');
    await kubectl('delete', 'serviceaccount', 'reader');
  });

  test('a pod that completes shows Succeeded and an image that cannot be pulled shows why', async () => {
    const pods = `apiVersion: v1
kind: Pod
metadata: { name: once, namespace: default }
spec:
  nodeName: ${NODE}
  restartPolicy: Never
  containers: [{ name: main, image: ${IMAGE}, command: ["true"] }]
---
apiVersion: v1
kind: Pod
metadata: { name: missing-image, namespace: default }
spec:
  nodeName: ${NODE}
  terminationGracePeriodSeconds: 1
  containers: [{ name: main, image: registry.k8s.io/e2e-test-images/no-such-image:1.0 }]
`;
    expect((await cp.kubectl(['apply', '-f', '-'], pods)).code).toBe(0);
    const once = await waitFor('the pod to succeed', async () => {
      const p = await getJson<Pod>('get', 'pod', 'once');
      return p?.status.phase === 'Succeeded' && p;
    });
    expect(once.status.containerStatuses?.[0]).toMatchObject({ restartCount: 0, ready: false });
    type Waiting = {
      status: { phase: string; containerStatuses?: { state: { waiting?: { reason: string } } }[] };
    };
    const missing = await waitFor('the pull to fail', async () => {
      const p = await getJson<Waiting>('get', 'pod', 'missing-image');
      const reason = p?.status.containerStatuses?.[0].state.waiting?.reason;
      return (reason === 'ErrImagePull' || reason === 'ImagePullBackOff') && p;
    });
    expect(missing.status.phase).toBe('Pending');
    await kubectl('delete', 'pod', 'once', 'missing-image', '--wait=true', '--timeout=60s');
  });

  test('a static pod of the manifest directory shows in the API as a mirror pod with its status', async () => {
    fs.writeFileSync(path.join(dir, 'manifests', 'static-web.yaml'), staticYaml);
    const mirror = await waitFor('the mirror pod to be Running', async () =>
      isReady(await getJson<Pod>('get', 'pod', `static-web-${NODE}`)),
    );
    expect(mirror.metadata.annotations?.['kubernetes.io/config.mirror']).toBeTruthy();
  });

  test('a restarted agent restarts no pod and the statuses stay right', async () => {
    const before = (await getJson<Pod>('get', 'pod', 'greeter'))!;
    const sandboxes = (await cri.listPodSandbox()).items.map((s) => s.id).sort();
    expect(await stopAgentProcess()).toBe(0);
    agent = startAgentProcess();
    await waitFor('the new agent to register', async () => agentLog.split('node registered').length > 2);
    await new Promise((r) => setTimeout(r, 5000)); // a few sync rounds of the new agent
    const after = isReady(await getJson<Pod>('get', 'pod', 'greeter'));
    expect(after).toBeTruthy();
    expect(after && after.status.containerStatuses?.[0]).toMatchObject({
      containerID: before.status.containerStatuses?.[0].containerID,
      restartCount: 0,
      ready: true,
    });
    expect((await cri.listPodSandbox()).items.map((s) => s.id).sort()).toEqual(sandboxes);
    expect(isReady(await getJson<Pod>('get', 'pod', `static-web-${NODE}`))).toBeTruthy();
  });

  test('kubectl delete stops the pod within its grace period and the agent removes it from the API', async () => {
    const uid = (await getJson<Pod>('get', 'pod', 'greeter'))!.metadata.uid;
    await kubectl('delete', 'pod', 'greeter', '--wait=true', '--timeout=60s');
    expect(await getJson<Pod>('get', 'pod', 'greeter')).toBeUndefined();
    const left = (await cri.listPodSandbox()).items.filter((s) => s.labels['io.kubernetes.pod.uid'] === uid);
    expect(left).toEqual([]);
  });

  test('removing the static manifest removes its pod and its mirror pod', async () => {
    fs.rmSync(path.join(dir, 'manifests', 'static-web.yaml'));
    await waitFor('the mirror pod to go', async () => {
      const r = await cp.kubectl(['get', 'pod', `static-web-${NODE}`]);
      return r.code !== 0 && r.stderr.includes('NotFound');
    });
    await waitFor('the runtime to have no pod', async () => (await cri.listPodSandbox()).items.length === 0);
    expect(await stopAgentProcess()).toBe(0);
    await kubectl('delete', 'node', NODE);
  });
});
