// Calls relative to a directory descriptor that Node lacks (mkdirat, mknodat, symlinkat, unlinkat),
// and fstatfs. The root builder works through descriptors opened inside the container's root, so
// a name swapped for a symlink between a check and a use cannot lead it to a host file.
import { encodeDev, type SpecialFileKind } from './fsx';
import { check, libc } from './libc';

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

const mkdiratFn = libc.func('int mkdirat(int dirfd, const char *path, uint32_t mode)');
const mknodatFn = libc.func('int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)');
const symlinkatFn = libc.func('int symlinkat(const char *target, int dirfd, const char *linkpath)');
const unlinkatFn = libc.func('int unlinkat(int dirfd, const char *path, int flags)');
const fstatfsFn = libc.func('int fstatfs(int fd, _Out_ uint8_t *buf)');

/** f_type of struct statfs for procfs. */
export const PROC_SUPER_MAGIC = 0x9fa0;
/** struct statfs on 64-bit Linux: f_type is its first field, a long. */
const STATFS_SIZE = 120;

export function mkdirAt(dirFd: number, name: string, mode: number, what = name): void {
  check('mkdirat', mkdiratFn(dirFd, name, mode) as number, what);
}

/** Creates a device node or FIFO named `name` in dirFd, mode 0600 (the caller sets the final mode). */
export function mknodAt(
  dirFd: number,
  name: string,
  kind: SpecialFileKind,
  major: number,
  minor: number,
  what = name,
): void {
  const type = kind === 'char' ? S_IFCHR : kind === 'block' ? S_IFBLK : S_IFIFO;
  check('mknodat', mknodatFn(dirFd, name, type | 0o600, encodeDev(major, minor)) as number, what);
}

export function symlinkAt(target: string, dirFd: number, name: string, what = name): void {
  check('symlinkat', symlinkatFn(target, dirFd, name) as number, what);
}

/** Removes `name` in dirFd (never follows it: a symlink itself goes). */
export function unlinkAt(dirFd: number, name: string, what = name): void {
  check('unlinkat', unlinkatFn(dirFd, name, 0) as number, what);
}

/** The filesystem type (f_type, e.g. PROC_SUPER_MAGIC) of the file open at fd. */
export function filesystemType(fd: number, what = `fd ${fd}`): number {
  const buf = Buffer.alloc(STATFS_SIZE);
  check('fstatfs', fstatfsFn(fd, buf) as number, what);
  return Number(buf.readBigInt64LE(0));
}
