// /dev inside the container: the default device nodes on a fresh /dev, the spec's extra devices,
// and the usual symlinks. /dev may be a volume another container writes to at the same time, so
// every step goes through a descriptor (in_root.ts): the node is made with mknodat in a directory
// we hold, checked through an O_PATH descriptor, and re-moded and re-owned through that descriptor.
import fs from 'node:fs';
import path from 'node:path';
import type { LinuxDevice } from '../spec/types';
import { symlinkAt, unlinkAt } from '../sys/dirfd';
import { isSysError } from '../sys/errors';
import { encodeDev } from '../sys/fsx';
import { O_PATH } from '../sys/openat2';
import { closeFd, fdPath, mkdirAllInRoot, openOrCreateInRoot, type Root } from './in_root';
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

/** How device nodes are made: mknod, or (inside a user namespace) a bind of the host's node. */
export type NodeMaking = 'mknod' | 'bind';

/** Fills a fresh /dev (the caller has mounted a tmpfs or a volume there). */
export function populateDev(root: Root, sys: RootfsSys, making: NodeMaking = 'mknod'): void {
  createDevices(root, DEFAULT_DEVICES, sys, making);
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
export function createDevices(
  root: Root,
  devices: readonly LinuxDevice[],
  sys: RootfsSys,
  making: NodeMaking = 'mknod',
): void {
  for (const device of devices) {
    if (making === 'bind') {
      bindHostDevice(root, device, sys);
      continue;
    }
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

/**
 * A user namespace cannot mknod: the host's node of the same path is bound instead (as runc does),
 * after checking it is that very device. Mode and owner stay the host's.
 */
function bindHostDevice(root: Root, device: LinuxDevice, sys: RootfsSys): void {
  const rel = path.posix.normalize(device.path);
  if (!rel.startsWith('/dev/')) throw new Error(`Cannot create device '${device.path}': not under /dev`);
  const hostFd = fs.openSync(rel, O_PATH | fs.constants.O_NOFOLLOW);
  try {
    const stat = fs.fstatSync(hostFd);
    const kind = stat.isCharacterDevice() ? 'c' : stat.isBlockDevice() ? 'b' : undefined;
    const wanted = device.type === 'u' ? 'c' : device.type;
    if (kind !== wanted || stat.rdev !== Number(encodeDev(device.major, device.minor))) {
      throw new Error(
        `Cannot create device '${rel}' in a user namespace: the host's '${rel}' is not device ${device.major}:${device.minor}`,
      );
    }
    const target = openOrCreateInRoot(root, rel, 'file');
    try {
      fs.closeSync(sys.bindTree(hostFd, target, { recursive: false, set: 0, recursiveSet: 0, what: rel }));
    } finally {
      fs.closeSync(target);
    }
  } finally {
    fs.closeSync(hostFd);
  }
}
