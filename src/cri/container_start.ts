// StartContainer: the init execs the workload; a workload that cannot start is recorded as exited
// with reason StartError, as containerd does, and the caller gets the error.
import fs from 'node:fs';
import { crashPoint } from '../common/crash_point';
import { failedPrecondition, messageOf } from '../common/errors';
import { nowNs } from '../common/time';
import { secondsSince } from '../metrics/runtime';
import type { CriContext } from './context';
import { containerState } from './store';

export async function startContainer(ctx: CriContext, containerId: string): Promise<void> {
  const c = ctx.containers.get(containerId);
  await ctx.containers.withLock(`${c.id}/lifecycle`, async () => {
    const state = containerState(ctx.containers.get(c.id));
    if (state !== 'CONTAINER_CREATED') {
      throw failedPrecondition(
        `Cannot start container '${c.id}': it is ${state.replace('CONTAINER_', '').toLowerCase()}`,
      );
    }
    const began = process.hrtime.bigint();
    try {
      crashPoint('start-container/before-monitor-start');
      const info = await ctx.monitor.start(c.id);
      crashPoint('start-container/after-monitor-start');
      const startedAt = info.startedAt ?? nowNs().toString();
      // A restored tree was born in CRIU's cgroup: it joins the container's now.
      if (c.restoreFrom && info.pid !== undefined) joinRestoredTree(ctx, c.cgroupsPath, info.pid);
      await ctx.containers.update(c.id, (r) => ({ ...r, startedAt, pid: info.pid ?? r.pid }));
      ctx.metrics?.containerStart.succeeded(secondsSince(began));
    } catch (err) {
      ctx.metrics?.containerStart.failed(err);
      const now = nowNs().toString();
      await ctx.containers.update(c.id, (r) =>
        r.finishedAt
          ? r
          : {
              ...r,
              startedAt: now,
              finishedAt: now,
              exitCode: 128,
              reason: 'StartError',
              message: messageOf(err),
            },
      );
      throw err;
    }
  });
}

/** The restored process and its descendants (from /proc/<pid>/task/<tid>/children) join the cgroup. */
function joinRestoredTree(ctx: CriContext, cgroupsPath: string, root: number): void {
  const seen = new Set<number>();
  const visit = (pid: number) => {
    if (seen.has(pid)) return;
    seen.add(pid);
    try {
      ctx.cgroups.join(cgroupsPath, pid);
    } catch (err) {
      ctx.log.debug({ err, pid }, 'a restored process ended before it joined the cgroup');
      return;
    }
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      return;
    }
    for (const tid of tasks) {
      let children = '';
      try {
        children = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.split(' ').filter(Boolean)) visit(Number(child));
    }
  };
  visit(root);
}
