// QoS class, the pod's cgroup parent and each container's CRI resources, computed as the kubelet does
// (pkg/apis/core/helper/qos, pkg/kubelet/cm): Guaranteed pods live in /kubepods/pod<uid>, the others in
// /kubepods/burstable/pod<uid> or /kubepods/besteffort/pod<uid>, below the node's cgroup root.
import path from 'node:path';
import type { LinuxContainerResources } from '../gen/runtime/v1/LinuxContainerResources';
import type { Container, Pod } from './pod_spec';
import { bytes, cpuMillis } from './quantity';

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';
export type CgroupDriver = 'cgroupfs' | 'systemd';

const CPU_PERIOD_US = 100_000;
const MIN_SHARES = 2;
const SHARES_PER_CPU = 1024;

/** Requests as the API server defaults them: a limit without a request is also the request. */
export function effectiveRequests(c: Container): Record<string, string | number> {
  return { ...c.resources?.limits, ...c.resources?.requests };
}

export function qosClass(pod: Pod): QosClass {
  const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  let anySet = false;
  let guaranteed = true;
  for (const c of containers) {
    const requests = effectiveRequests(c);
    const limits = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      if (requests[r] !== undefined || limits[r] !== undefined) anySet = true;
      if (limits[r] === undefined) guaranteed = false;
      else if (String(requests[r]) !== String(limits[r])) {
        const same =
          r === 'cpu'
            ? cpuMillis(requests[r]) === cpuMillis(limits[r])
            : bytes(requests[r]) === bytes(limits[r]);
        if (!same) guaranteed = false;
      }
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** The pod's cgroup parent in the form the runtime's cgroup driver expects. */
export function podCgroupParent(
  uid: string,
  qos: QosClass,
  options: { driver: CgroupDriver; cgroupRoot?: string },
): string {
  const qosPart = qos === 'Guaranteed' ? [] : [qos.toLowerCase()];
  if (options.driver === 'systemd') {
    // systemd slices nest by name: kubepods-burstable-pod<uid>.slice, dashes in the UID escaped as '_'.
    const parts = ['kubepods', ...qosPart, `pod${uid.replace(/-/g, '_')}`];
    return `${parts.join('-')}.slice`;
  }
  return path.posix.join('/', options.cgroupRoot ?? '/', 'kubepods', ...qosPart, `pod${uid}`);
}

/** The kubelet's OOM score policy (pkg/kubelet/qos/policy.go). */
export function oomScoreAdj(qos: QosClass, memoryRequest: number, memoryCapacity: number): number {
  if (qos === 'Guaranteed') return -997;
  if (qos === 'BestEffort') return 1000;
  let adj = 1000 - Math.floor((1000 * memoryRequest) / memoryCapacity);
  if (adj < 2) adj = 2; // stay above Guaranteed pods
  if (adj >= 1000) adj = 999; // stay below BestEffort pods
  return adj;
}

export function containerResources(
  c: Container,
  qos: QosClass,
  memoryCapacity: number,
): LinuxContainerResources {
  const requests = effectiveRequests(c);
  const limits = c.resources?.limits ?? {};
  const res: LinuxContainerResources = {
    cpu_shares: MIN_SHARES,
    oom_score_adj: oomScoreAdj(
      qos,
      requests.memory !== undefined ? bytes(requests.memory) : 0,
      memoryCapacity,
    ),
  };
  if (requests.cpu !== undefined) {
    res.cpu_shares = Math.max(MIN_SHARES, Math.floor((cpuMillis(requests.cpu) * SHARES_PER_CPU) / 1000));
  }
  if (limits.cpu !== undefined) {
    res.cpu_period = CPU_PERIOD_US;
    res.cpu_quota = Math.max(1000, Math.floor((cpuMillis(limits.cpu) * CPU_PERIOD_US) / 1000));
  }
  if (limits.memory !== undefined) res.memory_limit_in_bytes = bytes(limits.memory);
  return res;
}
