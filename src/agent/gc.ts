// Garbage collection of one pod's dead containers and sandboxes: per container name the newest dead
// container is kept (for `logs --previous` and the lastState), older ones are removed, and so are dead
// sandboxes that hold nothing kept.
import fs from 'node:fs';
import path from 'node:path';
import type { CriRuntime } from './cri_client';
import type { ObservedPod } from './observed';

export interface GcPlan {
  containers: string[];
  sandboxes: string[];
}

export function planGc(observed: ObservedPod): GcPlan {
  const keptDead = new Set<string>();
  const removeContainers: string[] = [];
  for (const c of observed.containers) {
    if (c.state !== 'exited') continue;
    if (keptDead.has(c.name)) removeContainers.push(c.id);
    else keptDead.add(c.name);
  }
  const removed = new Set(removeContainers);
  const inUse = new Set(observed.containers.filter((c) => !removed.has(c.id)).map((c) => c.sandboxId));
  const sandboxes = observed.sandboxes
    .slice(1) // the newest sandbox is the pod's, even when it is not ready
    .filter((s) => !s.ready && !inUse.has(s.id))
    .map((s) => s.id);
  return { containers: removeContainers, sandboxes };
}

/** Carries out the plan; `forgetSandbox` is told of each sandbox removed. Failures wait for the next round. */
export async function collectGarbage(
  cri: CriRuntime,
  observed: ObservedPod,
  forgetSandbox: (id: string) => void,
): Promise<void> {
  const plan = planGc(observed);
  for (const id of plan.containers) {
    // The kubelet deletes a collected container's log file too: only the kept attempts stay readable.
    const logPath = observed.containers.find((c) => c.id === id)?.logPath;
    await cri.removeContainer(id).catch(() => undefined);
    if (logPath && path.isAbsolute(logPath)) fs.rmSync(logPath, { force: true });
  }
  for (const id of plan.sandboxes) {
    await cri.removePodSandbox(id).catch(() => undefined);
    forgetSandbox(id);
  }
}
