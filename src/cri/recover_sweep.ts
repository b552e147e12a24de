// The end of recovery: undoes what belongs to no record. A daemon killed half way through an RPC
// leaves parts whose record was never written (or a record lost by hand); containerd and CRI-O
// sweep the same at start. The records on disk are the truth: an id any record names is never
// touched, and only nodelet's own places are looked at (its state and run dirs, its cgroup parent,
// container cgroups it named under a pod's kubelet-given parent).
//
// Order: processes first (they hold namespaces and mounts), then the network (CNI DEL needs the
// pinned netns to find the veth), the pod PID init (found through its pin), the pins, other mounts,
// cgroups (empty once the processes are gone), and directories last (never removed while
// anything is still mounted below them). Each step logs and carries on past its own failures: a
// leftover is not worth a daemon that does not start.
import fs from 'node:fs';
import path from 'node:path';
import { messageOf } from '../common/errors';
import { mountsUnder, unpinNamespaces } from '../runtime';
import { isSysError, MNT_DETACH, umount } from '../runtime/sys';
import type { CriContext } from './context';
import { NODELET_ID, orphanMounts, unknownIds, type KnownIds } from './recover_orphans';

export type SweptKind =
  'monitor entry' | 'network' | 'pod PID init' | 'pinned namespaces' | 'mount' | 'cgroup' | 'directory';

export async function sweepOrphans(ctx: CriContext, known: KnownIds): Promise<void> {
  const steps: [string, () => unknown][] = [
    ['monitor entries', () => sweepMonitorEntries(ctx, known)],
    ['networks', () => sweepNetworks(ctx, known)],
    ['pod PID inits', () => sweepPodPidInits(ctx, known)],
    ['pinned namespaces', () => sweepPinnedNamespaces(ctx, known)],
    ['mounts', () => sweepMounts(ctx, known)],
    ['cgroups', () => sweepCgroups(ctx, known)],
    ['directories', () => sweepDirectories(ctx, known)],
  ];
  for (const [what, step] of steps) {
    try {
      await step();
    } catch (err) {
      ctx.log.warn({ err: messageOf(err), step: what }, 'cannot sweep what no record owns');
    }
  }
}

function swept(ctx: CriContext, kind: SweptKind, where: { id?: string; path?: string; pid?: number }): void {
  ctx.log.info({ kind, ...where }, 'swept what no record owns');
  ctx.metrics?.recovery?.swept(kind);
}

/** Containers the monitor runs (or keeps a directory and FIFOs for) that no record names: killed and forgotten. */
async function sweepMonitorEntries(ctx: CriContext, known: KnownIds): Promise<void> {
  const listed = (await ctx.monitor.list()).map((info) => info.id);
  const onDisk = readdirOrEmpty(path.join(ctx.runDir, 'containers'));
  for (const id of unknownIds([...listed, ...onDisk], known.containers)) {
    await ctx.monitor.remove(id); // kills, waits for the exit, deletes <runDir>/containers/<id>
    swept(ctx, 'monitor entry', { id });
  }
}

/** CNI DEL from the cached ADD, so IPAM leases and veths go; the pin (if still there) is still mounted. */
async function sweepNetworks(ctx: CriContext, known: KnownIds): Promise<void> {
  for (const id of unknownIds(ctx.network.pods(), known.pods)) {
    try {
      await ctx.network.tearDown(id);
      swept(ctx, 'network', { id });
    } catch (err) {
      ctx.log.warn({ err: messageOf(err), id }, 'cannot tear down the network of a pod without a record');
    }
  }
}

/** catatonit, PID 1 of an unknown pod's PID namespace: found by the namespace its pin holds. */
function sweepPodPidInits(ctx: CriContext, known: KnownIds): void {
  const nsfs = fs.statSync('/proc/self/ns/pid').dev;
  for (const id of unknownIds(readdirOrEmpty(path.join(ctx.runDir, 'ns')), known.pods)) {
    const pin = fs.statSync(path.join(ctx.runDir, 'ns', id, 'pid'), { throwIfNoEntry: false });
    if (!pin || pin.dev !== nsfs) continue; // no pod PID namespace, or its pin never got mounted
    for (const pid of processesInPidNamespace(pin.ino, nsfs)) {
      try {
        process.kill(pid, 'SIGKILL');
        swept(ctx, 'pod PID init', { id, pid });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
  }
}

function processesInPidNamespace(ino: number, dev: number): number[] {
  return readdirOrEmpty('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const st = fs.statSync(`/proc/${pid}/ns/pid`);
        return st.ino === ino && st.dev === dev;
      } catch {
        return false; // gone since the readdir, or not ours to look at (EACCES)
      }
    })
    .map(Number);
}

function sweepPinnedNamespaces(ctx: CriContext, known: KnownIds): void {
  for (const id of unknownIds(readdirOrEmpty(path.join(ctx.runDir, 'ns')), known.pods)) {
    unpinNamespaces(ctx.runDir, id);
    swept(ctx, 'pinned namespaces', { id });
  }
}

/** /dev/shm tmpfs, rootfs overlays and binds left on the host side: from the daemon's own mount table. */
function sweepMounts(ctx: CriContext, known: KnownIds): void {
  const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const points = [...mountsUnder(ctx.stateDir, mountinfo), ...mountsUnder(ctx.runDir, mountinfo)];
  const deepestFirst = [...new Set(points)].sort((a, b) => b.length - a.length);
  for (const point of orphanMounts(deepestFirst, ctx, known)) {
    try {
      umount(point, MNT_DETACH);
      swept(ctx, 'mount', { path: point });
    } catch (err) {
      if (!isSysError(err, 'EINVAL') && !isSysError(err, 'ENOENT')) throw err;
    }
  }
}

/**
 * Under nodelet's own parent the children are pods and their children containers, all named by
 * nodelet's ids; a known container's own sub-cgroups are its business (depth 2). Under a
 * kubelet-given pod parent only container cgroups nodelet named are judged (depth 1); the parent
 * itself, and anything named otherwise, is the kubelet's.
 */
async function sweepCgroups(ctx: CriContext, known: KnownIds): Promise<void> {
  const ids = [...known.pods, ...known.containers];
  const judged = (name: string) => NODELET_ID.test(name);
  const parents: [string, number][] = [[ctx.defaultCgroupParent, 2]];
  for (const pod of ctx.sandboxes.list()) if (!pod.ownsCgroup) parents.push([pod.cgroupParent, 1]);
  for (const [parent, depth] of new Map(parents)) {
    if (!ctx.cgroups.exists(parent)) continue;
    for (const cgroup of await ctx.cgroups.cleanupOrphans(parent, ids, { depth, judged })) {
      swept(ctx, 'cgroup', { path: cgroup });
    }
  }
}

/** Per-id directories without a record; one with anything still mounted below it is left and logged. */
function sweepDirectories(ctx: CriContext, known: KnownIds): void {
  const places: [string, Set<string>][] = [
    [path.join(ctx.stateDir, 'sandboxes'), known.pods],
    [path.join(ctx.runDir, 'sandboxes'), known.pods],
    [path.join(ctx.stateDir, 'containers'), known.containers],
  ];
  const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  for (const [parent, ids] of places) {
    for (const id of unknownIds(readdirOrEmpty(parent), ids)) {
      const dir = path.join(parent, id);
      const mounted = mountsUnder(dir, mountinfo);
      if (mounted.length > 0) {
        ctx.log.warn({ dir, mounted }, 'cannot sweep a directory: something is still mounted below it');
        continue;
      }
      fs.rmSync(dir, { recursive: true, force: true });
      swept(ctx, 'directory', { path: dir });
    }
  }
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
