// The host's half of a root in a pod user namespace. Only a process in the initial user namespace
// may idmap a mount of a host filesystem ("we're not controlling the superblock" otherwise), and an
// overlay mounted from inside a user namespace would not read the layers' trusted.* whiteouts. So
// the caller (the monitor) makes, before the init starts:
//   - the root: every image layer as a detached idmapped mount (open_tree +
//     mount_setattr(MOUNT_ATTR_IDMAP)), and one detached overlay over them and the container's
//     upper dir (fsopen/fsmount): a layer's file owned by 0 on disk is owned by the pod's root,
//     and the image is never chowned;
//   - each mount whose CRI Mount carried uid/gid mappings (the kubelet sets them on every volume of
//     a pod with hostUsers: false): an idmapped copy of its source with its attributes set.
// The init, inside the user namespace, attaches them with move_mount (build.ts, mounts.ts).
import fs from 'node:fs';
import { invalidArgument } from '../../common/errors';
import type { ContainerSpec, IdMapping } from '../spec/types';
import {
  MOUNT_ATTR_RDONLY,
  MS_BIND,
  MS_REC,
  cloneMountTree,
  idmapMountTree,
  mountSetattr,
} from '../sys/engine';
import { overlayFromFds } from '../sys/fsmount';
import { O_PATH } from '../sys/openat2';
import { mountAttrs, parseMountOptions } from './options';

/**
 * Detached mounts made for one container: the root and the spec's bind mounts by index. The init
 * in the user namespace is nobody to the host's files, so it resolves no host path: it gets
 * descriptors of the mounts, and starts with the root's mount point as its working directory.
 */
export interface PremadeMounts {
  root?: number;
  mounts: [index: number, fd: number][];
}

/** Makes them; on failure closes what it made. The caller closes every fd once the init holds them. */
export function premadeIdmappedMounts(spec: ContainerSpec, usernsFd: number): PremadeMounts {
  const made: number[] = [];
  try {
    const premade: PremadeMounts = { root: idmappedRoot(spec, usernsFd, made), mounts: [] };
    fs.mkdirSync(spec.root.path, { recursive: true });
    spec.mounts.forEach((m, index) => {
      const opts = parseMountOptions(m.options);
      if (m.type !== 'bind' && (opts.flags & MS_BIND) === 0) return;
      const recursive = (opts.flags & MS_REC) !== 0;
      const mapped = (m.uidMappings?.length ?? 0) > 0 || (m.gidMappings?.length ?? 0) > 0;
      const tree = mapped
        ? idmapped(m.source, usernsFd, recursive, made)
        : plainTree(m.source, recursive, made);
      const attrs = mountAttrs(opts.flags);
      if (attrs !== 0) mountSetattr(tree, attrs, 0, false);
      if (opts.recursiveReadonly) mountSetattr(tree, MOUNT_ATTR_RDONLY, 0, true);
      premade.mounts.push([index, tree]);
    });
    return premade;
  } catch (err) {
    for (const fd of made) fs.closeSync(fd);
    throw err;
  }
}

export function closePremade(premade: PremadeMounts): void {
  if (premade.root !== undefined) fs.closeSync(premade.root);
  for (const [, fd] of premade.mounts) fs.closeSync(fd);
}

function idmappedRoot(spec: ContainerSpec, usernsFd: number, made: number[]): number {
  const { overlay } = spec.root;
  if (!overlay) return idmapped(spec.root.path, usernsFd, true, made);
  const lower = overlay.lowerDirs.map((dir) => idmapped(dir, usernsFd, false, made));
  // The upper layer is not idmapped: overlayfs writes it with the mounter's credentials (the
  // host's root), which an idmapped upper would refuse (EOVERFLOW). A copied-up file keeps the
  // owner its idmapped lower layer shows (the pod's root, host id 131072 say), so the container's
  // own layer holds host ids, as containerd's does. Its top directory, made empty for this
  // container, is the root directory inside: it is given to the pod's root.
  fs.chownSync(overlay.upperDir, hostIdOf(spec.linux.uidMappings), hostIdOf(spec.linux.gidMappings));
  const open = (dir: string): number => {
    const fd = fs.openSync(dir, O_PATH | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);
    made.push(fd);
    return fd;
  };
  const upper = open(overlay.upperDir);
  const work = open(overlay.workDir);
  const root = overlayFromFds({ lower, upper, work }, `the overlay root of '${spec.id}'`);
  made.push(root);
  // The overlay holds its layers: their descriptors are not needed any more.
  for (const fd of [...lower, upper, work]) {
    fs.closeSync(fd);
    made.splice(made.indexOf(fd), 1);
  }
  return root;
}

/** The host id the container's id 0 maps to. */
function hostIdOf(mappings: IdMapping[] | undefined): number {
  const zero = mappings?.find((m) => m.containerID === 0);
  if (!zero) throw invalidArgument('Cannot build a root for a user namespace that does not map id 0');
  return zero.hostID;
}

function plainTree(source: string, recursive: boolean, made: number[]): number {
  const tree = cloneMountTree(source, recursive);
  made.push(tree);
  return tree;
}

function idmapped(source: string, usernsFd: number, recursive: boolean, made: number[]): number {
  const tree = cloneMountTree(source, recursive);
  made.push(tree);
  idmapMountTree(tree, usernsFd, recursive);
  return tree;
}
