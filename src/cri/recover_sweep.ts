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
import { mountsUnder, PID_INIT_MARK, unpinNamespaces } from '../runtime';
import { MNT_DETACH, umount } from '../runtime/sys';
import type { CriContext } from './context';
import { emptyTrash } from './trash';
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

type Where = { id?: string; path?: string; pid?: number };

function swept(ctx: CriContext, kind: SweptKind, where: Where): void {
  ctx.log.info({ kind, ...where }, 'swept what no record owns');
  ctx.metrics?.recovery?.swept(kind);
}

/** Undoes one thing and says so; a failure is logged and the sweep goes on with the next. */
async function attempt(ctx: CriContext, kind: SweptKind, where: Where, undo: () => unknown): Promise<void> {
  try {
    await undo();
    swept(ctx, kind, where);
  } catch (err) {
    ctx.log.warn({ err: messageOf(err), kind, ...where }, 'cannot sweep what no record owns');
  }
}

/** Containers the monitor runs (or keeps a directory and FIFOs for) that no record names: killed and forgotten. */
async function sweepMonitorEntries(ctx: CriContext, known: KnownIds): Promise<void> {
  const listed = (await ctx.monitor.list()).map((info) => info.id);
  const onDisk = readdirOrEmpty(path.join(ctx.runDir, 'containers'));
  for (const id of unknownIds([...listed, ...onDisk], known.containers)) {
    // Kills, waits for the exit, deletes <runDir>/containers/<id> (known to the monitor or not).
    await attempt(ctx, 'monitor entry', { id }, () => ctx.monitor.remove(id));
  }
}

/** CNI DEL from the cached ADD, so IPAM leases and veths go; the pin (if still there) is still mounted. */
async function sweepNetworks(ctx: CriContext, known: KnownIds): Promise<void> {
  for (const id of unknownIds(ctx.network.pods(), known.pods)) {
    await attempt(ctx, 'network', { id }, () => ctx.network.tearDown(id));
  }
}

/** catatonit, PID 1 of an unknown pod's PID namespace: found by the namespace its pin holds. */
async function sweepPodPidInits(ctx: CriContext, known: KnownIds): Promise<void> {
  const nsfs = fs.statSync('/proc/self/ns/pid').dev;
  for (const id of unknownIds(readdirOrEmpty(path.join(ctx.runDir, 'ns')), known.pods)) {
    const pin = fs.statSync(path.join(ctx.runDir, 'ns', id, 'pid'), { throwIfNoEntry: false });
    if (!pin || pin.dev !== nsfs) continue; // no pod PID namespace, or its pin never got mounted
    for (const pid of processesInPidNamespace(pin.ino, nsfs)) {
      await attempt(ctx, 'pod PID init', { id, pid }, () => process.kill(pid, 'SIGKILL'));
    }
  }
  // A daemon killed between an init's start and its pin: no pin leads to it, its mark does.
  const nsDir = path.join(ctx.runDir, 'ns') + path.sep;
  for (const { pid, mark } of markedProcesses(PID_INIT_MARK)) {
    const id = mark.startsWith(nsDir) ? mark.slice(nsDir.length) : undefined;
    if (id === undefined || !NODELET_ID.test(id) || known.pods.has(id)) continue;
    await attempt(ctx, 'pod PID init', { id, pid }, () => process.kill(pid, 'SIGKILL'));
  }
}

/** Processes whose environment sets `name`, with its value. */
function markedProcesses(name: string): { pid: number; mark: string }[] {
  const prefix = `${name}=`;
  const found: { pid: number; mark: string }[] = [];
  for (const entry of readdirOrEmpty('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = fs.readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch {
      continue; // gone since the readdir, or a kernel thread
    }
    const mark = environ.split('\0').find((v) => v.startsWith(prefix));
    if (mark !== undefined) found.push({ pid: Number(entry), mark: mark.slice(prefix.length) });
  }
  return found;
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

async function sweepPinnedNamespaces(ctx: CriContext, known: KnownIds): Promise<void> {
  for (const id of unknownIds(readdirOrEmpty(path.join(ctx.runDir, 'ns')), known.pods)) {
    await attempt(ctx, 'pinned namespaces', { id }, () => unpinNamespaces(ctx.runDir, id));
  }
}

/** /dev/shm tmpfs, rootfs overlays and binds left on the host side: from the daemon's own mount table. */
async function sweepMounts(ctx: CriContext, known: KnownIds): Promise<void> {
  const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const points = [...mountsUnder(ctx.stateDir, mountinfo), ...mountsUnder(ctx.runDir, mountinfo)];
  const deepestFirst = [...new Set(points)].sort((a, b) => b.length - a.length);
  for (const point of orphanMounts(deepestFirst, ctx, known)) {
    await attempt(ctx, 'mount', { path: point }, () => umount(point, MNT_DETACH));
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
    try {
      for (const cgroup of await ctx.cgroups.cleanupOrphans(parent, ids, { depth, judged })) {
        swept(ctx, 'cgroup', { path: cgroup });
      }
    } catch (err) {
      ctx.log.warn({ err: messageOf(err), kind: 'cgroup', path: parent }, 'cannot sweep what no record owns');
    }
  }
}

/** Per-id directories without a record; one with anything still mounted below it is left and logged. */
async function sweepDirectories(ctx: CriContext, known: KnownIds): Promise<void> {
  const places: [string, Set<string>][] = [
    [path.join(ctx.stateDir, 'sandboxes'), known.pods],
    [path.join(ctx.runDir, 'sandboxes'), known.pods],
    [path.join(ctx.stateDir, 'containers'), known.containers],
  ];
  for (const root of [ctx.stateDir, ctx.runDir]) {
    for (const dir of emptyTrash(root)) swept(ctx, 'directory', { path: dir });
  }
  const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  for (const [parent, ids] of places) {
    for (const id of unknownIds(readdirOrEmpty(parent), ids)) {
      const dir = path.join(parent, id);
      const mounted = mountsUnder(dir, mountinfo);
      if (mounted.length > 0) {
        ctx.log.warn({ dir, mounted }, 'cannot sweep a directory: something is still mounted below it');
        continue;
      }
      await attempt(ctx, 'directory', { path: dir }, () => fs.rmSync(dir, { recursive: true, force: true }));
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
