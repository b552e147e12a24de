// The kubelet's SyncPod writes the status computed from the runtime state it read when the sync
// began: a container started in that sync still shows `waiting` (ContainerCreating, or its previous
// instance's `terminated`), and shows `running` only after the next relist (PLEG, every second) saw
// it. Clients count on that lag: the Conformance spec that reads a container's log over a websocket
// does so the moment the container is Running, and expects its first line there. So the agent's
// status leaves out the containers its sync has just started, and looks again within RELIST_MS.
import type { ObservedPod } from './observed';

/** The kubelet's PLEG relist period. */
export const RELIST_MS = 1000;

/** `observed` without the instances (container name and restart count) started by this sync. */
export function withoutJustStarted(
  observed: ObservedPod,
  started: ReadonlyArray<{ name: string; restartCount: number }>,
): ObservedPod {
  if (started.length === 0) return observed;
  const hidden = new Set(started.map((s) => `${s.name}/${s.restartCount}`));
  return {
    ...observed,
    containers: observed.containers.filter((c) => !hidden.has(`${c.name}/${c.restartCount}`)),
  };
}
