// The real VolumeMounter: tmpfs mounts through src/runtime/sys, mount points read from mountinfo.
import fs from 'node:fs';
import { mount, umount, MS_NODEV, MS_NOSUID } from '../runtime/sys';
import type { VolumeMounter } from './volumes';

const MNT_DETACH = 2;

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
    // Field 5 of each mountinfo line is the mount point; spaces in it are written as \040.
    return fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((line) => line.split(' ')[4]?.replace(/\\040/g, ' ') === target);
  },
};
