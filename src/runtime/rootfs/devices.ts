// /dev inside the container: the default device nodes on a fresh /dev tmpfs, the spec's extra
// devices, and the usual symlinks.
import fs from 'node:fs';
import path from 'node:path';
import type { LinuxDevice } from '../spec/types';
import { resolveInRoot } from './path';
import type { RootfsSys } from './rootfs_sys';

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

const KINDS: Record<LinuxDevice['type'], 'char' | 'block' | 'fifo'> = {
  c: 'char',
  u: 'char',
  b: 'block',
  p: 'fifo',
};

/** Fills a fresh /dev (the caller has mounted a tmpfs there). */
export function populateDev(root: string, sys: RootfsSys): void {
  const dev = path.join(root, 'dev');
  createDevices(root, DEFAULT_DEVICES, sys);
  for (const [target, name] of SYMLINKS) {
    const link = path.join(dev, name);
    if (!fs.existsSync(link)) fs.symlinkSync(target, link);
  }
}

/**
 * Device paths must lie under /dev. The parent directory is resolved inside the root (a link such
 * as /dev/fd must not lead to the host's /proc); the node itself replaces whatever has its name.
 */
export function createDevices(root: string, devices: readonly LinuxDevice[], sys: RootfsSys): void {
  for (const device of devices) {
    const rel = path.posix.normalize(device.path);
    if (!rel.startsWith('/dev/')) throw new Error(`Cannot create device '${device.path}': not under /dev`);
    const parent = resolveInRoot(root, path.posix.dirname(rel));
    const target = path.join(parent, path.posix.basename(rel));
    fs.mkdirSync(parent, { recursive: true });
    fs.rmSync(target, { force: true });
    sys.mknod(target, KINDS[device.type], device.major, device.minor);
    fs.chmodSync(target, device.fileMode ?? 0o666);
    if (device.uid !== undefined || device.gid !== undefined) {
      fs.chownSync(target, device.uid ?? 0, device.gid ?? 0);
    }
  }
}
