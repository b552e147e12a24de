// File calls Node lacks, used to apply image layers: device nodes, FIFOs and extended attributes
// on the link itself (never following a symlink).
import koffi from 'koffi';
import { check, libc } from './libc';
import { SysError } from './errors';

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

const mknodFn = libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)');
const lsetxattrFn = libc.func(
  'int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)',
);
const lgetxattrFn = libc.func('long lgetxattr(const char *path, const char *name, void *value, size_t size)');

/** The kernel's dev_t encoding of glibc's makedev(). */
export function encodeDev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}

/** The major and minor of a dev_t as stat() reports it (the inverse of encodeDev). */
export function decodeDev(dev: number | bigint): { major: number; minor: number } {
  const d = BigInt(dev);
  return {
    major: Number(((d >> 32n) & 0xfffff000n) | ((d >> 8n) & 0xfffn)),
    minor: Number(((d >> 12n) & 0xffffff00n) | (d & 0xffn)),
  };
}

export type SpecialFileKind = 'char' | 'block' | 'fifo';

/** Creates a device node or FIFO; permission bits are applied separately (umask would cut them). */
export function makeSpecialFile(path: string, kind: SpecialFileKind, major = 0, minor = 0): void {
  const type = kind === 'char' ? S_IFCHR : kind === 'block' ? S_IFBLK : S_IFIFO;
  check('mknod', mknodFn(path, type | 0o600, encodeDev(major, minor)) as number, path);
}

/** Sets an extended attribute on the file itself, not on what a symlink points to. */
export function lsetxattr(path: string, name: string, value: Buffer): void {
  check('lsetxattr', Number(lsetxattrFn(path, name, value, value.length, 0)), path);
}

/** Reads an extended attribute of the file itself, or undefined when it has none of that name. */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  const buf = Buffer.alloc(4096);
  const ret = Number(lgetxattrFn(path, name, buf, buf.length));
  if (ret === -1) {
    const errno = koffi.errno();
    const err = new SysError('lgetxattr', errno, path);
    if (err.code === 'ENODATA') return undefined;
    throw err;
  }
  return buf.subarray(0, ret);
}
