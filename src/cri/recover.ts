// Rebuilds the daemon's memory from disk and the monitor at start. Assumptions:
//   - the records on disk are the truth about what exists (written before any change was seen);
//   - the monitor is the truth about processes: a container it does not know, and that has no
//     exit recorded, lost its process while nothing watched it: its state is honestly UNKNOWN
//     with an exit reason Unknown;
//   - exits that happened while the daemon was down are waiting in the monitor's records.
import type { CriContext } from './context';
import { recordExit } from './container_stop_remove';
import { containerState } from './store';
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
    // A start the daemon did not live to record: the monitor's start time is the truth.
    if (info?.startedAt && !c.startedAt)
      await ctx.containers.update(c.id, (r) => ({ ...r, startedAt: r.startedAt ?? info.startedAt }));
    if (info?.exit) await recordExit(ctx, c.id, info.exit);
    else if (!info) await ctx.containers.update(c.id, (r) => ({ ...r, unknown: true }));
    else alive++;
  }
  return alive;
}
