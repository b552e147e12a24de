// StopContainer and RemoveContainer. Both are idempotent: an unknown id or an exited container is
// success. Stop sends the stop signal, waits the grace period, then SIGKILL.
import os from 'node:os';
import { nowNs } from '../common/time';
import type { CriContext } from './context';
import { droppedByInit } from './init_signal';
import { forgetContainerStats } from './stats';
import { discardDir } from './trash';
import { containerState, type ContainerRecord } from './store';

const SIGKILL = os.constants.signals.SIGKILL;

export function signalNumber(name: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  const n = (os.constants.signals as Record<string, number>)[name.startsWith('SIG') ? name : `SIG${name}`];
  return n ?? os.constants.signals.SIGTERM;
}

export async function stopContainer(
  ctx: CriContext,
  containerId: string,
  timeoutSeconds: number,
): Promise<void> {
  const c = ctx.containers.find(containerId);
  if (!c) return;
  const state = containerState(c);
  if (state === 'CONTAINER_EXITED') return;
  if (state === 'CONTAINER_CREATED') {
    // Never started: end the waiting init; the exit event marks it exited.
    await signal(ctx, c, SIGKILL);
    await waitForExit(ctx, c.id, 10_000);
    return;
  }
  if (timeoutSeconds > 0) {
    const sig = signalNumber(c.stopSignal);
    let dropped = c.pid !== undefined && droppedByInit(c.pid, sig);
    await signal(ctx, c, sig);
    const resendOnceHandled = async () => {
      if (!dropped || c.pid === undefined || droppedByInit(c.pid, sig)) return;
      dropped = false;
      await signal(ctx, c, sig);
    };
    if (await waitForExit(ctx, c.id, timeoutSeconds * 1000, resendOnceHandled)) return;
  }
  await signal(ctx, c, SIGKILL);
  await waitForExit(ctx, c.id, 10_000);
}

export async function removeContainer(ctx: CriContext, containerId: string): Promise<void> {
  const c = ctx.containers.find(containerId);
  if (!c) return;
  if (containerState(c) !== 'CONTAINER_EXITED') await stopContainer(ctx, c.id, 0);
  await ctx.monitor
    .remove(c.id)
    .catch((err: unknown) => ctx.log.warn({ err, container: c.id }, 'monitor remove'));
  if (ctx.cgroups.exists(c.cgroupsPath)) await ctx.cgroups.destroy(c.cgroupsPath, { force: true });
  discardDir(ctx.log, ctx.stateDir, c.dir);
  // The log file stays, as with containerd: crictl rm and the kubelet remove it (and its
  // rotations) themselves, and report an error when it is already gone.
  ctx.stats.untrack(c.id);
  forgetContainerStats(c.id);
  await ctx.containers.delete(c.id);
  ctx.names.release(c.name);
  ctx.log.info({ container: c.id }, 'container removed');
}

async function signal(ctx: CriContext, c: ContainerRecord, sig: number): Promise<void> {
  await ctx.monitor.signal(c.id, sig).catch((err: unknown) => {
    ctx.log.debug({ err, container: c.id, sig }, 'signal not delivered');
  });
}

/** Resolves true once the container's exit is recorded, false after `ms`; `tick` runs at each look. */
async function waitForExit(
  ctx: CriContext,
  id: string,
  ms: number,
  tick?: () => Promise<void>,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const c = ctx.containers.find(id);
    if (!c || containerState(c) === 'CONTAINER_EXITED') return true;
    const info = await ctx.monitor.status(id).catch(() => undefined);
    if (info?.exit) {
      await recordExit(ctx, id, info.exit);
      return true;
    }
    await tick?.();
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** Stores an exit the monitor reported; OOM kills are told by the cgroup, not by the exit code. */
export async function recordExit(
  ctx: CriContext,
  id: string,
  exit: { exitCode: number; finishedAt: string; reason: string; message?: string },
): Promise<void> {
  const c = ctx.containers.find(id);
  if (!c || c.finishedAt) return;
  const oom = ctx.cgroups.exists(c.cgroupsPath) && ctx.cgroups.oomKilled(c.cgroupsPath);
  const reason = oom
    ? 'OOMKilled'
    : exit.reason === 'Unknown'
      ? 'Unknown'
      : exit.exitCode === 0
        ? 'Completed'
        : 'Error';
  await ctx.containers.update(id, (r) =>
    r.finishedAt
      ? r
      : {
          ...r,
          startedAt: r.startedAt ?? exit.finishedAt,
          finishedAt: exit.finishedAt || nowNs().toString(),
          exitCode: exit.exitCode,
          reason,
          message: exit.message ?? '',
          unknown: false,
        },
  );
}
