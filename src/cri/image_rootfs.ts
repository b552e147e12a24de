// A read-only view of an image's root, to read its /etc/passwd and /etc/group before the
// container exists: a single layer is used as is; several are merged by a lowerdir-only overlay
// mounted for the moment of the read (through the MountHost, so the choice is unit-tested).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { invalidArgument } from '../common/errors';
import { MNT_DETACH, MS_RDONLY } from '../runtime/sys';
import type { MountHost } from './host';

// mount(2) copies one page of options and ends the string at its last byte: a longer lowerdir list
// is not refused but cut, and a cut path such as '/var/lib' would become the image's lowest layer.
const MAX_MOUNT_OPTIONS = 4095;

export function withImageRootfs<T>(host: MountHost, lowerDirs: string[], fn: (root: string) => T): T {
  if (lowerDirs.length === 0) {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-empty-'));
    try {
      return fn(empty);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  }
  if (lowerDirs.length === 1) return fn(lowerDirs[0]);
  const options = `lowerdir=${lowerDirs.join(':')}`;
  if (Buffer.byteLength(options) > MAX_MOUNT_OPTIONS) {
    throw invalidArgument(
      `Cannot read the image's root: ${lowerDirs.length} layers exceed one page of overlay options`,
    );
  }
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-imageroot-'));
  try {
    host.mount('overlay', target, 'overlay', MS_RDONLY, options);
    try {
      return fn(target);
    } finally {
      host.umount(target, MNT_DETACH);
    }
  } finally {
    fs.rmdirSync(target);
  }
}
