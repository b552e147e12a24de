// The control plane the agent, kubelet and manifest tests share: a real etcd and kube-apiserver,
// reachable with kubectl, with identities a test can mint.
import { ControlPlane, controlPlaneInstalled, startControlPlane } from '../../support/control_plane';

const describeIfInstalled = controlPlaneInstalled() ? describe : describe.skip;

describeIfInstalled('a throwaway control plane', () => {
  let cp: ControlPlane;

  beforeAll(async () => {
    cp = await startControlPlane();
  }, 180_000);

  afterAll(async () => {
    await cp?.stop();
  });

  test('kubectl as admin sees the system namespaces', async () => {
    const res = await cp.kubectl(['get', 'namespaces', '-o', 'name']);
    expect(res.stderr).toBe('');
    expect(res.stdout).toContain('namespace/kube-node-lease');
    expect(res.stdout).toContain('namespace/kube-system');
  });

  test('a node identity may create its own Node and nothing else', async () => {
    const nodeKubeconfig = cp.kubeconfigFor('system:node:test-node', ['system:nodes']);
    const node = JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'test-node' } });
    const own = await cp.kubectl(['--kubeconfig', nodeKubeconfig, 'create', '-f', '-'], node);
    expect(own.stderr).toBe('');
    const other = node.replace('test-node', 'other-node');
    const foreign = await cp.kubectl(['--kubeconfig', nodeKubeconfig, 'create', '-f', '-'], other);
    expect(foreign.code).not.toBe(0);
    expect(foreign.stderr).toMatch(/forbidden/i);
  });
});
