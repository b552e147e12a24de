// The resources the node has allocated to each container of a pod, and the resources actually
// applied to each running container (the kubelet's allocation manager and its "actuated" state,
// pkg/kubelet/allocation). A resize (a new spec.containers[].resources) becomes the allocation
// only once admitted against the node; containers start with the allocation, and a running one is
// resized (UpdateContainerResources or a restart) until what is applied equals it.
//
// Both are kept in <pod dir>/allocated_resources.json (temp file, fsync, rename), so a restarted
// agent neither re-admits an admitted resize nor forgets what it applied.
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../common/atomic_write';
import type { Container, Pod } from './pod_spec';
import { bytes, cpuMillis } from './quantity';

export type ResourceList = Record<string, string | number>;
export interface Requirements {
  requests?: ResourceList;
  limits?: ResourceList;
}

/** What was last applied to one running container (by id: a new container starts afresh). */
export interface Actuated {
  containerId: string;
  resources: Requirements;
}

export interface AllocationRecord {
  version: 1;
  /** By container name: app containers and sidecars (the resizable ones). */
  allocated: Record<string, Requirements>;
  actuated: Record<string, Actuated>;
}

const FILE = 'allocated_resources.json';

/** The containers whose resources can change in place: app containers and sidecars (the kubelet's). */
export function resizableContainers(pod: Pod): Container[] {
  return [
    ...(pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
    ...pod.spec.containers,
  ];
}

function requirementsOf(c: Container): Requirements {
  const r: Requirements = {};
  if (c.resources?.requests && Object.keys(c.resources.requests).length)
    r.requests = { ...c.resources.requests };
  if (c.resources?.limits && Object.keys(c.resources.limits).length) r.limits = { ...c.resources.limits };
  return r;
}

/** The allocation a pod is admitted with: its spec's resources. */
export function allocationOf(pod: Pod): Record<string, Requirements> {
  return Object.fromEntries(resizableContainers(pod).map((c) => [c.name, requirementsOf(c)]));
}

/** The pod with its containers' resources replaced by the allocation (the kubelet's UpdatePodFromAllocation). */
export function podWithAllocation(pod: Pod, allocated: Record<string, Requirements>): Pod {
  const apply = <C extends Container>(c: C): C => {
    const a = allocated[c.name];
    if (!a) return c;
    const { resources: _old, ...rest } = c;
    return (a.requests || a.limits ? { ...rest, resources: { ...a } } : rest) as C;
  };
  return {
    ...pod,
    spec: {
      ...pod.spec,
      containers: pod.spec.containers.map(apply),
      ...(pod.spec.initContainers ? { initContainers: pod.spec.initContainers.map(apply) } : {}),
    },
  };
}

/** The four numbers a resize acts on (cpu in millicores, memory in bytes; 0 when unset). */
export interface ResourceNumbers {
  cpuRequest: number;
  cpuLimit: number;
  memoryRequest: number;
  memoryLimit: number;
}

export function numbersOf(r: Requirements | undefined): ResourceNumbers {
  const cpu = (l: ResourceList | undefined) => (l?.cpu !== undefined ? cpuMillis(l.cpu) : 0);
  const mem = (l: ResourceList | undefined) => (l?.memory !== undefined ? bytes(l.memory) : 0);
  return {
    cpuRequest: cpu(r?.requests),
    cpuLimit: cpu(r?.limits),
    memoryRequest: mem(r?.requests),
    memoryLimit: mem(r?.limits),
  };
}

/** Equal cpu and memory requests and limits, as quantities ("0.1" is "100m"). */
export function sameResources(a: Requirements | undefined, b: Requirements | undefined): boolean {
  const x = numbersOf(a);
  const y = numbersOf(b);
  return (
    x.cpuRequest === y.cpuRequest &&
    x.cpuLimit === y.cpuLimit &&
    x.memoryRequest === y.memoryRequest &&
    x.memoryLimit === y.memoryLimit
  );
}

/** Whether the spec asks for other resources than allocated (a resize waits for admission). */
export function resizeRequested(pod: Pod, allocated: Record<string, Requirements>): boolean {
  return resizableContainers(pod).some((c) => {
    const a = allocated[c.name];
    return a !== undefined && !sameResources(requirementsOf(c), a);
  });
}

export function readAllocation(podDir: string): AllocationRecord | undefined {
  try {
    const record = JSON.parse(fs.readFileSync(path.join(podDir, FILE), 'utf8')) as AllocationRecord;
    return record.version === 1 ? record : undefined;
  } catch {
    return undefined;
  }
}

export function writeAllocation(podDir: string, record: AllocationRecord): void {
  fs.mkdirSync(podDir, { recursive: true, mode: 0o750 });
  writeFileAtomic(path.join(podDir, FILE), JSON.stringify(record) + '\n');
}
