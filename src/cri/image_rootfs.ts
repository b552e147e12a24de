// A read-only view of an image's root, to read its /etc/passwd and /etc/group before the
// container exists: a single layer is used as is; several are merged by a lowerdir-only overlay
// mounted for the moment of the read (through the MountHost, so the choice is unit-tested).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { invalidArgument } from '../common/errors';
import { etcFilesIn, type EtcFiles } from '../runtime/security';
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
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-imageroot-'));
  try {
    mountImageOverlay(host, lowerDirs, target, "read the image's root");
    try {
      return fn(target);
    } finally {
      host.umount(target, MNT_DETACH);
    }
  } finally {
    fs.rmdirSync(target);
  }
}

/**
 * A read-only overlay of two or more layers (topmost first) at `target`: lowerdirs only, so no
 * upper or work dir (overlayfs wants at least two lowerdirs then; one layer is bound as is).
 */
export function mountImageOverlay(
  host: MountHost,
  lowerDirs: string[],
  target: string,
  action: string,
): void {
  const options = `lowerdir=${lowerDirs.join(':')}`;
  if (Buffer.byteLength(options) > MAX_MOUNT_OPTIONS) {
    throw invalidArgument(`Cannot ${action}: ${lowerDirs.length} layers exceed one page of overlay options`);
  }
  host.mount('overlay', target, 'overlay', MS_RDONLY, options);
}

/** Images whose /etc/passwd and /etc/group were read; the oldest goes first past this many. */
const ETC_CACHE_IMAGES = 64;
const etcCache = new Map<string, EtcFiles>();

/**
 * The /etc/passwd and /etc/group of an image (by id: its layers never change), read once: mounting
 * a merged root for each CreateContainer to read two small files cost more than the rest of
 * the call. A read that failed is not kept, and is reported to the caller that asks for that file.
 */
export function imageEtcFiles(host: MountHost, imageId: string, lowerDirs: string[]): EtcFiles {
  const cached = etcCache.get(imageId);
  if (cached) return cached;
  const read = withImageRootfs(host, lowerDirs, (root) => {
    const files = etcFilesIn(root);
    return { passwd: settle(files.passwd), group: settle(files.group) };
  });
  const files: EtcFiles = { passwd: () => unwrap(read.passwd), group: () => unwrap(read.group) };
  if (read.passwd.ok && read.group.ok) {
    etcCache.set(imageId, files);
    if (etcCache.size > ETC_CACHE_IMAGES) etcCache.delete(etcCache.keys().next().value!);
  }
  return files;
}

type Settled = { ok: true; value: string } | { ok: false; error: unknown };

function settle(fn: () => string): Settled {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

function unwrap(s: Settled): string {
  if (s.ok) return s.value;
  throw s.error;
}
