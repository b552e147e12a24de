// In-place resize of a running pod's containers, decided as the kubelet's computePodResizeAction
// and IsPodResizeInProgress (pkg/kubelet/kuberuntime) decide it. Pure: the worker acts.
//
//   spec resources ≠ allocated ──► admission (pod_worker): fits → allocated := spec, ResizeStarted,
//                                  PodResizeInProgress; else PodResizePending Deferred/Infeasible
//   allocated ≠ applied, running ──► a resource whose resizePolicy is RestartContainer changed:
//                                    restart the container (it starts with the allocation);
//                                    otherwise UpdateContainerResources, memory first, then cpu,
//                                    decreases before increases within each
//   allocated = applied everywhere ──► PodResizeInProgress cleared, ResizeCompleted
import {
  type Actuated,
  numbersOf,
  type Requirements,
  resizableContainers,
  type ResourceNumbers,
  sameResources,
} from './allocation';
import type { ObservedContainer } from './observed';
import type { Container, Pod } from './pod_spec';

export type ResizeResource = 'memory' | 'cpu';

export interface ContainerUpdate {
  name: string;
  id: string;
  container: Container;
  desired: ResourceNumbers;
  /** What is applied now (zeros when the agent has no record of it). */
  current: ResourceNumbers;
}

export interface ResizeActions {
  /** Running containers to restart because a changed resource's resizePolicy is RestartContainer. */
  restart: { name: string; id: string; container: Container }[];
  /** UpdateContainerResources calls in order, memory first (the kubelet's doPodResizeAction). */
  update: Record<ResizeResource, ContainerUpdate[]>;
}

function policyOf(c: Container, resource: ResizeResource): 'NotRequired' | 'RestartContainer' {
  return c.resizePolicy?.find((p) => p.resourceName === resource)?.restartPolicy ?? 'NotRequired';
}

/** What is applied to a running container, if the record is of this very container. */
function appliedTo(actuated: Record<string, Actuated>, running: ObservedContainer): Requirements | undefined {
  const a = actuated[running.name];
  return a && a.containerId === running.id ? a.resources : undefined;
}

/**
 * The resize actions for the running containers of `pod` (its resources are the allocation).
 * `running` holds the newest running container of each name in the current sandbox.
 */
export function computeResizeActions(
  pod: Pod,
  running: Map<string, ObservedContainer>,
  actuated: Record<string, Actuated>,
): ResizeActions {
  const actions: ResizeActions = { restart: [], update: { memory: [], cpu: [] } };
  for (const c of resizableContainers(pod)) {
    const live = running.get(c.name);
    if (!live || live.state !== 'running') continue;
    const applied = appliedTo(actuated, live);
    const desired = numbersOf(c.resources);
    const current = numbersOf(applied);
    if (applied && sameResources(c.resources, applied)) continue;
    const changed = (resource: ResizeResource) =>
      resource === 'memory'
        ? desired.memoryLimit !== current.memoryLimit || desired.memoryRequest !== current.memoryRequest
        : desired.cpuLimit !== current.cpuLimit || desired.cpuRequest !== current.cpuRequest;
    // Without a record of what was applied (an agent from before resize), update in place:
    // the call is idempotent, where a restart would not be.
    const restart =
      applied !== undefined &&
      (['memory', 'cpu'] as const).some((r) => changed(r) && policyOf(c, r) === 'RestartContainer');
    if (restart) {
      actions.restart.push({ name: c.name, id: live.id, container: c });
      continue;
    }
    const update = { name: c.name, id: live.id, container: c, desired, current };
    for (const resource of ['memory', 'cpu'] as const) {
      if (!changed(resource) && applied) continue;
      const [want, have] =
        resource === 'memory'
          ? desired.memoryLimit !== current.memoryLimit
            ? [desired.memoryLimit, current.memoryLimit]
            : [desired.memoryRequest, current.memoryRequest]
          : desired.cpuLimit !== current.cpuLimit
            ? [desired.cpuLimit, current.cpuLimit]
            : [desired.cpuRequest, current.cpuRequest];
      // Decreases first, so the sum stays within what the pod's cgroup allows at every step.
      if (want < have) actions.update[resource].unshift(update);
      else actions.update[resource].push(update);
    }
  }
  return actions;
}

/** Whether some running resizable container does not have its allocation applied yet. */
export function resizeInProgress(
  pod: Pod,
  running: Map<string, ObservedContainer>,
  actuated: Record<string, Actuated>,
): boolean {
  return resizableContainers(pod).some((c) => {
    const live = running.get(c.name);
    if (!live || live.state !== 'running') return false;
    return !sameResources(c.resources, appliedTo(actuated, live));
  });
}

/** Memory limits an update lowers (or sets where there was none): each must stay above usage. */
export function memoryLimitDecreases(updates: ContainerUpdate[]): ContainerUpdate[] {
  return updates.filter(
    (u) =>
      u.desired.memoryLimit !== 0 &&
      (u.current.memoryLimit === 0 || u.desired.memoryLimit < u.current.memoryLimit),
  );
}

/**
 * The kubelet's validateMemoryResizeAction message for limits below usage (usage by container id).
 * Undefined when every new limit is above what the container uses.
 */
export function memoryDecreaseError(
  decreases: ContainerUpdate[],
  usage: Map<string, number | undefined>,
): string | undefined {
  const errors: string[] = [];
  for (const u of decreases) {
    const used = usage.get(u.id);
    if (used === undefined) errors.push(`missing container "${u.name}" memory usage`);
    else if (used >= u.desired.memoryLimit)
      errors.push(
        `attempting to set container "${u.name}" memory limit (${u.desired.memoryLimit}) below current usage (${used})`,
      );
  }
  if (errors.length === 0) return undefined;
  // utilerrors.NewAggregate prints one error bare, several as [a, b].
  const agg = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
  return `cannot decrease memory limits: ${agg}`;
}

/**
 * The container's resources for an update of one resource: that resource's new values, the other's
 * as applied now (the kubelet's updatePodContainerResources).
 */
export function updateRequirements(u: ContainerUpdate, resource: ResizeResource): Requirements {
  const cpu = resource === 'cpu' ? u.desired : u.current;
  const mem = resource === 'memory' ? u.desired : u.current;
  const list = (c: number, m: number) => ({
    ...(c ? { cpu: `${c}m` } : {}),
    ...(m ? { memory: String(m) } : {}),
  });
  const requests = list(cpu.cpuRequest, mem.memoryRequest);
  const limits = list(cpu.cpuLimit, mem.memoryLimit);
  return {
    ...(Object.keys(requests).length ? { requests } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
  };
}

/** What is applied after an update of `resource` succeeded: that resource's part of the allocation. */
export function appliedAfter(
  before: Requirements | undefined,
  allocated: Requirements | undefined,
  resource: ResizeResource,
): Requirements {
  const merge = (
    b: Record<string, string | number> | undefined,
    a: Record<string, string | number> | undefined,
  ) => {
    const out = { ...b };
    delete out[resource];
    if (a?.[resource] !== undefined) out[resource] = a[resource];
    return Object.keys(out).length ? out : undefined;
  };
  const requests = merge(before?.requests, allocated?.requests);
  const limits = merge(before?.limits, allocated?.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

/** A quantity map as the API writes it back: keys sorted (Go marshals maps sorted). */
function sortedList(list: Record<string, string | number> | undefined) {
  if (!list) return undefined;
  return Object.fromEntries(
    Object.keys(list)
      .sort()
      .map((k) => [k, String(list[k])]),
  );
}

/**
 * The kubelet's resize event messages (pkg/kubelet/events/resize.go): a prefix, then the pod's
 * container resources as JSON, with the generation and an error when there is one.
 */
export function resizeEventMessage(prefix: string, pod: Pod, generation: number, error?: string): string {
  const summary = (c: Container) => {
    const limits = sortedList(c.resources?.limits);
    const requests = sortedList(c.resources?.requests);
    return { name: c.name, resources: { ...(limits ? { limits } : {}), ...(requests ? { requests } : {}) } };
  };
  const inits = pod.spec.initContainers ?? [];
  const body = {
    ...(inits.length ? { initContainers: inits.map(summary) } : {}),
    ...(pod.spec.containers.length ? { containers: pod.spec.containers.map(summary) } : {}),
    generation,
    ...(error ? { error } : {}),
  };
  return `${prefix}: ${JSON.stringify(body)}`;
}
