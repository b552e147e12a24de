// Opening a file inside a directory tree as if that tree were "/": openat2 with RESOLVE_IN_ROOT
// makes every absolute symlink and ".." resolve inside the tree, so a hostile image's
// /etc/passwd -> /../../host/file cannot make nodelet read a host file.
import fs from 'node:fs';
import { check, libc } from './libc';

const SYS_OPENAT2 = 437; // x86_64
const RESOLVE_IN_ROOT = 0x10;
const RESOLVE_NO_MAGICLINKS = 0x02;

const openat2Fn = libc.func('syscall', 'long', ['long', 'int', 'str', 'void *', 'size_t']);

/** open(2)'s O_PATH: a handle on the inode that opens nothing (no FIFO wait, no device open). */
export const O_PATH = 0o10000000;

/**
 * Opens `relPath` inside `rootDir` (read-only unless `flags` say otherwise), resolving symlinks and
 * ".." within it. Returns the fd (close-on-exec); the caller closes it.
 */
export function openInRoot(rootDir: string, relPath: string, flags: number = fs.constants.O_RDONLY): number {
  const dirFd = fs.openSync(rootDir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    const how = Buffer.alloc(24); // struct open_how { u64 flags; u64 mode; u64 resolve; }
    how.writeBigUInt64LE(BigInt(flags | 0o2000000 /* O_CLOEXEC */), 0);
    how.writeBigUInt64LE(BigInt(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), 16);
    const path = relPath.replace(/^\/+/, '');
    return Number(
      check('openat2', Number(openat2Fn(SYS_OPENAT2, dirFd, path, how, 24)), `${rootDir}/${path}`),
    );
  } finally {
    fs.closeSync(dirFd);
  }
}
