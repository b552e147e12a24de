// One MountSpec applied under the new root: bind mounts (with read-only, recursive read-only and
// propagation), and filesystem mounts (proc, sysfs, tmpfs, devpts, mqueue, …). The target is
// opened once inside the root and mounted on through its descriptor (in_root.ts explains why).
import fs from 'node:fs';
import { failedPrecondition } from '../../common/errors';
import type { MountSpec } from '../spec/types';
import { isSysError, MOUNT_ATTR_RDONLY, MS_BIND, MS_REC } from '../sys/engine';
import { mountCgroupView } from './cgroup_mount';
import { closeFd, fdPath, openInRootIfExists, openOrCreateInRoot, type Root } from './in_root';
import { mountAttrs, parseMountOptions, type ParsedMountOptions } from './options';
import type { RootfsSys } from './rootfs_sys';

/** `premade`: an idmapped copy of the source the caller made (idmapped.ts), attached as it is. */
export function applyMount(
  root: Root,
  spec: MountSpec,
  sys: RootfsSys,
  premade?: number,
  cgroupsPath?: string,
): void {
  const opts = parseMountOptions(spec.options);
  if (premade !== undefined) {
    const directory = fs.fstatSync(premade).isDirectory();
    const target = openOrCreateInRoot(root, spec.destination, directory ? 'directory' : 'file');
    try {
      sys.attachTree(premade, target, spec.destination);
      for (const propagation of opts.propagation) sys.mount(null, fdPath(premade), null, propagation);
    } finally {
      fs.closeSync(target);
    }
    return;
  }
  if (spec.type === 'bind' || (opts.flags & MS_BIND) !== 0) {
    const directory = sourceIsDirectory(spec.source);
    const target = openOrCreateInRoot(root, spec.destination, directory ? 'directory' : 'file');
    let mounted: number | undefined;
    try {
      mounted = bindMount(spec.source, target, spec.destination, opts, sys);
      for (const propagation of opts.propagation) sys.mount(null, fdPath(mounted), null, propagation);
    } finally {
      closeFd(mounted);
      fs.closeSync(target);
    }
    return;
  }
  if (spec.type === 'cgroup') {
    mountCgroupView(root, spec, cgroupsPath, sys);
    return;
  }
  const target = openOrCreateInRoot(root, spec.destination, 'directory');
  try {
    const flags = opts.flags & ~(MS_BIND | MS_REC);
    try {
      sys.mount(spec.source, fdPath(target), spec.type, flags, opts.data === '' ? undefined : opts.data);
    } catch (err) {
      // sysfs refuses to mount for a network namespace we do not own (host network): bind the
      // host's /sys instead, as runc does.
      if (spec.type !== 'sysfs' || !isSysError(err, 'EPERM')) throw err;
      fs.closeSync(
        bindMount('/sys', target, spec.destination, { flags: MS_REC | flags, recursiveReadonly: false }, sys),
      );
    }
  } finally {
    fs.closeSync(target);
  }
  if (opts.propagation.length === 0) return;
  // mount(2) gives no handle on the mount it made: the new mount's root is opened inside the root.
  const mounted = openInRootIfExists(root, spec.destination);
  if (mounted === undefined)
    throw new Error(`Cannot set the propagation of '${spec.destination}': it is gone`);
  try {
    for (const propagation of opts.propagation) sys.mount(null, fdPath(mounted), null, propagation);
  } finally {
    fs.closeSync(mounted);
  }
}

function sourceIsDirectory(source: string): boolean {
  try {
    return fs.statSync(source).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : (err as Error).message;
    throw failedPrecondition(`source '${source}' ${why}`, err);
  }
}

/** Returns a descriptor of the new mount. A bind ignores flags like MS_RDONLY: they become attributes. */
function bindMount(
  source: string,
  targetFd: number,
  what: string,
  opts: Pick<ParsedMountOptions, 'flags' | 'recursiveReadonly'>,
  sys: RootfsSys,
): number {
  return sys.bindTree(source, targetFd, {
    recursive: (opts.flags & MS_REC) !== 0,
    set: mountAttrs(opts.flags),
    recursiveSet: opts.recursiveReadonly ? MOUNT_ATTR_RDONLY : 0,
    what,
  });
}
