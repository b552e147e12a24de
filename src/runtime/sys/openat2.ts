// openat2(2): opening a path relative to a directory descriptor with limits on how it resolves.
// With RESOLVE_IN_ROOT every absolute symlink and ".." resolves inside the directory, as if it were
// "/", so a hostile image's /etc/passwd -> /../../host/file cannot make nodelet touch a host file;
// RESOLVE_NO_SYMLINKS refuses any symlink, for a name nodelet has just created itself.
import fs from 'node:fs';
import koffi from 'koffi';
import { ERRNO } from './errors';
import { check, libc } from './libc';

const SYS_OPENAT2 = 437; // unified syscall table: same on x86_64 and arm64

export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;

/** A handle that names a file without opening it for I/O (no device open, no FIFO wait). */
export const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;
export const AT_FDCWD = -100;

const openat2Fn = libc.func('syscall', 'long', ['long', 'int', 'str', 'void *', 'size_t']);

/**
 * openat2(dirFd, path, { flags | O_CLOEXEC, mode, resolve }). Returns the fd; the caller closes it.
 * `what` names the file in errors (the container path rather than an fd number).
 */
export function openat2(
  dirFd: number,
  path: string,
  flags: number,
  resolve: number,
  options: { mode?: number; what?: string } = {},
): number {
  const how = Buffer.alloc(24); // struct open_how { u64 flags; u64 mode; u64 resolve; }
  how.writeBigUInt64LE(BigInt(flags | O_CLOEXEC), 0);
  how.writeBigUInt64LE(BigInt(options.mode ?? 0), 8);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  // With RESOLVE_IN_ROOT or RESOLVE_BENEATH the kernel answers EAGAIN when a rename or a mount
  // anywhere on the system raced its ".." check: a busy node mounts all the time, so try again
  // (as libpathrs does), a bounded number of times.
  for (let attempt = 1; ; attempt++) {
    const fd = Number(openat2Fn(SYS_OPENAT2, dirFd, path, how, 24));
    if (fd !== -1 || koffi.errno() !== ERRNO.EAGAIN || attempt === OPENAT2_TRIES) {
      return check('openat2', fd, options.what ?? path);
    }
  }
}

const OPENAT2_TRIES = 128;

/**
 * Opens `relPath` inside `rootDir` (read-only unless `flags` say otherwise), resolving symlinks and
 * ".." within it. Returns the fd (close-on-exec); the caller closes it.
 */
export function openInRoot(rootDir: string, relPath: string, flags: number = fs.constants.O_RDONLY): number {
  const dirFd = fs.openSync(rootDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    const path = relPath.replace(/^\/+/, '');
    return openat2(dirFd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, {
      what: `${rootDir}/${path}`,
    });
  } finally {
    fs.closeSync(dirFd);
  }
}

/**
 * Opens `relPath` beneath the directory open on `dirFd` as an O_PATH descriptor (close-on-exec).
 * RESOLVE_BENEATH refuses (EXDEV) any resolution that leaves that directory: an absolute path, an
 * absolute symlink, or ".." or a relative link climbing out of it; links that stay inside are followed.
 * No magic links (/proc/<pid>/fd/…). `what` names the path in errors.
 */
export function openBeneath(dirFd: number, relPath: string, what = relPath): number {
  return openat2(dirFd, relPath, O_PATH, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, { what });
}
