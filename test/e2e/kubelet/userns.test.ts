// The upstream kubelet, standalone, running a static pod with hostUsers: false on nodelet: the
// kubelet allocates the pod a 65536-id range and sends userns_options mode POD with it, and idmap
// mappings on the pod's volumes. Needs root, the real kernel and the kubelet binary.
import { startDaemon, TestDaemon } from '../../support/daemon';
import { startRegistry, TestRegistry } from '../../support/registry';
import { kubeletInstalled, KUBELET_BIN, startKubelet, TestKubelet } from './kubelet';
import { BUSYBOX } from './pods';
import { crictl, kubeletPods, waitFor } from './observe';

const suite = kubeletInstalled() ? describe : (describe.skip as typeof describe);
const reason = kubeletInstalled() ? '' : ` (skipped: no ${KUBELET_BIN}; run scripts/install-kube-tools.sh)`;

const usernsPod = `
apiVersion: v1
kind: Pod
metadata: { name: userns, namespace: default }
spec:
  hostUsers: false
  terminationGracePeriodSeconds: 2
  volumes:
    - { name: scratch, emptyDir: {} }
  containers:
    - name: main
      image: ${BUSYBOX}
      command: ["sh", "-c", "touch /scratch/made-inside; while true; do sleep 1; done"]
      volumeMounts: [{ name: scratch, mountPath: /scratch }]
`;

suite(`the upstream kubelet runs a hostUsers: false pod on nodelet${reason}`, () => {
  let registry: TestRegistry;
  let daemon: TestDaemon;
  let kubelet: TestKubelet | undefined;

  beforeAll(async () => {
    registry = await startRegistry({ withFixtures: true });
    daemon = await startDaemon({ config: { registry: registry.mirrorConfig() }, timeoutMs: 30_000 });
    kubelet = await startKubelet({ endpoint: daemon.endpoint });
    kubelet.addManifest('userns.yaml', usernsPod);
  }, 180_000);

  afterAll(async () => {
    await kubelet?.stop().catch(() => undefined);
    await daemon?.stop();
    await daemon?.cleanup();
    await registry?.stop();
  }, 180_000);

  test('the pod runs in a user namespace with the kubelet’s mapping, its volume idmapped', async () => {
    const name = `userns-${kubelet!.nodeName}`;
    await waitFor(
      'the userns pod to run',
      async () => (await kubeletPods(kubelet!.address, kubelet!.port)).get(name)?.status.phase === 'Running',
      150_000,
    );
    const id = crictl(daemon.endpoint, 'ps', '-q', '--name', '^main$').out.trim();
    const map = crictl(daemon.endpoint, 'exec', id, 'cat', '/proc/self/uid_map').out.trim().split(/\s+/);
    expect(map[0]).toBe('0');
    expect(Number(map[1]) % 65536).toBe(0);
    expect(Number(map[1])).toBeGreaterThan(0);
    expect(map[2]).toBe('65536');
    // The kubelet's emptyDir is owned by the host's root; idmapped, it is root's inside.
    const ls = crictl(daemon.endpoint, 'exec', id, 'ls', '-ln', '/scratch/made-inside').out;
    expect(ls.split(/\s+/).slice(2, 4)).toEqual(['0', '0']);
  }, 200_000);
});
