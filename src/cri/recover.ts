// Rebuilds the daemon's memory from disk and the monitor at start. Assumptions:
//   - the records on disk are the truth about what exists (written before any change was seen);
//   - the monitor is the truth about processes: a container it does not know, and that has no
//     exit recorded, lost its process while nothing watched it: its state is honestly UNKNOWN
//     with an exit reason Unknown;
//   - exits that happened while the daemon was down are waiting in the monitor's records;
//   - what no record names was made by an RPC a crash cut short (or its record was lost): it is
//     swept at the end (recover_sweep.ts), after half-made records were finished.
import fs from 'node:fs';
import { nowNs } from '../common/time';
import type { CriContext } from './context';
import { recordExit } from './container_stop_remove';
import { knownIds, missingPodParts } from './recover_orphans';
import { sweepOrphans } from './recover_sweep';
import { containerState, sandboxState } from './store';
import { trackPod } from './sandbox_run';

export async function recover(ctx: CriContext): Promise<void> {
  const pods = ctx.sandboxes.load();
  const containers = ctx.containers.load();
  for (const broken of [...pods.broken, ...containers.broken]) {
    ctx.log.warn({ file: broken }, 'cannot read a record; ignoring it');
  }
  for (const pod of pods.loaded) {
    ctx.names.reserve(pod.name, pod.id);
    trackPod(ctx, pod);
  }
  for (const c of containers.loaded) {
    ctx.names.reserve(c.name, c.id);
    ctx.stats.track(c.id, { cgroup: c.cgroupsPath });
  }
  const alive = await syncWithMonitor(ctx);
  ctx.metrics?.monitor.adopted(alive);
  await finishHalfMadePods(ctx);
  await sweepOrphans(
    ctx,
    knownIds({
      pods: pods.loaded,
      containers: containers.loaded,
      brokenPods: pods.broken,
      brokenContainers: containers.broken,
    }),
  );
  ctx.log.info({ pods: pods.loaded.length, containers: containers.loaded.length }, 'state recovered');
}

/**
 * Catches up on exits the daemon missed (after its own restart, or the monitor's). Returns how
 * many containers the monitor still runs for us.
 */
export async function syncWithMonitor(ctx: CriContext): Promise<number> {
  const known = new Map((await ctx.monitor.list()).map((info) => [info.id, info]));
  let alive = 0;
  for (const c of ctx.containers.list()) {
    if (containerState(c) === 'CONTAINER_EXITED') continue;
    const info = known.get(c.id);
    if (info?.exit) await recordExit(ctx, c.id, info.exit);
    else if (!info && !c.startedAt) await finishLostInit(ctx, c.id);
    else if (!info) await ctx.containers.update(c.id, (r) => ({ ...r, unknown: true }));
    else {
      // StartContainer cut short after the monitor started the workload: finish its record.
      if (info.startedAt && !c.startedAt) await finishStart(ctx, c.id, info.startedAt);
      alive++;
    }
  }
  return alive;
}

/**
 * A created container whose init the monitor no longer has can never start: as containerd does
 * for a created container whose task is gone, it is recorded exited with code 255 and reason
 * Unknown, so the kubelet removes it and creates another (its cgroup and dir go with RemoveContainer).
 */
async function finishLostInit(ctx: CriContext, id: string): Promise<void> {
  await recordExit(ctx, id, {
    exitCode: 255,
    finishedAt: nowNs().toString(),
    reason: 'Unknown',
    message: 'the container was created but its init is gone (the monitor does not know it)',
  });
  ctx.log.info(
    { kind: 'half-made container', id },
    'finished a half-made record: created container marked EXITED (Unknown)',
  );
  ctx.metrics?.recovery?.swept('half-made container');
}

async function finishStart(ctx: CriContext, id: string, startedAt: string): Promise<void> {
  await ctx.containers.update(id, (r) => (r.startedAt ? r : { ...r, startedAt }));
  ctx.log.info({ kind: 'half-made start', id }, 'finished a half-made record: container marked RUNNING');
  ctx.metrics?.recovery?.swept('half-made start');
}

/**
 * A READY pod whose network namespace or CNI result is gone (a crash, or a reboot that emptied the
 * run dir) is marked NOTREADY, as CRI-O does: the kubelet then stops and removes it, which releases
 * what is left, and runs a new one. Finishing it in place would give running containers a network
 * namespace they are not in.
 */
async function finishHalfMadePods(ctx: CriContext): Promise<void> {
  for (const pod of ctx.sandboxes.list()) {
    if (sandboxState(pod) !== 'SANDBOX_READY') continue;
    const missing = missingPodParts(pod, {
      netns: isPinnedNetns(pod.namespaces.network),
      network: hasNetwork(ctx, pod.id),
    });
    if (!missing) continue;
    await ctx.sandboxes.update(pod.id, (r) => ({ ...r, stoppedAt: r.stoppedAt ?? nowNs().toString() }));
    ctx.log.info(
      { kind: 'half-made pod', id: pod.id, missing },
      'finished a half-made record: pod marked NOTREADY',
    );
    ctx.metrics?.recovery?.swept('half-made pod');
  }
}

function isPinnedNetns(file: string | undefined): boolean {
  if (!file) return false;
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return st !== undefined && st.dev === fs.statSync('/proc/self/ns/net').dev;
}

function hasNetwork(ctx: CriContext, podId: string): boolean {
  try {
    return ctx.network.status(podId) !== undefined;
  } catch {
    return false; // an unreadable cache record: the pod's network cannot be trusted either
  }
}
