// /dev inside the container: the default device nodes on a fresh /dev, the spec's extra devices,
// and the usual symlinks. /dev may be a volume another container writes to at the same time, so
// every step goes through a descriptor (in_root.ts): the node is made with mknodat in a directory
// we hold, checked through an O_PATH descriptor, and re-moded and re-owned through that descriptor.
import fs from 'node:fs';
import path from 'node:path';
import type { LinuxDevice } from '../spec/types';
import { symlinkAt, unlinkAt } from '../sys/dirfd';
import { isSysError } from '../sys/errors';
import { closeFd, fdPath, mkdirAllInRoot, type Root } from './in_root';
import { resolveInRoot } from './path';
import type { NodeKind, RootfsSys } from './rootfs_sys';

const DEFAULT_DEVICES: readonly LinuxDevice[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0 },
];

const SYMLINKS: readonly [string, string][] = [
  ['/proc/self/fd', 'fd'],
  ['/proc/self/fd/0', 'stdin'],
  ['/proc/self/fd/1', 'stdout'],
  ['/proc/self/fd/2', 'stderr'],
  ['pts/ptmx', 'ptmx'],
];

const KINDS: Record<LinuxDevice['type'], NodeKind> = {
  c: 'char',
  u: 'char',
  b: 'block',
  p: 'fifo',
};

/** Fills a fresh /dev (the caller has mounted a tmpfs or a volume there). */
export function populateDev(root: Root, sys: RootfsSys): void {
  createDevices(root, DEFAULT_DEVICES, sys);
  const devFd = mkdirAllInRoot(root, '/dev');
  try {
    for (const [target, name] of SYMLINKS) {
      try {
        symlinkAt(target, devFd, name, `/dev/${name}`);
      } catch (err) {
        // Whatever has the name stays: it is the container's own (a volume's earlier run).
        if (!isSysError(err, 'EEXIST')) throw err;
      }
    }
  } finally {
    fs.closeSync(devFd);
  }
}

/**
 * Device paths must lie under /dev. The parent directory is resolved inside the root (a link such
 * as /dev/fd must not lead to the host's /proc); the node itself replaces whatever has its name.
 */
export function createDevices(root: Root, devices: readonly LinuxDevice[], sys: RootfsSys): void {
  for (const device of devices) {
    const rel = path.posix.normalize(device.path);
    if (!rel.startsWith('/dev/')) throw new Error(`Cannot create device '${device.path}': not under /dev`);
    const parent = `/${path.relative(root.path, resolveInRoot(root.path, path.posix.dirname(rel)))}`;
    const name = path.posix.basename(rel);
    const dirFd = mkdirAllInRoot(root, parent);
    let nodeFd: number | undefined;
    try {
      try {
        unlinkAt(dirFd, name, rel);
      } catch (err) {
        if (!isSysError(err, 'ENOENT')) throw err;
      }
      nodeFd = sys.makeNode(dirFd, name, KINDS[device.type], device.major, device.minor, rel);
      // chmod(2) and chown(2) through the descriptor's magic link reach exactly that inode.
      fs.chmodSync(fdPath(nodeFd), device.fileMode ?? 0o666);
      if (device.uid !== undefined || device.gid !== undefined) {
        fs.chownSync(fdPath(nodeFd), device.uid ?? 0, device.gid ?? 0);
      }
    } finally {
      closeFd(nodeFd);
      fs.closeSync(dirFd);
    }
  }
}
