// Paths inside a container's root, held as descriptors. A directory the container shares with
// another one (a volume mounted as its /dev, or holding a mount target) can be changed by that
// other container at any moment, e.g. a node swapped for a symlink to a host file by
// renameat2(RENAME_EXCHANGE) in a loop (CVE-2021-30465, CVE-2025-31133). So nothing is checked by
// name and then used by name: each target is opened once with openat2(RESOLVE_IN_ROOT), which keeps
// every symlink and ".." inside the root, and what follows (mount, chmod, chown, write) acts on
// that descriptor, through /proc/self/fd/N or the new mount API, never on the name again.
import fs from 'node:fs';
import path from 'node:path';
import { invalidArgument } from '../../common/errors';
import { mkdirAt } from '../sys/dirfd';
import { isSysError } from '../sys/errors';
import {
  AT_FDCWD,
  O_PATH,
  openat2,
  RESOLVE_BENEATH,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
} from '../sys/openat2';
import { resolveInRoot } from './path';

/** Symlinks and ".." resolve inside the root; /proc magic links (which jump anywhere) are refused. */
export const IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
/** For one name just created in a directory we hold: it must still be what we made, not a symlink. */
export const OWN_NAME = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

export interface Root {
  /** The root's host path, for messages and for the lexical resolution of missing paths. */
  path: string;
  /** An O_PATH descriptor of the root directory (the overlay's top, once it is mounted). */
  fd: number;
}

export function openRoot(rootPath: string): Root {
  return { path: rootPath, fd: openat2(AT_FDCWD, rootPath, O_PATH | fs.constants.O_DIRECTORY, 0) };
}

/** The magic link through which mount(2) and chmod(2) reach exactly the file open at fd. */
export function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

export function closeFd(fd: number | undefined): void {
  if (fd !== undefined) fs.closeSync(fd);
}

function relative(containerPath: string): string {
  const rel = containerPath.replace(/^\/+/, '');
  return rel === '' ? '.' : rel;
}

/** Opens an existing container path (O_PATH unless flags say otherwise); undefined when missing. */
export function openInRootIfExists(root: Root, containerPath: string, flags = O_PATH): number | undefined {
  try {
    return openat2(root.fd, relative(containerPath), flags, IN_ROOT, { what: containerPath });
  } catch (err) {
    if (isSysError(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/**
 * Opens a container path, creating what is missing: a directory (with its parents), or an empty
 * file. An existing path is used as found inside the root. A missing one is created where the
 * image's own symlinks lead (a dangling /etc/resolv.conf link is common), each new component made
 * and then opened with no symlink allowed, so a swap between the two fails instead of leading out.
 */
export function openOrCreateInRoot(root: Root, containerPath: string, kind: 'directory' | 'file'): number {
  const found = openInRootIfExists(root, containerPath);
  if (found !== undefined) return found;
  const resolved = `/${path.relative(root.path, resolveInRoot(root.path, containerPath))}`;
  if (kind === 'directory') return mkdirAllInRoot(root, resolved);
  const dirFd = mkdirAllInRoot(root, path.posix.dirname(resolved));
  try {
    const flags = fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
    return openat2(dirFd, path.posix.basename(resolved), flags, OWN_NAME, {
      mode: 0o644,
      what: containerPath,
    });
  } catch (err) {
    if (!isSysError(err, 'EEXIST')) throw err;
    // Made meanwhile by someone else: usable only as found inside the root.
    const again = openInRootIfExists(root, containerPath);
    if (again === undefined) throw err;
    return again;
  } finally {
    fs.closeSync(dirFd);
  }
}

/**
 * mkdir -p inside the root; returns an O_PATH descriptor of the last directory. The longest
 * existing prefix is opened inside the root, then each missing component is made by mkdirat in the
 * directory we hold and opened by that one name, refusing a symlink.
 */
export function mkdirAllInRoot(root: Root, containerPath: string): number {
  const parts = containerPath.split('/').filter((p) => p !== '' && p !== '.');
  let existing = parts.length;
  let fd = openInRootIfExists(root, parts.join('/'), O_PATH | fs.constants.O_DIRECTORY);
  while (fd === undefined) {
    existing--;
    fd = openInRootIfExists(root, parts.slice(0, existing).join('/'), O_PATH | fs.constants.O_DIRECTORY);
  }
  try {
    for (const [i, name] of parts.slice(existing).entries()) {
      const what = `/${parts.slice(0, existing + i + 1).join('/')}`;
      if (name === '..')
        throw invalidArgument(`Cannot create '${containerPath}': '..' after a missing directory`);
      try {
        mkdirAt(fd, name, 0o755, what);
      } catch (err) {
        if (!isSysError(err, 'EEXIST')) throw err;
      }
      const next = openat2(fd, name, O_PATH | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW, OWN_NAME, {
        what,
      });
      fs.closeSync(fd);
      fd = next;
    }
    return fd;
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}
