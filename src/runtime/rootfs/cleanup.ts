// Host-side cleanup of a container root. The init mounts the overlay inside the container's own
// mount namespace (made a slave of the host's first), so the kernel removes it with the namespace;
// this catches anything else mounted at or under the root path on the host side.
import fs from 'node:fs';
import type { ContainerSpec } from '../spec/types';
import { MNT_DETACH, isSysError, umount } from '../sys/engine';

/** Mount points at or under dir in the calling thread's mount table, deepest first. */
export function mountsUnder(
  dir: string,
  mountinfo = fs.readFileSync('/proc/thread-self/mountinfo', 'utf8'),
): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map(unescapeMountPath)
    .filter((p) => p === dir || p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function cleanupContainerRoot(spec: ContainerSpec): void {
  for (const mountPoint of mountsUnder(spec.root.path)) {
    try {
      umount(mountPoint, MNT_DETACH);
    } catch (err) {
      if (!isSysError(err, 'EINVAL') && !isSysError(err, 'ENOENT')) throw err;
    }
  }
}
