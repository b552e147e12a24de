// The real VolumeMounter: tmpfs and subPath mounts through src/runtime/sys, mount points read from
// mountinfo.
import fs from 'node:fs';
import { mount, umount, MS_NODEV, MS_NOSUID, MNT_DETACH } from '../runtime/sys';
import { bindDescriptor, openSubPath } from './subpath';
import type { VolumeMounter } from './volumes';

/** Mount points (field 5 of mountinfo), with the kernel's octal escapes (\040 for a space…) undone. */
function mountPoints(): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => !!m)
    .map((m) => m.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))));
}

export const kernelVolumeMounter: VolumeMounter = {
  mountTmpfs(target, sizeBytes) {
    mount(
      'tmpfs',
      target,
      'tmpfs',
      MS_NOSUID | MS_NODEV,
      sizeBytes !== undefined ? `size=${sizeBytes}` : undefined,
    );
  },
  unmount(target) {
    // Detach: a container that still holds the mount must not keep the pod from going away.
    umount(target, MNT_DETACH);
  },
  isMountPoint(target) {
    return mountPoints().includes(target);
  },
  mountPointsUnder(dir) {
    return mountPoints()
      .filter((m) => m === dir || m.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
  },
  bindSubPath(root, subPath, target, mode) {
    const fd = openSubPath(root, subPath, mode);
    try {
      bindDescriptor(fd, target, (p) => this.isMountPoint(p));
    } finally {
      fs.closeSync(fd);
    }
  },
};
