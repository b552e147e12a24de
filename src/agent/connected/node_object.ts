// The Node object this agent registers and keeps up to date, built from facts about the host and the
// runtime (gathered in node_facts.ts) so that the shape is tested without a host. Field names follow
// pkg/kubelet/nodestatus/setters.go; note daemonEndpoints.kubeletEndpoint.Port, capital P, in the API.
import { kubeTime } from './kube_api';

const NOT_READY_TAINT = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };
/** What the node says it is; the API shows it in `kubectl get nodes` (VERSION). */
const KUBELET_VERSION = 'v1.36.0-nodelet';

export interface NodeFacts {
  nodeName: string;
  nodeIP: string;
  kubeletPort: number;
  cpuCores: number;
  memoryBytes: number;
  ephemeralStorageBytes?: number;
  /** The agent's root directory: its filesystem is the nodefs whose free space DiskPressure watches. */
  rootDir?: string;
  maxPods: number;
  /** Capacity less reservations and hard eviction thresholds (cpu in cores, the rest as in capacity). */
  allocatable?: { cpuMillis: number; memoryBytes: number; ephemeralStorageBytes: number };
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  architecture: string;
  /** `<runtime_name>://<runtime_version>` from the CRI Version RPC. */
  containerRuntimeVersion: string;
  /** --node-labels and --register-with-taints: set when the Node is created, as the kubelet does. */
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
}

export interface RuntimeHealth {
  /** Conditions the CRI Status RPC reported as not met (RuntimeReady, NetworkReady), empty when ready. */
  notReady: { type: string; reason: string; message: string }[];
  /** True when the node's filesystem has less free space than the eviction threshold. */
  diskPressure?: boolean;
  /** The node is shutting down (graceful node shutdown): Ready is False, as the kubelet says it. */
  shuttingDown?: boolean;
  /** The eviction manager's pressure conditions (MemoryPressure, DiskPressure, PIDPressure). */
  pressure?: string[];
}

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastHeartbeatTime: string;
  lastTransitionTime: string;
}

function nodeLabels(facts: NodeFacts): Record<string, string> {
  return {
    'kubernetes.io/hostname': facts.nodeName,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': facts.architecture,
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': facts.architecture,
  };
}

function resources(facts: NodeFacts): Record<string, string> {
  return {
    cpu: String(facts.cpuCores),
    memory: `${Math.floor(facts.memoryBytes / 1024)}Ki`,
    pods: String(facts.maxPods),
    ...(facts.ephemeralStorageBytes !== undefined
      ? { 'ephemeral-storage': `${Math.floor(facts.ephemeralStorageBytes / 1024)}Ki` }
      : {}),
  };
}

/** Capacity less --system-reserved, --kube-reserved and the hard eviction thresholds. */
function allocatableResources(facts: NodeFacts): Record<string, string> {
  const a = facts.allocatable;
  if (!a) return resources(facts);
  const cpu = a.cpuMillis % 1000 === 0 ? String(a.cpuMillis / 1000) : `${a.cpuMillis}m`;
  return {
    ...resources(facts),
    cpu,
    memory: `${Math.floor(a.memoryBytes / 1024)}Ki`,
    ...(facts.ephemeralStorageBytes !== undefined
      ? { 'ephemeral-storage': String(a.ephemeralStorageBytes) }
      : {}),
  };
}

/** Conditions, keeping each one's transition time while its status stays the same. */
export function nodeConditions(
  health: RuntimeHealth,
  previous: NodeCondition[] | undefined,
  now = new Date(),
): NodeCondition[] {
  const ready = health.notReady.length === 0 && !health.shuttingDown;
  const readyMessage = ready
    ? 'kubelet is posting ready status'
    : health.shuttingDown
      ? 'node is shutting down'
      : `container runtime not ready: ${health.notReady
          .map((c) => `${c.type}=false reason:${c.reason} message:${c.message}`)
          .join('; ')}`;
  const disk = health.diskPressure === true || health.pressure?.includes('DiskPressure') === true;
  const memory = health.pressure?.includes('MemoryPressure') === true;
  const pid = health.pressure?.includes('PIDPressure') === true;
  // pkg/kubelet/nodestatus/setters.go's reasons and messages.
  const wanted: [string, boolean, string, string][] = [
    memory
      ? ['MemoryPressure', true, 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available']
      : ['MemoryPressure', false, 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    disk
      ? ['DiskPressure', true, 'KubeletHasDiskPressure', 'kubelet has disk pressure']
      : ['DiskPressure', false, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    pid
      ? ['PIDPressure', true, 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available']
      : ['PIDPressure', false, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
    ['Ready', ready, ready ? 'KubeletReady' : 'KubeletNotReady', readyMessage],
  ];
  return wanted.map(([type, ok, reason, message]) => {
    const status = ok ? 'True' : 'False';
    const before = previous?.find((c) => c.type === type);
    return {
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: kubeTime(now),
      lastTransitionTime: before?.status === status ? before.lastTransitionTime : kubeTime(now),
    };
  });
}

/** The node's status (everything the node itself reports). */
export function nodeStatus(facts: NodeFacts, conditions: NodeCondition[]) {
  return {
    capacity: resources(facts),
    allocatable: allocatableResources(facts),
    conditions,
    addresses: [
      { type: 'InternalIP', address: facts.nodeIP },
      { type: 'Hostname', address: facts.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: facts.kubeletPort } },
    nodeInfo: {
      machineID: facts.machineID,
      systemUUID: facts.systemUUID,
      bootID: facts.bootID,
      kernelVersion: facts.kernelVersion,
      osImage: facts.osImage,
      containerRuntimeVersion: facts.containerRuntimeVersion,
      kubeletVersion: KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: facts.architecture,
    },
  };
}

/** The Node to create: labels, the not-ready taint (only the node controller removes it), status. */
export function newNode(facts: NodeFacts, conditions: NodeCondition[]) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: facts.nodeName, labels: { ...facts.labels, ...nodeLabels(facts) } },
    spec: { taints: [NOT_READY_TAINT, ...(facts.taints ?? [])] },
    status: nodeStatus(facts, conditions),
  };
}
