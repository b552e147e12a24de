// Building a container's root inside its fresh mount namespace, in runc's order. Everything is
// synchronous: async fs calls would run on libuv threads (same namespace here, but a habit worth
// keeping for the init, see DESIGN.md).
//
//   prepareRoot:  host mounts become slaves (nothing we mount reaches the host), or peers when a
//                 mount is bidirectional (then the root's parent mount turns private first)
//                 overlay (or a bind of the plain dir) at root.path
//                 spec.mounts in order; /dev devices and symlinks; extra devices
//                 sysctls (through the container's /proc, before /proc/sys turns read-only)
//                 masked paths; read-only paths; the cwd; read-only root
//   enterRoot:    pivot_root; the old root made a slave and detached; root propagation; hostname
import fs from 'node:fs';
import path from 'node:path';
import { invalidArgument } from '../../common/errors';
import type { ContainerSpec } from '../spec/types';
import {
  isSysError,
  MOUNT_ATTR_RDONLY,
  MS_BIND,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_SHARED,
  MS_SLAVE,
} from '../sys/engine';
import { createDevices, populateDev } from './devices';
import { applyMount, ensureMountPoint } from './mounts';
import { rootPropagationFlags } from './options';
import { resolveInRoot } from './path';
import { realRootfsSys, type RootfsSys } from './rootfs_sys';

export function prepareRoot(spec: ContainerSpec, sys: RootfsSys = realRootfsSys): void {
  const root = spec.root.path;
  // As runc: every mount of this new namespace becomes a slave of the host's, unless the spec asks
  // for another root propagation (rshared, for bidirectional mounts, keeps them peers).
  const propagation = rootPropagationFlags(spec.linux.rootfsPropagation);
  sys.mount(null, '/', null, propagation ?? MS_REC | MS_SLAVE);
  // With a shared '/', the root's parent mount must turn private BEFORE the root is mounted (as
  // runc's rootfsParentMountPrivate): else the root mount propagates to the host's peers, and
  // pivot_root refuses a shared parent. enterRoot gives '/' its propagation back after the pivot.
  const shared = propagation !== undefined && (propagation & MS_SHARED) !== 0;
  if (shared) sys.mount(null, parentMountOf(root), null, MS_PRIVATE);
  mountRoot(spec, sys);
  if (shared) sys.mount(null, root, null, MS_PRIVATE);
  for (const m of spec.mounts) {
    try {
      applyMount(root, m, sys);
    } catch (err) {
      throw wrap(`mount '${m.destination}' (${m.type})`, err);
    }
  }
  if (spec.mounts.some((m) => path.posix.normalize(m.destination) === '/dev')) populateDev(root, sys);
  createDevices(root, spec.linux.devices, sys);
  writeSysctls(root, spec.linux.sysctl);
  for (const p of spec.linux.maskedPaths) maskPath(root, p, sys);
  for (const p of spec.linux.readonlyPaths) readonlyPath(root, p, sys);
  fs.mkdirSync(resolveInRoot(root, spec.process.cwd), { recursive: true });
  if (spec.root.readonly) sys.mountSetattr(root, MOUNT_ATTR_RDONLY, 0, false);
}

export function enterRoot(spec: ContainerSpec, sys: RootfsSys = realRootfsSys): void {
  sys.pivotInto(spec.root.path);
  const propagation = rootPropagationFlags(spec.linux.rootfsPropagation);
  if (propagation !== undefined) sys.mount(null, '/', null, propagation);
  const ownUts = spec.linux.namespaces.some((ns) => ns.type === 'uts');
  if (spec.hostname && ownUts) sys.setHostname(spec.hostname);
}

function mountRoot(spec: ContainerSpec, sys: RootfsSys): void {
  const { path: root, overlay } = spec.root;
  if (!overlay) {
    // pivot_root needs the new root to be a mount point.
    sys.mount(root, root, null, MS_BIND | MS_REC);
    return;
  }
  const dirs = [...overlay.lowerDirs, overlay.upperDir, overlay.workDir];
  const bad = dirs.find((d) => /[,:]/.test(d));
  if (bad !== undefined)
    throw invalidArgument(`Cannot mount the overlay root: the path '${bad}' has ',' or ':'`);
  const data = `lowerdir=${overlay.lowerDirs.join(':')},upperdir=${overlay.upperDir},workdir=${overlay.workDir}`;
  if (data.length >= 4096)
    throw invalidArgument(`Cannot mount the overlay root: ${dirs.length} layers exceed one page of options`);
  ensureMountPoint(root, true);
  try {
    sys.mount('overlay', root, 'overlay', 0, data);
  } catch (err) {
    throw wrap(`mount the overlay root at '${root}'`, err);
  }
}

function writeSysctls(root: string, sysctls: Record<string, string>): void {
  for (const [key, value] of Object.entries(sysctls)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(key))
      throw invalidArgument(`Cannot set sysctl '${key}': not a sysctl name`);
    const file = resolveInRoot(root, `/proc/sys/${key.replace(/\./g, '/')}`);
    try {
      fs.writeFileSync(file, value);
    } catch (err) {
      throw wrap(`set sysctl '${key}' to '${value}'`, err);
    }
  }
}

/** Files are covered by /dev/null, directories by an empty read-only tmpfs. */
function maskPath(root: string, containerPath: string, sys: RootfsSys): void {
  const target = resolveInRoot(root, containerPath);
  const stat = lstatOrUndefined(target);
  if (!stat) return;
  if (stat.isDirectory()) sys.mount('tmpfs', target, 'tmpfs', MS_RDONLY);
  else sys.mount(nullDevice(root), target, null, MS_BIND);
}

/** The container's own /dev/null when it has one, so its mount table names nothing of the host's. */
function nullDevice(root: string): string {
  const own = resolveInRoot(root, '/dev/null');
  return lstatOrUndefined(own)?.isCharacterDevice() ? own : '/dev/null';
}

function readonlyPath(root: string, containerPath: string, sys: RootfsSys): void {
  const target = resolveInRoot(root, containerPath);
  if (!lstatOrUndefined(target)) return;
  sys.mount(target, target, null, MS_BIND | MS_REC);
  sys.mountSetattr(target, MOUNT_ATTR_RDONLY, 0, true);
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if (isSysError(err) || (err as NodeJS.ErrnoException).code) return undefined;
    throw err;
  }
}

function wrap(action: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  const wrapped = new Error(`Cannot ${action}: ${message}`, { cause: err });
  return Object.assign(wrapped, { kind: (err as { kind?: string }).kind });
}

/** The mount point that holds `dir`'s parent directory: the longest mount point prefixing it. */
function parentMountOf(dir: string): string {
  const parent = path.posix.dirname(dir);
  let best = '/';
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const point = line.split(' ')[4];
    if (!point) continue;
    const inside = parent === point || parent.startsWith(point.endsWith('/') ? point : `${point}/`);
    if (inside && point.length > best.length) best = point;
  }
  return best;
}
