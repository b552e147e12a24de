// StopPodSandbox and RemovePodSandbox. Both are idempotent (the kubelet calls them repeatedly, and
// for ids it no longer knows), and both finish what a previous, interrupted call began.
import fs from 'node:fs';
import { crashPoint } from '../common/crash_point';
import { unpinNamespaces } from '../runtime';
import { umount, MNT_DETACH, isSysError } from '../runtime/sys';
import { sandboxRunDir, type CriContext } from './context';
import { stopContainer, removeContainer } from './container_stop_remove';
import { nowNs } from '../common/time';
import { containerState, type SandboxRecord } from './store';
import { discardDir } from './trash';

/**
 * What still runs when the pod stops is killed at once, as containerd does: the kubelet has already
 * stopped each container with its own grace period before it calls StopPodSandbox.
 */
const POD_STOP_GRACE_SECONDS = 0;

export async function stopPodSandbox(ctx: CriContext, podId: string): Promise<void> {
  const pod = ctx.sandboxes.find(podId);
  if (!pod) return;
  for (const c of ctx.containers.list().filter((c) => c.sandboxId === pod.id)) {
    if (containerState(c) !== 'CONTAINER_EXITED') await stopContainer(ctx, c.id, POD_STOP_GRACE_SECONDS);
  }
  await ctx.sandboxes.withLock(`${pod.id}/teardown`, async () => {
    const current = ctx.sandboxes.find(pod.id);
    if (!current) return;
    // Not ready before anything is torn down: a crash half way leaves a pod that says it is stopped,
    // and the next stop or remove (the kubelet retries) tears down what is left.
    if (!current.stoppedAt)
      await ctx.sandboxes.update(current.id, (r) => ({ ...r, stoppedAt: nowNs().toString() }));
    if (!current.hostNetwork) await ctx.network.tearDown(current.id, current.namespaces.network);
    crashPoint('stop-pod-sandbox/after-cni-del');
    stopPidInit(current);
    unmountShm(current);
  });
}

export async function removePodSandbox(ctx: CriContext, podId: string): Promise<void> {
  const pod = ctx.sandboxes.find(podId);
  if (!pod) return;
  for (const c of ctx.containers.list().filter((c) => c.sandboxId === pod.id)) {
    await removeContainer(ctx, c.id);
  }
  await stopPodSandbox(ctx, pod.id);
  crashPoint('remove-pod-sandbox/after-cni-del');
  unpinNamespaces(ctx.runDir, pod.id);
  if (pod.ownsCgroup && ctx.cgroups.exists(pod.cgroupParent)) {
    await ctx.cgroups.destroy(pod.cgroupParent, { force: true }).catch((err: unknown) => {
      ctx.log.warn({ err, pod: pod.id }, 'cannot remove the pod cgroup');
    });
  }
  discardDir(ctx.log, ctx.stateDir, pod.dir);
  discardDir(ctx.log, ctx.runDir, sandboxRunDir(ctx, pod.id));
  ctx.stats.untrack(pod.id);
  crashPoint('remove-pod-sandbox/before-record');
  await ctx.sandboxes.delete(pod.id);
  ctx.names.release(pod.name);
  ctx.log.info({ pod: pod.id }, 'pod sandbox removed');
}

function stopPidInit(pod: SandboxRecord): void {
  if (pod.pidInit === undefined) return;
  try {
    // Only our catatonit: its PID namespace must still be the pinned one. The pin is a bind mount
    // of the nsfs file, which readlink cannot read: compare the namespace inodes.
    const theirs = fs.statSync(`/proc/${pod.pidInit}/ns/pid`);
    const pinned = fs.statSync(pod.namespaces.pid);
    if (theirs.ino === pinned.ino && theirs.dev === pinned.dev) {
      process.kill(pod.pidInit, 'SIGKILL');
    }
  } catch {
    // Already gone.
  }
}

function unmountShm(pod: SandboxRecord): void {
  if (!pod.shmPath) return;
  try {
    umount(pod.shmPath, MNT_DETACH);
  } catch (err) {
    if (!isSysError(err, 'EINVAL') && !isSysError(err, 'ENOENT')) throw err;
  }
}
