// One pod's in-place resize state, for its worker: the allocation and what is applied (kept on disk
// by allocation.ts), the PodResizePending and PodResizeInProgress conditions and the resize events,
// as the kubelet's allocation manager, status manager and SyncPod keep them. The decisions are in
// pod_resize.ts; the cgroup updates in resize_apply.ts.
import type { Logger } from '../common/log';
import { messageOf } from '../common/errors';
import {
  allocationOf,
  type AllocationRecord,
  podWithAllocation,
  readAllocation,
  type Requirements,
  resizeRequested,
  writeAllocation,
} from './allocation';
import type { CriRuntime } from './cri_client';
import type { ObservedContainer } from './observed';
import {
  appliedAfter,
  computeResizeActions,
  memoryDecreaseError,
  memoryLimitDecreases,
  type ResizeActions,
  resizeEventMessage,
  resizeInProgress,
} from './pod_resize';
import type { Container, Pod } from './pod_spec';
import type { PodCondition } from './pod_status';
import type { QosClass } from './qos';
import { applyPodResize } from './resize_apply';
import type { ResizeRejection } from './admission';

type Emit = (type: 'Normal' | 'Warning', reason: string, message: string) => void;

/** metadata.generation (the API server's; a static pod has none). */
const generationOf = (pod: Pod) =>
  typeof pod.metadata.generation === 'number' ? pod.metadata.generation : 0;

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** The kubelet's updatedPodResizeCondition: the transition time moves only when the reason does. */
function resizeCondition(
  type: string,
  before: PodCondition | undefined,
  reason: string,
  message: string,
  observedGeneration: number,
): PodCondition {
  return {
    type,
    status: 'True',
    lastTransitionTime: before && (before.reason ?? '') === reason ? before.lastTransitionTime : now(),
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
    observedGeneration,
  };
}

export class PodResizer {
  private record: AllocationRecord | undefined;
  private pending: PodCondition | undefined;
  private inProgress: PodCondition | undefined;

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
    private readonly emit: Emit,
  ) {
    this.record = readAllocation(dir);
  }

  /** The pod with the resources the node allocated (the spec's until it was first admitted). */
  allocatedPod(pod: Pod): Pod {
    return this.record ? podWithAllocation(pod, this.record.allocated) : pod;
  }

  /** The pod was admitted: its resources are allocated, unless an earlier agent already did. */
  admitted(pod: Pod): void {
    if (this.record) return;
    this.record = { version: 1, allocated: allocationOf(pod), actuated: {} };
    this.save();
  }

  /**
   * The kubelet's handlePodResourcesResize: a spec asking for other resources than allocated is
   * admitted (it becomes the allocation: ResizeStarted) or waits (PodResizePending). Returns the
   * pod to run, with the allocation.
   */
  allocate(pod: Pod, admit: (resized: Pod) => ResizeRejection | undefined): Pod {
    const generation = generationOf(pod);
    const record = this.record;
    if (!record || !resizeRequested(pod, record.allocated)) {
      this.pending = undefined;
      return this.allocatedPod(pod);
    }
    const rejection = admit(pod);
    if (rejection) {
      const before = this.pending;
      this.pending = resizeCondition(
        'PodResizePending',
        before,
        rejection.reason,
        rejection.message,
        generation,
      );
      if (!before || before.reason !== rejection.reason || before.observedGeneration !== generation) {
        this.log.info({ ...rejection, generation }, 'pod resize not admitted');
        const message = resizeEventMessage(
          `Pod resize ${rejection.reason}`,
          pod,
          generation,
          rejection.message,
        );
        this.emit(
          'Warning',
          rejection.reason === 'Infeasible' ? 'ResizeInfeasible' : 'ResizeDeferred',
          message,
        );
      }
      return this.allocatedPod(pod);
    }
    record.allocated = { ...record.allocated, ...allocationOf(pod) };
    this.save();
    this.pending = undefined;
    this.inProgress = resizeCondition('PodResizeInProgress', undefined, '', '', generation);
    this.log.info({ generation }, 'pod resize admitted');
    this.emit('Normal', 'ResizeStarted', resizeEventMessage('Pod resize started', pod, generation));
    return this.allocatedPod(pod);
  }

  /** What a resize asks of the running containers (`pod` has the allocation). */
  plan(pod: Pod, running: Map<string, ObservedContainer>): ResizeActions {
    return computeResizeActions(pod, running, this.record?.actuated ?? {});
  }

  /**
   * Applies the in-place updates of the plan. A failure (a memory limit below usage, the runtime
   * refusing) sets PodResizeInProgress to Error with a ResizeError event; the next sync tries again.
   */
  async apply(
    pod: Pod,
    plan: ResizeActions,
    node: { cri: CriRuntime; qos: QosClass; memoryCapacity: number; podCgroup?: () => void },
  ): Promise<void> {
    if (!plan.update.memory.length && !plan.update.cpu.length) return;
    try {
      const decreases = memoryLimitDecreases(plan.update.memory);
      if (decreases.length) {
        const usage = new Map<string, number | undefined>();
        for (const u of decreases) usage.set(u.id, await memoryUsage(node.cri, u.id));
        const error = memoryDecreaseError(decreases, usage);
        if (error) throw new Error(error);
      }
      await applyPodResize(
        {
          ...node,
          onApplied: (u, resource) => {
            const before = this.record!.actuated[u.name];
            const resources = appliedAfter(
              before?.containerId === u.id ? before.resources : undefined,
              this.record!.allocated[u.name],
              resource,
            );
            this.record!.actuated[u.name] = { containerId: u.id, resources };
            this.save();
          },
        },
        plan.update,
      );
    } catch (err) {
      this.failed(pod, messageOf(err));
    }
  }

  /** A container was created with the allocation: that is what is applied to it. */
  started(c: Container, containerId: string): void {
    // Only resizable containers (app containers, sidecars) have an allocation of their own.
    const allocated = this.record?.allocated[c.name];
    if (!allocated) return;
    this.record!.actuated[c.name] = { containerId, resources: allocated };
    this.save();
  }

  /**
   * After the sync: PodResizeInProgress stays while some running container lacks its allocation,
   * and is cleared with a ResizeCompleted event once none does (the kubelet's SyncPod).
   */
  settle(pod: Pod, running: Map<string, ObservedContainer>): void {
    if (resizeInProgress(pod, running, this.record?.actuated ?? {})) {
      this.inProgress ??= resizeCondition('PodResizeInProgress', undefined, '', '', generationOf(pod));
      return;
    }
    const cleared = this.inProgress;
    if (!cleared) return;
    this.inProgress = undefined;
    const generation = cleared.observedGeneration ?? 0;
    this.log.info({ generation }, 'pod resize completed');
    this.emit('Normal', 'ResizeCompleted', resizeEventMessage('Pod resize completed', pod, generation));
  }

  /** The resize conditions for the pod's status (PodResizePending first, as the kubelet lists them). */
  conditions(): PodCondition[] {
    return [this.pending, this.inProgress].filter((c): c is PodCondition => c !== undefined);
  }

  /** What is applied to a running container, when the agent applied it. */
  applied(name: string, containerId: string): Requirements | undefined {
    const a = this.record?.actuated[name];
    return a && a.containerId === containerId ? a.resources : undefined;
  }

  /** The kubelet's SetPodResizeInProgressCondition(Error): the first generation stays. */
  private failed(pod: Pod, message: string): void {
    const before = this.inProgress;
    const generation = before?.observedGeneration ?? generationOf(pod);
    this.inProgress = resizeCondition('PodResizeInProgress', before, 'Error', message, generation);
    if (before?.reason === 'Error' && before.message === message) return;
    this.log.warn({ err: message }, 'pod resize failed');
    this.emit('Warning', 'ResizeError', resizeEventMessage('Pod resize error', pod, generation, message));
  }

  private save(): void {
    try {
      writeAllocation(this.dir, this.record!);
    } catch (err) {
      this.log.warn({ err: messageOf(err) }, 'cannot write the allocated resources');
    }
  }
}

async function memoryUsage(cri: CriRuntime, id: string): Promise<number | undefined> {
  try {
    const value = (await cri.containerStats(id)).stats?.memory?.usage_bytes?.value;
    return value === undefined ? undefined : Number(value);
  } catch {
    return undefined;
  }
}
