// Image volumes (a CRI Mount with `image` set; Kubernetes' `image` volume source): the root
// filesystem of an image already pulled, read-only at container_path. As containerd 2.1 does, the
// daemon makes the image's read-only view on the host (one layer is its own directory; several are a
// lowerdir-only overlay under the container's dir), resolves image_sub_path inside it, and hands the
// result to the init as an ordinary read-only bind (rootfs/mounts.ts attaches it like any other).
// Once the init has bound it, the host's overlay is detached: the container's bind keeps the overlay
// alive, so nothing stays mounted on the host and a daemon restart has nothing to restore. The
// container record keeps the volumes' layers, so garbage collection leaves them while it exists.
import fs from 'node:fs';
import path from 'node:path';
import type { Mount__Output } from '../gen/runtime/v1/Mount';
import { invalidArgument, notFound } from '../common/errors';
import type { Images } from '../image';
import {
  AT_FDCWD,
  isSysError,
  MNT_DETACH,
  O_PATH,
  openat2,
  RESOLVE_BENEATH,
  RESOLVE_NO_MAGICLINKS,
} from '../runtime/sys';
import type { MountHost } from './host';
import { mountImageOverlay } from './image_rootfs';

export interface ImageVolume {
  /** Its index in the config's mounts. */
  index: number;
  /** The image as the mount names it, and what it resolved to. */
  image: string;
  id: string;
  /** The image's layers, topmost first. */
  lowerDirs: string[];
  /** image_sub_path, checked to hold no '..' and not to be absolute ('' for the image's root). */
  subPath: string;
  containerPath: string;
}

/** The mounts that name an image, resolved in the image store (NOT_FOUND when not pulled). */
export async function resolveImageVolumes(images: Images, mounts: Mount__Output[]): Promise<ImageVolume[]> {
  const volumes: ImageVolume[] = [];
  for (const [index, m] of mounts.entries()) {
    const reference = m.image?.image ?? '';
    if (!reference) {
      if (m.image_sub_path)
        throw invalidArgument(`Cannot mount '${m.container_path}': image_sub_path is set without an image`);
      continue;
    }
    const what = `Cannot mount image '${reference}' at '${m.container_path}'`;
    if (m.host_path) throw invalidArgument(`${what}: host_path '${m.host_path}' is set too`);
    const subPath = m.image_sub_path;
    if (path.posix.isAbsolute(subPath) || subPath.split('/').includes('..')) {
      throw invalidArgument(`${what}: image_sub_path '${subPath}' leads outside the image`);
    }
    const image = await images.resolve(reference);
    if (!image) throw notFound(`${what}: image '${reference}' is not present`);
    volumes.push({
      index,
      image: reference,
      id: image.id,
      lowerDirs: images.lowerDirs(image),
      subPath,
      containerPath: m.container_path,
    });
  }
  return volumes;
}

export interface MountedImageVolumes {
  /** The bind source of each image mount, by its index in the config's mounts. */
  sources: Map<number, string>;
  /** Detaches the host's overlays (safe to call twice): once the init holds its binds, or on failure. */
  release(): void;
}

/** Makes each volume's read-only view under `<dir>/image-volumes/` and resolves its sub path. */
export function mountImageVolumes(host: MountHost, dir: string, volumes: ImageVolume[]): MountedImageVolumes {
  const sources = new Map<number, string>();
  const mounted: string[] = [];
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    for (const target of mounted.reverse()) {
      host.umount(target, MNT_DETACH);
      fs.rmdirSync(target);
    }
  };
  try {
    for (const volume of volumes) {
      let root: string;
      if (volume.lowerDirs.length === 0) {
        throw invalidArgument(`Cannot mount image '${volume.image}': it has no layers`);
      } else if (volume.lowerDirs.length === 1) {
        root = volume.lowerDirs[0];
      } else {
        root = path.join(dir, 'image-volumes', String(volume.index));
        fs.mkdirSync(root, { recursive: true });
        mountImageOverlay(host, volume.lowerDirs, root, `mount image '${volume.image}'`);
        mounted.push(root);
      }
      sources.set(volume.index, subPathIn(root, volume));
    }
  } catch (err) {
    release();
    throw err;
  }
  return { sources, release };
}

/**
 * The host path of the sub path, opened beneath the image's root: a symlink that leads out (an
 * absolute one, or one with too many '..') is refused, not followed. The path returned is the one
 * the kernel resolved, so the init binds it with no symlink left to follow.
 */
function subPathIn(root: string, volume: ImageVolume): string {
  if (volume.subPath === '' || volume.subPath === '.') return root;
  const what = `Cannot mount image '${volume.image}' at '${volume.containerPath}'`;
  const rootFd = openat2(AT_FDCWD, root, O_PATH | fs.constants.O_DIRECTORY, 0);
  let fd: number;
  try {
    fd = openat2(rootFd, volume.subPath, O_PATH, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, {
      what: volume.subPath,
    });
  } catch (err) {
    if (isSysError(err, 'ENOENT') || isSysError(err, 'ENOTDIR'))
      throw invalidArgument(`${what}: image_sub_path '${volume.subPath}' does not exist in the image`, err);
    if (isSysError(err, 'EXDEV') || isSysError(err, 'ELOOP'))
      throw invalidArgument(`${what}: image_sub_path '${volume.subPath}' leads outside the image`, err);
    throw err;
  } finally {
    fs.closeSync(rootFd);
  }
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } finally {
    fs.closeSync(fd);
  }
}
