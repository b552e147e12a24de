// GetContainerEvents: what a kubelet with the EventedPLEG feature gate reads instead of relisting.
// Events come from one place, the changes of the sandbox and container records, so every way a
// state changes (an RPC, an exit the monitor saw, a catch-up after a restart) is told the same way.
// As containerd does, a pod sandbox is told as a "container" whose id is the sandbox id, and every
// event carries the pod's status and the statuses of all its containers at that moment.
//
//   sandbox record:   created -> CREATED, STARTED   stoppedAt set -> STOPPED   removed -> DELETED
//   container record: created -> CREATED   startedAt set -> STARTED   finishedAt set -> STOPPED
//                     removed -> DELETED
import type { ContainerEventResponse } from '../gen/runtime/v1/ContainerEventResponse';
import type { ContainerEventType__Output } from '../gen/runtime/v1/ContainerEventType';
import { nowNs } from '../common/time';
import type { CriContext } from './context';
import { EventQueue } from './event_queue';
import type { CallContext, StreamSink } from './rpc';
import { podSandboxStatusOf } from './sandbox_status_list';
import type { ContainerRecord, RecordChange, SandboxRecord } from './store';

export type ContainerEventQueue = EventQueue<ContainerEventResponse>;

/** The kubelet's own event channel holds 1000; more than that behind means it is stuck. */
export const EVENT_BUFFER = 1000;
/** containerd holds events for five minutes while no kubelet listens. */
export const EVENT_HOLD_MS = 5 * 60_000;

type EventType = ContainerEventType__Output;

function sandboxEventTypes({ before, after }: RecordChange<SandboxRecord>): EventType[] {
  if (!before && after) return ['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT'];
  if (before && !after) return ['CONTAINER_DELETED_EVENT'];
  if (before && after && !before.stoppedAt && after.stoppedAt) return ['CONTAINER_STOPPED_EVENT'];
  return [];
}

export function containerEventTypes({ before, after }: RecordChange<ContainerRecord>): EventType[] {
  if (!before && after) return ['CONTAINER_CREATED_EVENT'];
  if (before && !after) return ['CONTAINER_DELETED_EVENT'];
  if (!before || !after) return [];
  const types: EventType[] = [];
  // An exit before the start (a created container killed) is only a stop.
  if (!before.startedAt && after.startedAt && !after.finishedAt) types.push('CONTAINER_STARTED_EVENT');
  if (!before.finishedAt && after.finishedAt) types.push('CONTAINER_STOPPED_EVENT');
  return types;
}

/** One event as containerd builds it: the pod's status and its containers' statuses right now. */
function containerEvent(
  ctx: CriContext,
  containerId: string,
  type: EventType,
  pod: SandboxRecord | undefined,
): ContainerEventResponse {
  const status = pod ? podSandboxStatusOf(ctx, pod, false) : undefined;
  return {
    container_id: containerId,
    container_event_type: type,
    created_at: nowNs().toString(),
    pod_sandbox_status: status?.status ?? null,
    containers_statuses: status?.containers_statuses ?? [],
  };
}

/** Publishes every record change as its events; returns the function that stops watching. */
export function watchContainerEvents(ctx: CriContext, queue: ContainerEventQueue): () => void {
  const publish = (id: string, types: EventType[], pod: SandboxRecord | undefined) => {
    try {
      for (const type of types) queue.publish(containerEvent(ctx, id, type, pod));
    } catch (err) {
      ctx.log.error({ err, id }, 'cannot build a container event');
    }
  };
  const unwatchPods = ctx.sandboxes.watch((change) => {
    const pod = (change.after ?? change.before) as SandboxRecord;
    publish(pod.id, sandboxEventTypes(change), pod);
  });
  const unwatchContainers = ctx.containers.watch((change) => {
    const c = (change.after ?? change.before) as ContainerRecord;
    publish(c.id, containerEventTypes(change), ctx.sandboxes.find(c.sandboxId));
  });
  return () => {
    unwatchPods();
    unwatchContainers();
  };
}

/**
 * Sends events until the client goes away. A client that reads too slowly is dropped by the queue
 * (RESOURCE_EXHAUSTED), as the kubelet then relists and subscribes again.
 */
export async function streamContainerEvents(
  queue: ContainerEventQueue,
  sink: StreamSink<ContainerEventResponse>,
  call: CallContext,
): Promise<void> {
  const sub = queue.subscribe();
  const stopped = new Promise<void>((resolve) => {
    if (call.signal.aborted) resolve();
    call.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const onAbort = () => sub.close();
  call.signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const event = await sub.next();
      if (event === undefined || call.signal.aborted) break;
      // A write waits for the client to drain; meanwhile new events fill the bounded buffer.
      await Promise.race([sink.write(event), stopped, sub.ended$]);
    }
  } finally {
    sub.close();
    call.signal.removeEventListener('abort', onAbort);
  }
  if (call.signal.aborted) throw call.signal.reason;
}
