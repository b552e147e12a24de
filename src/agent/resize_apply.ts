// Applying an admitted resize to the node: the one place where new resources reach cgroups, as
// the kubelet's doPodResizeAction does it. Memory first, then cpu; within each, the containers in
// the order pod_resize.ts gave (decreases first), each through CRI UpdateContainerResources.
// The pod-level cgroup (cgroups/pod_cgroups.ts) follows: raised before the containers, lowered after.
import type { CriRuntime } from './cri_client';
import { type ContainerUpdate, type ResizeResource, updateRequirements } from './pod_resize';
import type { Requirements } from './allocation';
import { containerResources, type QosClass } from './qos';

export interface ResizeTarget {
  cri: CriRuntime;
  qos: QosClass;
  memoryCapacity: number;
  /** Sets the pod-level cgroup to the pod's new values (absent when the agent keeps no pod cgroups). */
  podCgroup?: () => void;
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
  // The pod cgroup is raised before its containers and lowered after them, as the kubelet orders
  // it (a v1 child's CFS quota may not exceed its parent's). Setting it on both sides does either:
  // a shrink the kernel refuses now, while the containers still hold more, is made after them.
  try {
    target.podCgroup?.();
  } catch {
    // set again below, once the containers have their new values
  }
  if (updates.memory.length) await resizeResource(target, 'memory', updates.memory);
  if (updates.cpu.length) await resizeResource(target, 'cpu', updates.cpu);
  target.podCgroup?.();
}
