// The upstream kubelet on nodelet, registered with a real kube-apiserver and etcd on this machine:
// the node registers, and kubectl apply, logs, exec (apiserver -> kubelet -> nodelet's streaming
// server) and delete work on a pod bound to it. Needs root, the kubelet and the control plane tools.
import { spawn } from 'node:child_process';
import {
  controlPlaneInstalled,
  ControlPlane,
  KUBE_TOOLS,
  startControlPlane,
} from '../../support/control_plane';
import { startDaemon, TestDaemon } from '../../support/daemon';
import { startRegistry, TestRegistry } from '../../support/registry';
import { hostAddress } from './host';
import { kubeletInstalled, startKubelet, TestKubelet } from './kubelet';
import { leftovers, mountsUnder } from './leftovers';
import { crictl, criErrors, waitFor } from './observe';
import { BUSYBOX } from './pods';

const installed = kubeletInstalled() && controlPlaneInstalled();
const suite = installed ? describe : (describe.skip as typeof describe);
const reason = installed
  ? ''
  : ' (skipped: the kubelet or control plane is missing; run scripts/install-kube-tools.sh)';

const podManifest = (node: string) => `
apiVersion: v1
kind: Pod
metadata: { name: hello, namespace: default }
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 3
  tolerations: [{ operator: Exists }]
  containers:
    - name: hello
      image: ${BUSYBOX}
      command:
        - sh
        - -c
        - |
          trap 'exit 0' TERM
          mkdir -p /www && echo forwarded-from-the-pod > /www/index.html && httpd -p 8080 -h /www
          echo hello-from-nodelet
          while true; do sleep 1; done
`;

suite(`the upstream kubelet on nodelet, connected to a kube-apiserver${reason}`, () => {
  let registry: TestRegistry;
  let daemon: TestDaemon;
  let cp: ControlPlane;
  let kubelet: TestKubelet | undefined;
  let node = '';

  const kubectl = async (...args: string[]) => {
    const r = await cp.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    registry = await startRegistry({ withFixtures: true });
    daemon = await startDaemon({ config: { registry: registry.mirrorConfig() }, timeoutMs: 30_000 });
    cp = await startControlPlane();
    const name = `nodelet-${process.pid}`;
    kubelet = await startKubelet({
      endpoint: daemon.endpoint,
      nodeName: name,
      kubeconfig: cp.kubeconfigFor(`system:node:${name}`, ['system:nodes']),
      clientCaFile: cp.kubeletClient.caFile,
      nodeIp: hostAddress(),
    });
    node = kubelet.nodeName;
  }, 240_000);

  afterAll(async () => {
    await kubelet?.stop().catch(() => undefined);
    await cp?.stop();
    await daemon?.stop();
    await daemon?.cleanup();
    await registry?.stop();
  }, 180_000);

  test('the kubelet registers its node, which becomes Ready with nodelet as its runtime', async () => {
    const ready = await waitFor('the node to be Ready', async () => {
      const n = JSON.parse(await kubectl('get', 'node', node, '-o', 'json'));
      const cond = n.status.conditions?.find((c: { type: string }) => c.type === 'Ready');
      return cond?.status === 'True' ? n : undefined;
    });
    expect(ready.status.nodeInfo.containerRuntimeVersion).toMatch(/^nodelet:\/\//);
    expect(ready.status.addresses).toEqual(
      expect.arrayContaining([{ type: 'InternalIP', address: kubelet!.address }]),
    );
  }, 120_000);

  test('kubectl apply runs a pod on the node, and kubectl logs shows its output', async () => {
    await cp.kubectl(['apply', '-f', '-'], podManifest(node)).then((r) => expect(r.stderr).toBe(''));
    await waitFor('the pod to run', async () => {
      const phase = await kubectl('get', 'pod', 'hello', '-o', 'jsonpath={.status.phase}');
      return phase === 'Running';
    });
    const logs = await waitFor('the pod log', async () => {
      const out = await kubectl('logs', 'hello');
      return out.includes('hello-from-nodelet') ? out : undefined;
    });
    expect(logs).toContain('hello-from-nodelet');
    expect(
      crictl(daemon.endpoint, 'pods', '-q', '--name', '^hello$', '--state', 'ready').out.trim(),
    ).not.toBe('');
  }, 150_000);

  test('kubectl exec runs a command in the container through the kubelet and nodelet', async () => {
    const out = await kubectl('exec', 'hello', '--', 'sh', '-c', 'echo exec-ok $(hostname)');
    expect(out.trim()).toBe('exec-ok hello');
    const failed = await cp.kubectl(['exec', 'hello', '--', 'sh', '-c', 'exit 3']);
    expect(failed.code).toBe(3);
  }, 60_000);

  test('kubectl exec with stdin passes the input through', async () => {
    const r = await cp.kubectl(['exec', '-i', 'hello', '--', 'cat'], 'piped-through\n');
    expect(r.stdout).toBe('piped-through\n');
  }, 60_000);

  test('kubectl port-forward reaches a server inside the pod', async () => {
    const child = spawn(KUBE_TOOLS.kubectl, [
      '--kubeconfig',
      cp.adminKubeconfig,
      'port-forward',
      'pod/hello',
      ':8080',
      '--address',
      '127.0.0.1',
    ]);
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const port = await waitFor('kubectl to listen', () => /127\.0\.0\.1:(\d+) ->/.exec(out)?.[1], 30_000);
      const body = await waitFor('the pod to answer', () =>
        fetch(`http://127.0.0.1:${port}/index.html`).then((r) => (r.ok ? r.text() : undefined)),
      );
      expect(body).toBe('forwarded-from-the-pod\n');
    } finally {
      child.kill();
    }
  }, 60_000);

  test('kubectl delete stops the pod and the kubelet removes it from nodelet', async () => {
    await kubectl('delete', 'pod', 'hello', '--wait=true', '--timeout=90s');
    await waitFor(
      'the sandbox to stop',
      () => crictl(daemon.endpoint, 'pods', '-q', '--name', '^hello$', '--state', 'ready').out.trim() === '',
    );
    expect(crictl(daemon.endpoint, 'ps', '-q', '--name', '^hello$').out.trim()).toBe('');
  }, 150_000);

  test('a static pod on the node shows in the apiserver as its mirror pod', async () => {
    kubelet!.addManifest(
      'static.yaml',
      `
apiVersion: v1
kind: Pod
metadata: { name: static, namespace: default }
spec:
  terminationGracePeriodSeconds: 2
  containers:
    - name: static
      image: ${BUSYBOX}
      command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
`,
    );
    const mirror = await waitFor('the mirror pod to run', async () => {
      const r = await cp.kubectl(['get', 'pod', `static-${node}`, '-o', 'json']);
      const pod = r.code === 0 ? JSON.parse(r.stdout) : undefined;
      return pod?.status?.phase === 'Running' ? pod : undefined;
    });
    expect(mirror.metadata.annotations['kubernetes.io/config.mirror']).toBeTruthy();
    expect(mirror.spec.nodeName).toBe(node);
  }, 120_000);

  test('the kubelet log shows no repeated CRI error, and nothing is left after it stops', async () => {
    const k = kubelet!;
    const repeated = [...criErrors(k.logs())].filter(([, n]) => n > 1);
    expect(repeated).toEqual([]);
    kubelet = undefined;
    await k.stop();
    expect(leftovers(k)).toEqual([]);
    // No pinned namespace, /dev/shm or rootfs of the kubelet's pods is left in nodelet either.
    expect(mountsUnder(daemon.runDir)).toEqual([]);
    expect(mountsUnder(daemon.stateDir)).toEqual([]);
    expect(crictl(daemon.endpoint, 'pods', '-q').out.trim()).toBe('');
  }, 120_000);
});
