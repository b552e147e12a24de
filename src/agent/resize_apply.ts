// Applying an admitted resize to the node: the one place where new resources reach cgroups, as
// the kubelet's doPodResizeAction does it. Memory first, then cpu; within each, the containers in
// the order pod_resize.ts gave (decreases first), each through CRI UpdateContainerResources.
//
// The pod-level cgroup is not resized here yet (pod- and QoS-level cgroup limits are another
// change): when it is, it goes in resizeResource(): set before the containers when the pod's limit
// or shares grow, after them when they shrink, as the kubelet's resizeContainers does.
import type { CriRuntime } from './cri_client';
import { type ContainerUpdate, type ResizeResource, updateRequirements } from './pod_resize';
import type { Requirements } from './allocation';
import { containerResources, type QosClass } from './qos';

export interface ResizeTarget {
  cri: CriRuntime;
  qos: QosClass;
  memoryCapacity: number;
  /** Told after each container took a resource's new values (the agent's record of what is applied). */
  onApplied: (u: ContainerUpdate, resource: ResizeResource) => void;
}

/** One container's cgroup through the runtime, with the resources as containers are created with. */
async function updateContainer(target: ResizeTarget, u: ContainerUpdate, resources: Requirements) {
  const linux = containerResources({ ...u.container, resources }, target.qos, target.memoryCapacity);
  await target.cri.updateContainerResources(u.id, linux);
}

async function resizeResource(target: ResizeTarget, resource: ResizeResource, updates: ContainerUpdate[]) {
  for (const u of updates) {
    await updateContainer(target, u, updateRequirements(u, resource));
    // The same update may come for the other resource next: it must start from what is applied now.
    if (resource === 'memory') {
      u.current.memoryLimit = u.desired.memoryLimit;
      u.current.memoryRequest = u.desired.memoryRequest;
    } else {
      u.current.cpuLimit = u.desired.cpuLimit;
      u.current.cpuRequest = u.desired.cpuRequest;
    }
    target.onApplied(u, resource);
  }
}

/**
 * Applies the updates; the first failure stops it (the next sync tries again from what was
 * applied) and is thrown with the runtime's words.
 */
export async function applyPodResize(
  target: ResizeTarget,
  updates: Record<ResizeResource, ContainerUpdate[]>,
): Promise<void> {
  if (updates.memory.length) await resizeResource(target, 'memory', updates.memory);
  if (updates.cpu.length) await resizeResource(target, 'cpu', updates.cpu);
}
