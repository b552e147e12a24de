// The kubelet's pod admission (pkg/kubelet/lifecycle/predicate.go and the eviction manager's Admit):
// a pod bound to the node that cannot run here is rejected before anything is made for it, with
// the kubelet's reason and message. The checks come in the kubelet's order and the first failure
// is the one reported.
import type { Pod } from '../pod_spec';
import { qosClass } from '../qos';
import { matchesNodeAffinity, NodeView, tolerates, untoleratedNoExecute } from './node_match';
import { podRequests, type PodRequests } from './requests';

export interface Allocatable extends PodRequests {
  pods: number;
}

export interface AdmissionNode extends NodeView {
  allocatable: Allocatable;
  /** The node's pressure conditions now (MemoryPressure, DiskPressure, PIDPressure). */
  pressure: string[];
}

export interface Rejection {
  reason: string;
  message: string;
}

/** The pod as admission sees it: static pods skip the taint check and count as critical. */
export interface AdmissionPod {
  pod: Pod;
  static: boolean;
}

const NODE_OS = 'linux';
/** The priority of system-node-critical and system-cluster-critical (scheduling.SystemCriticalPriority). */
const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

const predicateFailure = (name: string, desc: string): Rejection => ({
  reason: name,
  message: `Predicate ${name} failed: ${desc}`,
});

const insufficient = (resource: string, requested: number, used: number, capacity: number): Rejection => ({
  reason: `OutOf${resource}`,
  message: `Node didn't have enough resource: ${resource}, requested: ${requested}, used: ${used}, capacity: ${capacity}`,
});

function spec(pod: Pod): Record<string, unknown> {
  return pod.spec as unknown as Record<string, unknown>;
}

/** kubetypes.IsCriticalPod: static pods and pods of system-critical priority. */
export function isCriticalPod(p: AdmissionPod): boolean {
  const priority = spec(p.pod).priority;
  return p.static || (typeof priority === 'number' && priority >= SYSTEM_CRITICAL_PRIORITY);
}

/** The eviction manager's Admit: under pressure only what may still come in does. */
function pressureRejection(p: AdmissionPod, node: AdmissionNode): Rejection | undefined {
  if (node.pressure.length === 0 || isCriticalPod(p)) return undefined;
  if (node.pressure.length === 1 && node.pressure[0] === 'MemoryPressure') {
    // Memory pressure turns away BestEffort pods only, unless they tolerate its taint.
    if (qosClass(p.pod) !== 'BestEffort') return undefined;
    const tolerations = (spec(p.pod).tolerations ?? []) as Parameters<typeof tolerates>[0][];
    const taint = { key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' };
    if (tolerations.some((t) => tolerates(t, taint))) return undefined;
  }
  return { reason: 'Evicted', message: `The node had condition: [${node.pressure.join(' ')}]. ` };
}

type HostPort = { ip: string; protocol: string; port: number };

function hostPorts(pod: Pod): HostPort[] {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers].flatMap((c) =>
    (c.ports ?? [])
      .filter((p) => (p.hostPort ?? 0) > 0)
      .map((p) => ({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol ?? 'TCP', port: p.hostPort! })),
  );
}

/** nodeports.Fits: the same port and protocol on the same address, or on 0.0.0.0 and any address. */
function portsConflict(pod: Pod, others: Pod[]): boolean {
  const used = others.flatMap(hostPorts);
  return hostPorts(pod).some((want) =>
    used.some(
      (u) =>
        u.port === want.port &&
        u.protocol === want.protocol &&
        (u.ip === want.ip || u.ip === '0.0.0.0' || want.ip === '0.0.0.0'),
    ),
  );
}

/** Every reason the pod does not fit, in the kubelet's order (noderesources.Fits, then the predicates). */
function fitFailures(p: AdmissionPod, others: Pod[], node: AdmissionNode): Rejection[] {
  const failures: Rejection[] = [];
  const { allocatable } = node;
  if (others.length + 1 > allocatable.pods)
    failures.push(insufficient('pods', 1, others.length, allocatable.pods));
  const want = podRequests(p.pod);
  const used = others.map(podRequests).reduce(
    (a, b) => ({
      cpu: a.cpu + b.cpu,
      memory: a.memory + b.memory,
      ephemeralStorage: a.ephemeralStorage + b.ephemeralStorage,
    }),
    { cpu: 0, memory: 0, ephemeralStorage: 0 },
  );
  if (want.cpu > 0 && want.cpu > allocatable.cpu - used.cpu)
    failures.push(insufficient('cpu', want.cpu, used.cpu, allocatable.cpu));
  if (want.memory > 0 && want.memory > allocatable.memory - used.memory)
    failures.push(insufficient('memory', want.memory, used.memory, allocatable.memory));
  if (
    want.ephemeralStorage > 0 &&
    want.ephemeralStorage > allocatable.ephemeralStorage - used.ephemeralStorage
  )
    failures.push(
      insufficient(
        'ephemeral-storage',
        want.ephemeralStorage,
        used.ephemeralStorage,
        allocatable.ephemeralStorage,
      ),
    );
  if (!matchesNodeAffinity(spec(p.pod), node))
    failures.push(predicateFailure('NodeAffinity', "node(s) didn't match Pod's node affinity/selector"));
  const nodeName = spec(p.pod).nodeName;
  if (typeof nodeName === 'string' && nodeName !== '' && nodeName !== node.name)
    failures.push(predicateFailure('NodeName', "node(s) didn't match the requested node name"));
  if (portsConflict(p.pod, others))
    failures.push(
      predicateFailure('NodePorts', "node(s) didn't have free ports for the requested pod ports"),
    );
  if (!p.static && untoleratedNoExecute(spec(p.pod), node))
    failures.push(predicateFailure('TaintToleration', "node(s) had taints that the pod didn't tolerate"));
  return failures;
}

/**
 * Whether the node takes the pod, given the pods it admitted before that are still running (or
 * about to). Undefined: admitted; else the kubelet's reason and message (the status message is
 * "Pod was rejected: " + message, the event's is the message).
 */
export function admitPod(p: AdmissionPod, others: Pod[], node: AdmissionNode): Rejection | undefined {
  const pressure = pressureRejection(p, node);
  if (pressure) return pressure;
  const osLabel = p.pod.metadata.labels?.['kubernetes.io/os'];
  if (osLabel !== undefined && osLabel !== NODE_OS)
    return {
      reason: 'PodOSSelectorNodeLabelDoesNotMatch',
      message: "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label",
    };
  const os = spec(p.pod).os as { name?: string } | undefined;
  if (os?.name !== undefined && os.name !== NODE_OS)
    return {
      reason: 'PodOSNotSupported',
      message: "Failed to admit pod as the OS field doesn't match node OS",
    };
  return fitFailures(p, others, node)[0];
}

export type ResizeRejection = { reason: 'Infeasible' | 'Deferred'; message: string };

/**
 * Whether the node can take a resize of an admitted pod (`pod` carries the new resources, `others`
 * the other pods' allocations). Infeasible: the pod alone asks for more than the node's
 * allocatable, so it never can (kubelet 1.33–1.35's message; 1.36's API server refuses these
 * before they reach the node). Deferred: it would fit once other pods leave, with the kubelet's
 * predicate message; the node tries again later.
 */
export function admitResize(pod: Pod, others: Pod[], allocatable: Allocatable): ResizeRejection | undefined {
  const want = podRequests(pod);
  for (const [resource, key] of [
    ['cpu', 'cpu'],
    ['memory', 'memory'],
  ] as const) {
    if (want[key] > allocatable[key])
      return {
        reason: 'Infeasible',
        message: `Node didn't have enough capacity: ${resource}, requested: ${want[key]}, capacity: ${allocatable[key]}`,
      };
  }
  const used = others
    .map(podRequests)
    .reduce((a, b) => ({ ...a, cpu: a.cpu + b.cpu, memory: a.memory + b.memory }), {
      cpu: 0,
      memory: 0,
      ephemeralStorage: 0,
    });
  for (const key of ['cpu', 'memory'] as const) {
    if (want[key] > 0 && want[key] > allocatable[key] - used[key])
      return {
        reason: 'Deferred',
        message: insufficient(key, want[key], used[key], allocatable[key]).message,
      };
  }
  return undefined;
}
