// Building a container's root inside its fresh mount namespace, in runc's order; the init runs it.
// Everything is synchronous: async fs calls would run on libuv pool threads, which stay in the
// namespaces the process started in, and so would miss the root being built.
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
import { filesystemType, PROC_SUPER_MAGIC } from '../sys/dirfd';
import { encodeDev } from '../sys/fsx';
import { AT_FDCWD, O_PATH, openat2, RESOLVE_NO_SYMLINKS } from '../sys/openat2';
import { createDevices, populateDev } from './devices';
import {
  closeFd,
  fdPath,
  IN_ROOT,
  openInRootIfExists,
  openOrCreateInRoot,
  openRoot,
  type Root,
} from './in_root';
import type { PremadeMounts } from './idmapped';
import { applyMount } from './mounts';
import { rootPropagationFlags } from './options';
import { realRootfsSys, type RootfsSys } from './rootfs_sys';

/**
 * `premade`: for a pod with a user namespace, the root and the idmapped mounts the caller made
 * (idmapped.ts); this init runs inside that user namespace and only attaches them.
 */
export function prepareRoot(
  spec: ContainerSpec,
  sys: RootfsSys = realRootfsSys,
  premade: PremadeMounts = { mounts: [] },
): void {
  // As runc: every mount of this new namespace becomes a slave of the host's, unless the spec asks
  // for another root propagation (rshared, for bidirectional mounts, keeps them peers).
  const propagation = rootPropagationFlags(spec.linux.rootfsPropagation);
  sys.mount(null, '/', null, propagation ?? MS_REC | MS_SLAVE);
  // With a shared '/', the root's parent mount must turn private BEFORE the root is mounted (as
  // runc's rootfsParentMountPrivate): else the root mount propagates to the host's peers, and
  // pivot_root refuses a shared parent. enterRoot gives '/' its propagation back after the pivot.
  const shared = propagation !== undefined && (propagation & MS_SHARED) !== 0;
  if (shared) sys.mount(null, parentMountOf(spec.root.path), null, MS_PRIVATE);
  // Opened before anything of the container's is in play: the fallback source for masks.
  const hostNull = spec.linux.maskedPaths.length > 0 ? openHostNull() : undefined;
  try {
    if (premade.root !== undefined) attachRoot(spec, premade, sys);
    else mountRoot(spec, sys);
    if (shared) sys.mount(null, spec.root.path, null, MS_PRIVATE);
    const root = openRoot(spec.root.path);
    try {
      buildInRoot(spec, root, hostNull, sys, new Map(premade.mounts));
    } finally {
      fs.closeSync(root.fd);
    }
  } finally {
    closeFd(hostNull);
  }
  if (spec.root.readonly) sys.mountSetattr(spec.root.path, MOUNT_ATTR_RDONLY, 0, false);
}

/** Everything under the root, each target reached through a descriptor opened inside it. */
function buildInRoot(
  spec: ContainerSpec,
  root: Root,
  hostNull: number | undefined,
  sys: RootfsSys,
  premade: Map<number, number>,
): void {
  for (const [index, m] of spec.mounts.entries()) {
    try {
      applyMount(root, m, sys, premade.get(index), spec.linux.cgroupsPath);
    } catch (err) {
      throw wrap(`mount '${m.destination}' (${m.type})`, err);
    }
  }
  // Inside a user namespace mknod is refused: device nodes are bound from the host's.
  const nodes = inUserNamespace(spec) ? 'bind' : 'mknod';
  if (spec.mounts.some((m) => path.posix.normalize(m.destination) === '/dev')) populateDev(root, sys, nodes);
  createDevices(root, spec.linux.devices, sys, nodes);
  writeSysctls(root, spec.linux.sysctl);
  if (hostNull !== undefined) {
    const nullFd = containerNullOr(root, hostNull);
    try {
      for (const p of spec.linux.maskedPaths) maskPath(root, p, nullFd, sys);
    } finally {
      if (nullFd !== hostNull) fs.closeSync(nullFd);
    }
  }
  for (const p of spec.linux.readonlyPaths) readonlyPath(root, p, sys);
  fs.closeSync(openOrCreateInRoot(root, spec.process.cwd, 'directory'));
}

export function enterRoot(spec: ContainerSpec, sys: RootfsSys = realRootfsSys): void {
  sys.pivotInto(spec.root.path);
  const propagation = rootPropagationFlags(spec.linux.rootfsPropagation);
  if (propagation !== undefined) sys.mount(null, '/', null, propagation);
  const ownUts = spec.linux.namespaces.some((ns) => ns.type === 'uts');
  if (spec.hostname && ownUts) sys.setHostname(spec.hostname);
}

function inUserNamespace(spec: ContainerSpec): boolean {
  return spec.linux.namespaces.some((ns) => ns.type === 'user');
}

/** On the working directory: the caller started the init in the root's mount point. */
function attachRoot(spec: ContainerSpec, premade: PremadeMounts, sys: RootfsSys): void {
  if (premade.root === undefined) throw new Error(`Cannot attach the root of '${spec.id}': none was given`);
  const target = fs.openSync('.', O_PATH | fs.constants.O_DIRECTORY);
  try {
    sys.attachTree(premade.root, target, `the root of '${spec.id}'`);
  } finally {
    fs.closeSync(target);
  }
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
  fs.mkdirSync(root, { recursive: true });
  try {
    sys.mount('overlay', root, 'overlay', 0, data);
  } catch (err) {
    throw wrap(`mount the overlay root at '${root}'`, err);
  }
}

/**
 * Written through a descriptor opened inside the root with no symlink followed, and only if it is
 * on procfs: a volume mounted over /proc/sys must not turn a sysctl into a write to its file.
 */
function writeSysctls(root: Root, sysctls: Record<string, string>): void {
  for (const [key, value] of Object.entries(sysctls)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(key))
      throw invalidArgument(`Cannot set sysctl '${key}': not a sysctl name`);
    const file = `proc/sys/${key.replace(/\./g, '/')}`;
    let fd: number | undefined;
    try {
      fd = openat2(
        root.fd,
        file,
        fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW,
        IN_ROOT | RESOLVE_NO_SYMLINKS,
        {
          what: `/${file}`,
        },
      );
      if (filesystemType(fd, `/${file}`) !== PROC_SUPER_MAGIC) throw new Error(`'/${file}' is not on procfs`);
      fs.writeSync(fd, value);
    } catch (err) {
      throw wrap(`set sysctl '${key}' to '${value}'`, err);
    } finally {
      closeFd(fd);
    }
  }
}

/** Files are covered by /dev/null, directories by an empty read-only tmpfs. */
function maskPath(root: Root, containerPath: string, nullFd: number, sys: RootfsSys): void {
  const target = openInRootIfExists(root, containerPath);
  if (target === undefined) return;
  try {
    if (fs.fstatSync(target).isDirectory()) sys.mount('tmpfs', fdPath(target), 'tmpfs', MS_RDONLY);
    else sys.mount(fdPath(nullFd), fdPath(target), null, MS_BIND);
  } finally {
    fs.closeSync(target);
  }
}

/**
 * The container's own /dev/null when it really is the null device (char 1:3, checked on the
 * descriptor that is then mounted), so its mount table names nothing of the host's; else the
 * host's. A /dev/null swapped for a symlink or another file is never a mask's source (CVE-2025-31133).
 */
function containerNullOr(root: Root, hostNull: number): number {
  let own: number | undefined;
  try {
    own = openat2(root.fd, 'dev/null', O_PATH | fs.constants.O_NOFOLLOW, IN_ROOT, { what: '/dev/null' });
  } catch (err) {
    if (!isSysError(err)) throw err;
    return hostNull;
  }
  if (isNullDevice(own)) return own;
  fs.closeSync(own);
  return hostNull;
}

function openHostNull(): number {
  const fd = openat2(AT_FDCWD, '/dev/null', O_PATH, RESOLVE_NO_SYMLINKS);
  if (isNullDevice(fd)) return fd;
  fs.closeSync(fd);
  throw new Error("Cannot mask paths: the host's /dev/null is not the null device");
}

const NULL_RDEV = Number(encodeDev(1, 3));

function isNullDevice(fd: number): boolean {
  const stat = fs.fstatSync(fd);
  return stat.isCharacterDevice() && stat.rdev === NULL_RDEV;
}

function readonlyPath(root: Root, containerPath: string, sys: RootfsSys): void {
  const target = openInRootIfExists(root, containerPath);
  if (target === undefined) return;
  let mounted: number | undefined;
  try {
    mounted = sys.bindTree(target, target, {
      recursive: true,
      set: 0,
      recursiveSet: MOUNT_ATTR_RDONLY,
      what: containerPath,
    });
  } finally {
    closeFd(mounted);
    fs.closeSync(target);
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
