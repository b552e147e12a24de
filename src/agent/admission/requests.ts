// What a pod asks of the node, as the scheduler and the kubelet's admission sum it
// (k8s.io/component-helpers/resource PodRequests): the app containers and the sidecars together,
// or the largest init container plus the sidecars started before it when that is more; pod-level
// resources (spec.resources) replace the containers' cpu and memory; spec.overhead is added.
import type { Container, Pod } from '../pod_spec';
import { bytes, cpuMillis } from '../quantity';

export interface PodRequests {
  /** millicores */
  cpu: number;
  /** bytes */
  memory: number;
  /** bytes */
  ephemeralStorage: number;
}

type ResourceList = Record<string, string | number> | undefined;

const ZERO: PodRequests = { cpu: 0, memory: 0, ephemeralStorage: 0 };

/** One container's requests; a limit without a request is the request (the API server's default). */
export function containerRequests(c: Pick<Container, 'resources'>): PodRequests {
  return fromList({ ...c.resources?.limits, ...c.resources?.requests });
}

function fromList(list: ResourceList): PodRequests {
  return {
    cpu: list?.cpu !== undefined ? cpuMillis(list.cpu) : 0,
    memory: list?.memory !== undefined ? bytes(list.memory) : 0,
    ephemeralStorage: list?.['ephemeral-storage'] !== undefined ? bytes(list['ephemeral-storage']) : 0,
  };
}

const add = (a: PodRequests, b: PodRequests): PodRequests => ({
  cpu: a.cpu + b.cpu,
  memory: a.memory + b.memory,
  ephemeralStorage: a.ephemeralStorage + b.ephemeralStorage,
});
const max = (a: PodRequests, b: PodRequests): PodRequests => ({
  cpu: Math.max(a.cpu, b.cpu),
  memory: Math.max(a.memory, b.memory),
  ephemeralStorage: Math.max(a.ephemeralStorage, b.ephemeralStorage),
});

/** The effective requests of the pod (what admission sums over the pods of the node). */
export function podRequests(pod: Pod): PodRequests {
  let total = pod.spec.containers.map(containerRequests).reduce(add, ZERO);
  // Sidecars run beside everything started after them; an ordinary init container runs alone with
  // the sidecars before it, so the pod needs the larger of the two.
  let sidecars = ZERO;
  let initPeak = ZERO;
  for (const c of pod.spec.initContainers ?? []) {
    const r = containerRequests(c);
    if (c.restartPolicy === 'Always') {
      sidecars = add(sidecars, r);
      initPeak = max(initPeak, sidecars);
    } else initPeak = max(initPeak, add(sidecars, r));
  }
  total = max(add(total, sidecars), initPeak);
  const spec = pod.spec as {
    resources?: { requests?: ResourceList; limits?: ResourceList };
    overhead?: ResourceList;
  };
  const podLevel = spec.resources && { ...spec.resources.limits, ...spec.resources.requests };
  if (podLevel?.cpu !== undefined) total.cpu = cpuMillis(podLevel.cpu);
  if (podLevel?.memory !== undefined) total.memory = bytes(podLevel.memory);
  return add(total, fromList(spec.overhead));
}
