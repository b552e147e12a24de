// Mount calls for building a container's root. mount_setattr changes only the attributes named,
// so a read-only remount keeps nosuid/nodev/noexec as they were (MS_REMOUNT would reset them).
import koffi from 'koffi';
import { ERRNO } from './errors';
import { check, libc } from './libc';

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_SYNCHRONOUS = 0x10;
export const MS_REMOUNT = 0x20;
export const MS_MANDLOCK = 0x40;
export const MS_DIRSYNC = 0x80;
export const MS_NOSYMFOLLOW = 0x100;
export const MS_NOATIME = 0x400;
export const MS_NODIRATIME = 0x800;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_UNBINDABLE = 1 << 17;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
export const MS_RELATIME = 1 << 21;
export const MS_STRICTATIME = 1 << 24;

export const MNT_DETACH = 2;

export const MOUNT_ATTR_RDONLY = 0x1;
export const MOUNT_ATTR_NOSUID = 0x2;
export const MOUNT_ATTR_NODEV = 0x4;
export const MOUNT_ATTR_NOEXEC = 0x8;
const MOUNT_ATTR_IDMAP = 0x100000;
const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const AT_RECURSIVE = 0x8000;
const O_CLOEXEC = 0o2000000;
const OPEN_TREE_CLONE = 1;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH = 0x40;
// unified syscall table: same on x86_64 and arm64
const SYS_OPEN_TREE = 428;
const SYS_MOVE_MOUNT = 429;
const SYS_MOUNT_SETATTR = 442;

const mountFn = libc.func(
  'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
);
const umount2Fn = libc.func('int umount2(const char *target, int flags)');
const pivotRootFn = libc.func('int pivot_root(const char *new_root, const char *put_old)');
const syscallSetattr = libc.func(
  'long syscall(long nr, int dirfd, const char *path, unsigned int flags, void *attr, size_t size)',
);
const syscallOpenTree = libc.func('syscall', 'long', ['long', 'int', 'str', 'uint']);
const syscallMoveMount = libc.func('syscall', 'long', ['long', 'int', 'str', 'int', 'str', 'uint']);

export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data?: string,
): void {
  check('mount', mountFn(source, target, fstype, flags, data ?? null) as number, target);
}

export function umount(target: string, flags = 0): void {
  check('umount2', umount2Fn(target, flags) as number, target);
}

export function pivotRoot(newRoot: string, putOld: string): void {
  check('pivot_root', pivotRootFn(newRoot, putOld) as number, newRoot);
}

/**
 * Sets and clears MOUNT_ATTR_* bits on the mount at `target` (and every mount below it if
 * recursive): a path, or a descriptor of the mount (an attached one, or a detached tree from
 * cloneMountTree).
 */
export function mountSetattr(target: string | number, set: number, clear: number, recursive: boolean): void {
  const attr = Buffer.alloc(32); // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd }
  attr.writeBigUInt64LE(BigInt(set), 0);
  attr.writeBigUInt64LE(BigInt(clear), 8);
  const byFd = typeof target === 'number';
  const flags = (recursive ? AT_RECURSIVE : 0) | (byFd ? AT_EMPTY_PATH : 0);
  const ret = byFd
    ? syscallSetattr(SYS_MOUNT_SETATTR, target, '', flags, attr, attr.length)
    : syscallSetattr(SYS_MOUNT_SETATTR, AT_FDCWD, target, flags, attr, attr.length);
  check('mount_setattr', Number(ret), byFd ? `fd ${target}` : target);
}

/**
 * Makes the detached tree open at `mountFd` (from cloneMountTree) an idmapped mount: its files'
 * owners on disk are read and written through the uid/gid map of the user namespace open at
 * `usernsFd`. Only a mount not yet attached can be idmapped, and only once.
 */
export function idmapMountTree(mountFd: number, usernsFd: number, recursive: boolean): void {
  const attr = Buffer.alloc(32);
  attr.writeBigUInt64LE(BigInt(MOUNT_ATTR_IDMAP), 0);
  attr.writeBigUInt64LE(BigInt(usernsFd), 24);
  const flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  check(
    'mount_setattr',
    Number(syscallSetattr(SYS_MOUNT_SETATTR, mountFd, '', flags, attr, attr.length)),
    `fd ${mountFd}`,
  );
}

/**
 * open_tree(OPEN_TREE_CLONE): a detached copy of the mount at `source` (a path, or an open fd), as
 * a bind mount would make, not yet attached anywhere. Attributes set on it before moveMount never
 * show on a half-made mount. Returns its fd (close-on-exec).
 */
export function cloneMountTree(source: string | number, recursive: boolean): number {
  const flags = OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  const ret =
    typeof source === 'number'
      ? syscallOpenTree(SYS_OPEN_TREE, source, '', flags | AT_EMPTY_PATH)
      : syscallOpenTree(SYS_OPEN_TREE, AT_FDCWD, source, flags);
  return check('open_tree', Number(ret), typeof source === 'number' ? `fd ${source}` : source);
}

/**
 * move_mount: attaches the mount open at `mountFd` on the file open at `targetFd`. Both ends are
 * descriptors, so no path is resolved again between choosing the target and mounting on it.
 */
export function moveMount(mountFd: number, targetFd: number, what = `fd ${targetFd}`): void {
  const flags = MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH;
  check('move_mount', Number(syscallMoveMount(SYS_MOVE_MOUNT, mountFd, '', targetFd, '', flags)), what);
}

/**
 * Whether this kernel has mount_setattr (5.12+), which recursive read-only mounts need. Asked with
 * a bad descriptor: a kernel that has the call answers EBADF, one that lacks it ENOSYS.
 */
export function mountSetattrAvailable(): boolean {
  const ret = Number(syscallSetattr(SYS_MOUNT_SETATTR, -1, '', 0, Buffer.alloc(32), 32));
  // EPERM: a seccomp filter around us refuses the call, so containers could not use it either.
  return !(ret === -1 && [ERRNO.ENOSYS, ERRNO.EPERM].includes(koffi.errno()));
}
