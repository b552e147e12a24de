// Opening a file inside a directory tree as if that tree were "/": openat2 with RESOLVE_IN_ROOT
// makes every absolute symlink and ".." resolve inside the tree, so a hostile image's
// /etc/passwd -> /../../host/file cannot make nodelet read a host file.
import fs from 'node:fs';
import { check, libc } from './libc';

const SYS_OPENAT2 = 437; // x86_64
const RESOLVE_IN_ROOT = 0x10;
const RESOLVE_NO_MAGICLINKS = 0x02;

const openat2Fn = libc.func('syscall', 'long', ['long', 'int', 'str', 'void *', 'size_t']);

/**
 * Opens `relPath` (read-only) inside `rootDir`, resolving symlinks and ".." within it. Returns the
 * fd (close-on-exec); the caller closes it.
 */
export function openInRoot(rootDir: string, relPath: string): number {
  const dirFd = fs.openSync(rootDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    const how = Buffer.alloc(24); // struct open_how { u64 flags; u64 mode; u64 resolve; }
    how.writeBigUInt64LE(BigInt(fs.constants.O_RDONLY | 0o2000000 /* O_CLOEXEC */), 0);
    how.writeBigUInt64LE(BigInt(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), 16);
    const path = relPath.replace(/^\/+/, '');
    return Number(
      check('openat2', Number(openat2Fn(SYS_OPENAT2, dirFd, path, how, 24)), `${rootDir}/${path}`),
    );
  } finally {
    fs.closeSync(dirFd);
  }
}

const RESOLVE_BENEATH = 0x08;
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;

/**
 * Opens `relPath` beneath the directory open on `dirFd` as an O_PATH descriptor (close-on-exec).
 * RESOLVE_BENEATH refuses (EXDEV) any resolution that leaves that directory: an absolute path, an
 * absolute symlink, or ".." or a relative link climbing out of it; links that stay inside are followed.
 * No magic links (/proc/<pid>/fd/…). `what` names the path in errors.
 */
export function openBeneath(dirFd: number, relPath: string, what = relPath): number {
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(O_PATH | O_CLOEXEC), 0);
  how.writeBigUInt64LE(BigInt(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), 16);
  return Number(check('openat2', Number(openat2Fn(SYS_OPENAT2, dirFd, relPath, how, 24)), what));
}
