// One MountSpec applied under the new root: bind mounts (with read-only, recursive read-only and
// propagation), and filesystem mounts (proc, sysfs, tmpfs, devpts, mqueue, …).
import fs from 'node:fs';
import path from 'node:path';
import { failedPrecondition, unimplemented } from '../../common/errors';
import type { MountSpec } from '../spec/types';
import {
  isSysError,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_RDONLY,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
} from '../sys/engine';
import { parseMountOptions } from './options';
import { resolveInRoot } from './path';
import type { RootfsSys } from './rootfs_sys';

export function applyMount(root: string, spec: MountSpec, sys: RootfsSys): void {
  const dest = resolveInRoot(root, spec.destination);
  const opts = parseMountOptions(spec.options);
  if (spec.type === 'bind' || (opts.flags & MS_BIND) !== 0) {
    bindMount(spec.source, dest, opts.flags, opts.recursiveReadonly, sys);
  } else if (spec.type === 'cgroup') {
    // A namespaced cgroup view needs cgroupns plus per-hierarchy mounts on v1: not built yet.
    throw unimplemented(`Cannot mount '${spec.destination}': cgroup mounts are not implemented`);
  } else {
    ensureMountPoint(dest, true);
    const flags = opts.flags & ~(MS_BIND | MS_REC);
    try {
      sys.mount(spec.source, dest, spec.type, flags, opts.data === '' ? undefined : opts.data);
    } catch (err) {
      // sysfs refuses to mount for a network namespace we do not own (host network): bind the
      // host's /sys instead, as runc does.
      if (spec.type !== 'sysfs' || !isSysError(err, 'EPERM')) throw err;
      bindMount('/sys', dest, MS_REC | flags, false, sys);
    }
  }
  for (const propagation of opts.propagation) sys.mount(null, dest, null, propagation);
}

function bindMount(
  source: string,
  dest: string,
  flags: number,
  recursiveReadonly: boolean,
  sys: RootfsSys,
): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(source);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : (err as Error).message;
    throw failedPrecondition(`source '${source}' ${why}`, err);
  }
  ensureMountPoint(dest, stat.isDirectory());
  sys.mount(source, dest, null, MS_BIND | (flags & MS_REC));
  // A bind ignores flags like MS_RDONLY: they are set on the new mount afterwards, one mount only
  // unless recursive read-only was asked for.
  const attrs = mountAttrs(flags);
  if (attrs !== 0) sys.mountSetattr(dest, attrs, 0, false);
  if (recursiveReadonly) sys.mountSetattr(dest, MOUNT_ATTR_RDONLY, 0, true);
}

function mountAttrs(flags: number): number {
  let attrs = 0;
  if (flags & MS_RDONLY) attrs |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID) attrs |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV) attrs |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC) attrs |= MOUNT_ATTR_NOEXEC;
  return attrs;
}

/** A mount needs something to mount on: a directory, or an empty file for a file bind. */
export function ensureMountPoint(dest: string, directory: boolean): void {
  if (directory) {
    fs.mkdirSync(dest, { recursive: true });
    return;
  }
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  if (!fs.existsSync(dest)) fs.writeFileSync(dest, '');
}
