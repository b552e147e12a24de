// A read-only view of an image's root, to read its /etc/passwd and /etc/group before the
// container exists: a single layer is used as is; several are merged by a lowerdir-only overlay
// mounted for the moment of the read.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mount, umount, MNT_DETACH, MS_RDONLY } from '../runtime/sys';

export function withImageRootfs<T>(lowerDirs: string[], fn: (root: string) => T): T {
  if (lowerDirs.length === 0) {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-empty-'));
    try {
      return fn(empty);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  }
  if (lowerDirs.length === 1) return fn(lowerDirs[0]);
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-imageroot-'));
  try {
    mount('overlay', target, 'overlay', MS_RDONLY, `lowerdir=${lowerDirs.join(':')}`);
    try {
      return fn(target);
    } finally {
      umount(target, MNT_DETACH);
    }
  } finally {
    fs.rmdirSync(target);
  }
}
