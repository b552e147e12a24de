import type { Pod } from '../pod_spec';
import { admitPod, type AdmissionNode } from './admit';
import { podRequests } from './requests';

const node = (over: Partial<AdmissionNode> = {}): AdmissionNode => ({
  name: 'n1',
  labels: { 'kubernetes.io/hostname': 'n1', 'kubernetes.io/os': 'linux', zone: 'a', gen: '5' },
  taints: [],
  allocatable: { cpu: 2000, memory: 4 * 2 ** 30, ephemeralStorage: 10 * 2 ** 30, pods: 110 },
  pressure: [],
  ...over,
});

function pod(spec: Record<string, unknown> = {}, labels?: Record<string, string>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'u', labels },
    spec: { containers: [{ name: 'c', image: 'i' }], ...spec },
  } as Pod;
}

const withRequests = (requests: Record<string, string>) =>
  pod({ containers: [{ name: 'c', image: 'i', resources: { requests } }] });

const api = (p: Pod) => ({ pod: p, static: false });

describe('podRequests', () => {
  test('app containers and sidecars add up; a larger init container with the sidecars before it wins', () => {
    const p = pod({
      initContainers: [
        { name: 'side', image: 'i', restartPolicy: 'Always', resources: { requests: { cpu: '100m' } } },
        { name: 'init', image: 'i', resources: { requests: { cpu: '1', memory: '64Mi' } } },
      ],
      containers: [
        { name: 'a', image: 'i', resources: { requests: { cpu: '200m', memory: '128Mi' } } },
        { name: 'b', image: 'i', resources: { limits: { cpu: '300m' } } },
      ],
    });
    // init + sidecar before it: 1100m; apps + sidecars: 600m. Memory: 256Mi apps vs 64Mi init.
    expect(podRequests(p)).toEqual({ cpu: 1100, memory: 128 * 2 ** 20, ephemeralStorage: 0 });
  });

  test('a sidecar declared after an init container does not add to that init container', () => {
    const p = pod({
      initContainers: [
        { name: 'init', image: 'i', resources: { requests: { cpu: '500m' } } },
        { name: 'side', image: 'i', restartPolicy: 'Always', resources: { requests: { cpu: '400m' } } },
      ],
      containers: [{ name: 'a', image: 'i', resources: { requests: { cpu: '200m' } } }],
    });
    expect(podRequests(p).cpu).toBe(600);
  });

  test('pod-level resources replace the sum, and overhead is added', () => {
    const p = pod({
      resources: { requests: { cpu: '2' } },
      overhead: { cpu: '250m', memory: '10Mi' },
      containers: [{ name: 'a', image: 'i', resources: { requests: { cpu: '1', memory: '1Mi' } } }],
    });
    expect(podRequests(p)).toEqual({ cpu: 2250, memory: 11 * 2 ** 20, ephemeralStorage: 0 });
  });
});

describe('admitPod', () => {
  test('a pod that fits is admitted', () => {
    expect(admitPod(api(withRequests({ cpu: '1', memory: '1Gi' })), [], node())).toBeUndefined();
  });

  test('cpu beyond what is left of allocatable is OutOfcpu with the kubelet message', () => {
    const others = [withRequests({ cpu: '1500m' })];
    expect(admitPod(api(withRequests({ cpu: '600m' })), others, node())).toEqual({
      reason: 'OutOfcpu',
      message: "Node didn't have enough resource: cpu, requested: 600, used: 1500, capacity: 2000",
    });
  });

  test('memory and ephemeral storage are checked the same way', () => {
    expect(admitPod(api(withRequests({ memory: '5Gi' })), [], node())?.reason).toBe('OutOfmemory');
    expect(admitPod(api(withRequests({ 'ephemeral-storage': '11Gi' })), [], node())).toEqual({
      reason: 'OutOfephemeral-storage',
      message: `Node didn't have enough resource: ephemeral-storage, requested: ${11 * 2 ** 30}, used: 0, capacity: ${10 * 2 ** 30}`,
    });
  });

  test('one pod too many is OutOfpods, reported before the other resources', () => {
    const n = node({ allocatable: { cpu: 0, memory: 0, ephemeralStorage: 0, pods: 1 } });
    expect(admitPod(api(withRequests({ cpu: '1' })), [pod()], n)).toEqual({
      reason: 'OutOfpods',
      message: "Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1",
    });
  });

  test('nodeSelector and required node affinity are matched against the node labels', () => {
    const rejected = {
      reason: 'NodeAffinity',
      message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    };
    expect(admitPod(api(pod({ nodeSelector: { zone: 'b' } })), [], node())).toEqual(rejected);
    expect(admitPod(api(pod({ nodeSelector: { zone: 'a' } })), [], node())).toBeUndefined();
    const affinity = (expr: Record<string, unknown>) => ({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [expr] }],
          },
        },
      },
    });
    expect(
      admitPod(api(pod(affinity({ key: 'gen', operator: 'Gt', values: ['4'] }))), [], node()),
    ).toBeUndefined();
    expect(admitPod(api(pod(affinity({ key: 'gen', operator: 'Lt', values: ['4'] }))), [], node())).toEqual(
      rejected,
    );
    expect(
      admitPod(api(pod(affinity({ key: 'zone', operator: 'NotIn', values: ['a'] }))), [], node()),
    ).toEqual(rejected);
    expect(
      admitPod(api(pod(affinity({ key: 'gpu', operator: 'DoesNotExist' }))), [], node()),
    ).toBeUndefined();
  });

  test('an untolerated NoExecute taint rejects API pods but not static pods; NoSchedule taints do not', () => {
    const n = node({
      taints: [
        { key: 'dedicated', value: 'db', effect: 'NoExecute' },
        { key: 'x', effect: 'NoSchedule' },
      ],
    });
    expect(admitPod(api(pod()), [], n)).toEqual({
      reason: 'TaintToleration',
      message: "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate",
    });
    expect(admitPod({ pod: pod(), static: true }, [], n)).toBeUndefined();
    const tolerating = pod({
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoExecute' }],
    });
    expect(admitPod(api(tolerating), [], n)).toBeUndefined();
  });

  test('a pod for another OS is rejected by its os field or its kubernetes.io/os label', () => {
    expect(admitPod(api(pod({ os: { name: 'windows' } })), [], node())).toEqual({
      reason: 'PodOSNotSupported',
      message: "Failed to admit pod as the OS field doesn't match node OS",
    });
    expect(admitPod(api(pod({}, { 'kubernetes.io/os': 'windows' })), [], node())?.reason).toBe(
      'PodOSSelectorNodeLabelDoesNotMatch',
    );
  });

  test('a host port already taken is NodePorts', () => {
    const withPort = (hostPort: number) =>
      pod({ containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80, hostPort }] }] });
    expect(admitPod(api(withPort(8080)), [withPort(8080)], node())?.reason).toBe('NodePorts');
    expect(admitPod(api(withPort(8081)), [withPort(8080)], node())).toBeUndefined();
  });

  test('disk pressure turns every pod away but critical ones; memory pressure only BestEffort pods', () => {
    const disk = node({ pressure: ['DiskPressure'] });
    expect(admitPod(api(withRequests({ cpu: '1' })), [], disk)).toEqual({
      reason: 'Evicted',
      message: 'The node had condition: [DiskPressure]. ',
    });
    expect(admitPod({ pod: pod(), static: true }, [], disk)).toBeUndefined();
    expect(admitPod(api(pod({ priority: 2_000_001_000 })), [], disk)).toBeUndefined();
    const memory = node({ pressure: ['MemoryPressure'] });
    expect(admitPod(api(withRequests({ cpu: '1' })), [], memory)).toBeUndefined();
    expect(admitPod(api(pod()), [], memory)?.reason).toBe('Evicted');
    const tolerating = pod({
      tolerations: [{ key: 'node.kubernetes.io/memory-pressure', operator: 'Exists' }],
    });
    expect(admitPod(api(tolerating), [], memory)).toBeUndefined();
  });
});
