// Pod fields of ordinary workloads on a connected agent, end to end against a real kube-apiserver and
// the nodelet daemon (test/support/connected_node.ts): fsGroup gives the pod's volumes to its group (a
// non-root container reads a 0400 secret-like configMap file and what it writes to an emptyDir has
// the fsGroup), a windows pod is rejected with the kubelet's reason, and a RuntimeClass's handler
// reaches RunPodSandbox, and `kubectl debug` runs an ephemeral container in the target's PID namespace.
import { controlPlaneInstalled } from '../../support/control_plane';
import { ConnectedNode, KubePod, startConnectedNode } from '../../support/connected_node';
import { criClient } from '../../support/cri_client';

jest.setTimeout(900_000);

const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const installed = controlPlaneInstalled();
const title = installed
  ? 'pod fields on a connected agent: fsGroup, os, runtimeClassName, ephemeral containers'
  : 'pod fields on a connected agent (skipped: no kube-apiserver/etcd; run scripts/install-kube-tools.sh)';

let node: ConnectedNode;

const running = (name: string) =>
  node.waitFor(`pod ${name} running`, async () => {
    const pod = await node.getPod(name);
    return pod?.status.phase === 'Running' && pod.status.containerStatuses?.every((c) => c.ready) && pod;
  });

const exec = (pod: string, ...cmd: string[]) => node.kubectl(['exec', pod, '--', ...cmd]);

(installed ? describe : describe.skip)(title, () => {
  beforeAll(async () => {
    node = await startConnectedNode('nodelet-podfeat');
  });
  afterAll(async () => {
    await node?.stop();
  });

  test('fsGroup: volumes belong to the group (setgid directories, group read), new files get it too', async () => {
    await node.kubectl(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data: { key: value }
---
apiVersion: v1
kind: Pod
metadata: { name: grouped }
spec:
  nodeName: ${node.name}
  terminationGracePeriodSeconds: 1
  securityContext: { runAsUser: 1000, fsGroup: 2000, fsGroupChangePolicy: OnRootMismatch }
  volumes:
    - { name: scratch, emptyDir: {} }
    - { name: cfg, configMap: { name: settings, defaultMode: 0400 } }
    - name: info
      downwardAPI: { items: [{ path: name, fieldRef: { fieldPath: metadata.name } }] }
  containers:
    - name: main
      image: ${IMAGE}
      command: ["sleep", "1000"]
      volumeMounts:
        - { name: scratch, mountPath: /scratch }
        - { name: cfg, mountPath: /cfg }
        - { name: info, mountPath: /info }
`,
    );
    await running('grouped');
    expect((await exec('grouped', 'id', '-G')).trim().split(' ')).toContain('2000');
    expect((await exec('grouped', 'stat', '-c', '%g %a', '/scratch')).trim()).toBe('2000 2777');
    // 0400 became 0440 with the fsGroup: the non-root user reads it through its group.
    expect((await exec('grouped', 'stat', '-L', '-c', '%g %a', '/cfg/key')).trim()).toBe('2000 440');
    expect(await exec('grouped', 'cat', '/cfg/key')).toBe('value');
    expect((await exec('grouped', 'stat', '-L', '-c', '%g', '/info/name')).trim()).toBe('2000');
    await exec('grouped', 'sh', '-c', 'mkdir /scratch/d && touch /scratch/d/f');
    expect((await exec('grouped', 'stat', '-c', '%u %g', '/scratch/d/f')).trim()).toBe('1000 2000');
  });

  test('os: a linux pod runs; a windows pod is rejected with PodOSNotSupported and never gets a sandbox', async () => {
    await node.kubectl(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata: { name: on-linux }
spec:
  nodeName: ${node.name}
  terminationGracePeriodSeconds: 1
  os: { name: linux }
  containers: [{ name: main, image: ${IMAGE}, command: ["sleep", "1000"] }]
---
apiVersion: v1
kind: Pod
metadata: { name: on-windows }
spec:
  nodeName: ${node.name}
  os: { name: windows }
  containers: [{ name: main, image: ${IMAGE} }]
`,
    );
    await running('on-linux');
    const rejected = await node.waitFor('windows pod rejected', async () => {
      const pod = await node.getPod('on-windows');
      return pod?.status.phase === 'Failed' && pod;
    });
    expect(rejected.status).toMatchObject({
      reason: 'PodOSNotSupported',
      message: "Pod was rejected: Failed to admit pod as the OS field doesn't match node OS",
    });
    const uid = rejected.metadata.uid;
    const cri = criClient(node.daemon.endpoint);
    try {
      const { items } = await cri.runtime<{ items: { metadata: { uid: string } }[] }>('ListPodSandbox');
      expect(items.map((s) => s.metadata.uid)).not.toContain(uid);
    } finally {
      cri.close();
    }
  });

  test("runtimeClassName: the RuntimeClass's handler is the sandbox's runtime handler", async () => {
    await node.kubectl(
      ['apply', '-f', '-'],
      `apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: { name: native }
handler: nodelet
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: { name: elsewhere }
handler: no-such-handler
---
apiVersion: v1
kind: Pod
metadata: { name: classy }
spec:
  nodeName: ${node.name}
  terminationGracePeriodSeconds: 1
  runtimeClassName: native
  containers: [{ name: main, image: ${IMAGE}, command: ["sleep", "1000"] }]
---
apiVersion: v1
kind: Pod
metadata: { name: misplaced }
spec:
  nodeName: ${node.name}
  runtimeClassName: elsewhere
  containers: [{ name: main, image: ${IMAGE}, command: ["sleep", "1000"] }]
`,
    );
    const pod = await running('classy');
    const cri = criClient(node.daemon.endpoint);
    try {
      const { items } = await cri.runtime<{
        items: { metadata: { uid: string }; runtime_handler: string }[];
      }>('ListPodSandbox');
      expect(items.find((s) => s.metadata.uid === pod.metadata.uid)?.runtime_handler).toBe('nodelet');
    } finally {
      cri.close();
    }
    // The runtime does not know the other class's handler: it says so, and the pod stays Pending.
    const events = await node.waitFor('FailedCreatePodSandBox event', async () => {
      const out = await node.kubectl([
        'get',
        'events',
        '--field-selector',
        'involvedObject.name=misplaced,reason=FailedCreatePodSandBox',
        '-o',
        'jsonpath={.items[*].message}',
      ]);
      return out.includes('no-such-handler') && out;
    });
    expect(events).toContain("unknown runtime handler 'no-such-handler'");
    expect((await node.getPod<KubePod>('misplaced'))?.status.phase).toBe('Pending');
  });

  test("kubectl debug: an ephemeral container starts in the running pod, sees its target's processes, and is never restarted", async () => {
    await node.kubectl(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata: { name: debuggee }
spec:
  nodeName: ${node.name}
  terminationGracePeriodSeconds: 1
  containers: [{ name: main, image: ${IMAGE}, command: ["sleep", "4242"] }]
`,
    );
    const before = await running('debuggee');
    await node.kubectl([
      'debug',
      'debuggee',
      `--image=${IMAGE}`,
      '--target=main',
      '--container=dbg',
      '--',
      'sh',
      '-c',
      'sleep 30; exit 3',
    ]);
    const pod = await node.waitFor('ephemeral container running', async () => {
      const p = await node.getPod('debuggee');
      const s = p?.status.ephemeralContainerStatuses?.[0];
      return s?.state.running && p;
    });
    expect(pod.status.ephemeralContainerStatuses![0]).toMatchObject({
      name: 'dbg',
      ready: false,
      restartCount: 0,
    });
    // The target's PID namespace: its sleep is there, as PID 1.
    const ps = await node.kubectl(['exec', 'debuggee', '-c', 'dbg', '--', 'ps', '-o', 'pid,args']);
    expect(ps).toMatch(/^\s*1\s+sleep 4242$/m);
    // It exits with 3 and stays terminated; the pod and its container are untouched.
    const done = await node.waitFor('ephemeral container terminated', async () => {
      const p = await node.getPod('debuggee');
      return p?.status.ephemeralContainerStatuses?.[0]?.state.terminated && p;
    });
    expect(done.status.ephemeralContainerStatuses![0].state.terminated).toMatchObject({ exitCode: 3 });
    await new Promise((r) => setTimeout(r, 5000));
    const after = (await node.getPod('debuggee'))!;
    expect(after.status.ephemeralContainerStatuses![0].state.terminated).toBeDefined();
    expect(after.status.ephemeralContainerStatuses![0].restartCount).toBe(0);
    expect(after.status.phase).toBe('Running');
    expect(after.status.containerStatuses![0].containerID).toBe(
      before.status.containerStatuses![0].containerID,
    );
    expect(after.status.containerStatuses![0].restartCount).toBe(0);
  });
});
