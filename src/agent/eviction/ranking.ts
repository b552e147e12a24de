// Which pod goes first when the node runs short (pkg/kubelet/eviction/helpers.go): for memory and
// disk, pods using more than they requested before pods within their requests, then lower priority
// first, then the larger use above the request; for process ids, lower priority, then more pids.
import type { Signal } from './config';

export interface PodUsage {
  uid: string;
  priority: number;
  /** What the pod requested (bytes): memory, ephemeral-storage. */
  requests: { memory: number; ephemeralStorage: number };
  /** What it uses now; absent when it could not be measured (ranked as using nothing). */
  usage: { memory?: number; disk?: number; inodes?: number; pids?: number };
}

export type Resource = 'memory' | 'ephemeral-storage' | 'inodes' | 'pids';

/** The resource a signal stands for (signalToResource), as the eviction message names it. */
export const SIGNAL_RESOURCE: Record<Signal, Resource> = {
  'memory.available': 'memory',
  'nodefs.available': 'ephemeral-storage',
  'nodefs.inodesFree': 'inodes',
  'imagefs.available': 'ephemeral-storage',
  'imagefs.inodesFree': 'inodes',
  'pid.available': 'pids',
};

function usageAndRequest(p: PodUsage, resource: Resource): [number, number] {
  switch (resource) {
    case 'memory':
      return [p.usage.memory ?? 0, p.requests.memory];
    case 'ephemeral-storage':
      return [p.usage.disk ?? 0, p.requests.ephemeralStorage];
    case 'inodes':
      return [p.usage.inodes ?? 0, 0];
    case 'pids':
      return [p.usage.pids ?? 0, 0];
  }
}

/** The pods in the order they are evicted for a resource (first: evicted first). */
export function rankForEviction(pods: PodUsage[], resource: Resource): PodUsage[] {
  const cmp = (a: PodUsage, b: PodUsage): number => {
    const [ua, ra] = usageAndRequest(a, resource);
    const [ub, rb] = usageAndRequest(b, resource);
    if (resource !== 'pids') {
      // exceedMemoryRequests / exceedDiskRequests: over its request first.
      const ea = ua > ra ? 1 : 0;
      const eb = ub > rb ? 1 : 0;
      if (ea !== eb) return eb - ea;
    }
    if (a.priority !== b.priority) return a.priority - b.priority;
    // Above the request (pids and inodes have none): the larger first.
    return ub - rb - (ua - ra);
  };
  return [...pods].sort(cmp);
}
