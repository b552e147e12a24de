// StartContainer: the init execs the workload; a workload that cannot start is recorded as exited
// with reason StartError, as containerd does, and the caller gets the error.
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
      await ctx.containers.update(c.id, (r) => ({ ...r, startedAt }));
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
