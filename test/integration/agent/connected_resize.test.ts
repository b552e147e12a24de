// In-place pod resize on a connected agent, end to end against a real kube-apiserver and the nodelet
// daemon (test/support/connected_node.ts): a patch of pods/resize changes a running container's
// cgroup through UpdateContainerResources without restarting it (resizePolicy NotRequired), restarts
// the container whose policy says RestartContainer, and the pod's status shows the allocation, the
// applied resources, the generation and no resize condition once done.
import { controlPlaneInstalled } from '../../support/control_plane';
import { ConnectedNode, KubePod, startConnectedNode } from '../../support/connected_node';

jest.setTimeout(900_000);

const IMAGE = 'registry.k8s.io/e2e-test-images/busybox:1.29-2';
const installed = controlPlaneInstalled();
const title = installed
  ? 'in-place pod resize on a connected agent'
  : 'in-place pod resize on a connected agent (skipped: no kube-apiserver/etcd; run scripts/install-kube-tools.sh)';

let node: ConnectedNode;

type ResizedPod = KubePod & {
  metadata: { generation: number };
  status: { observedGeneration?: number };
};

const exec = (pod: string, container: string, script: string) =>
  node.kubectl(['exec', pod, '-c', container, '--', 'sh', '-c', script]);

/** The container's cpu quota and memory limit as its own cgroup files say (v1, or v2's cpu.max). */
async function cgroupOf(container: string): Promise<{ quota: string; memory: string }> {
  const quota = await exec(
    'resized',
    container,
    'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max',
  );
  const memory = await exec(
    'resized',
    container,
    'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max',
  );
  return { quota: quota.trim(), memory: memory.trim() };
}

const resources = (cpu: string, memory: string) => ({
  requests: { cpu, memory },
  limits: { cpu, memory },
});

(installed ? describe : describe.skip)(title, () => {
  beforeAll(async () => {
    node = await startConnectedNode('nodelet-resize');
  });
  afterAll(async () => {
    await node?.stop();
  });

  test('a NotRequired container is resized in place, a RestartContainer one is restarted', async () => {
    const container = (name: string, policy: string) => `
    - name: ${name}
      image: ${IMAGE}
      command: ["sleep", "100000"]
      resizePolicy: [{ resourceName: cpu, restartPolicy: ${policy} }, { resourceName: memory, restartPolicy: ${policy} }]
      resources:
        requests: { cpu: 100m, memory: 32Mi }
        limits: { cpu: 100m, memory: 32Mi }`;
    await node.kubectl(
      ['apply', '-f', '-'],
      `apiVersion: v1
kind: Pod
metadata: { name: resized }
spec:
  nodeName: ${node.name}
  terminationGracePeriodSeconds: 0
  containers:${container('inplace', 'NotRequired')}${container('restarts', 'RestartContainer')}
`,
    );
    const before = await node.waitFor('pod resized running', async () => {
      const pod = await node.getPod<ResizedPod>('resized');
      return pod?.status.containerStatuses?.every((c) => c.ready) && pod;
    });
    expect(await cgroupOf('inplace')).toEqual({ quota: '10000', memory: String(32 * 2 ** 20) });
    const idOf = (pod: KubePod, name: string) =>
      pod.status.containerStatuses!.find((c) => c.name === name)!.containerID;

    const patch = {
      spec: {
        containers: [
          { name: 'inplace', resources: resources('200m', '64Mi') },
          { name: 'restarts', resources: resources('200m', '64Mi') },
        ],
      },
    };
    await node.kubectl([
      'patch',
      'pod',
      'resized',
      '--subresource',
      'resize',
      '--type',
      'strategic',
      '-p',
      JSON.stringify(patch),
    ]);
    const after = await node.waitFor('resize done', async () => {
      const pod = await node.getPod<ResizedPod>('resized');
      const done =
        pod &&
        (pod.status.observedGeneration ?? 0) >= pod.metadata.generation &&
        !pod.status.conditions?.some((c) => c.type.startsWith('PodResize')) &&
        pod.status.containerStatuses?.every((c) => c.ready);
      return done && pod;
    });
    expect(after.metadata.generation).toBe(2);

    const inplace = after.status.containerStatuses!.find((c) => c.name === 'inplace')!;
    expect(idOf(after, 'inplace')).toBe(idOf(before, 'inplace'));
    expect(inplace.restartCount).toBe(0);
    expect(inplace.allocatedResources).toEqual({ cpu: '200m', memory: '64Mi' });
    expect(inplace.resources).toEqual(resources('200m', '64Mi'));
    expect(await cgroupOf('inplace')).toEqual({ quota: '20000', memory: String(64 * 2 ** 20) });

    const restarts = after.status.containerStatuses!.find((c) => c.name === 'restarts')!;
    expect(idOf(after, 'restarts')).not.toBe(idOf(before, 'restarts'));
    expect(restarts.restartCount).toBe(1);
    expect(await cgroupOf('restarts')).toEqual({ quota: '20000', memory: String(64 * 2 ** 20) });

    const events = await node.kubectl([
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=resized',
      '-o',
      'jsonpath={range .items[*]}{.reason}{"\\n"}{end}',
    ]);
    expect(events.split('\n')).toEqual(expect.arrayContaining(['ResizeStarted', 'ResizeCompleted']));
  });
});
