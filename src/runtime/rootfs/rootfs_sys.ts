// The kernel calls the root builder makes, behind one small interface so the build sequence runs
// in unit tests against a recording fake on a temp dir (file work stays real, mounts are recorded).
import fs from 'node:fs';
import { failedPrecondition } from '../../common/errors';
import { mknodAt } from '../sys/dirfd';
import { fchdir } from '../sys/fchdir';
import { encodeDev } from '../sys/fsx';
import { O_PATH, openat2 } from '../sys/openat2';
import {
  MNT_DETACH,
  MS_REC,
  MS_SLAVE,
  cloneMountTree,
  mount,
  mountSetattr,
  moveMount,
  pivotRoot,
  setHostname,
  umount,
} from '../sys/engine';
import { OWN_NAME } from './in_root';

export type NodeKind = 'char' | 'block' | 'fifo';

export interface BindOptions {
  /** rbind: the source's submounts come along. */
  recursive: boolean;
  /** MOUNT_ATTR_* set on the new mount itself. */
  set: number;
  /** MOUNT_ATTR_* set on it and every submount (recursive read-only). */
  recursiveSet: number;
  /** The target's container path, for messages. */
  what: string;
}

export interface RootfsSys {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string): void;
  mountSetattr(path: string, set: number, clear: number, recursive: boolean): void;
  /**
   * Binds `source` (a host path, or a descriptor) onto the directory or file open at `targetFd`.
   * The attributes are set while the copy is still detached, so the container never sees it
   * writable for a moment. Returns a descriptor of the attached mount (the caller closes it).
   */
  bindTree(source: string | number, targetFd: number, options: BindOptions): number;
  /** Attaches a detached mount (made by the caller, idmapped.ts) on the file open at `targetFd`. */
  attachTree(mountFd: number, targetFd: number, what: string): void;
  /**
   * Makes the node `name` in the directory open at dirFd and returns an O_PATH descriptor of it,
   * checked to be the node just made (type and device number), not something swapped in since.
   */
  makeNode(dirFd: number, name: string, kind: NodeKind, major: number, minor: number, what: string): number;
  /** Makes `root` the calling process's '/' and drops every mount of the old root. */
  pivotInto(root: string): void;
  setHostname(name: string): void;
}

const TYPE_BITS = { char: 0o020000, block: 0o060000, fifo: 0o010000 } as const;
const S_IFMT = 0o170000;

export const realRootfsSys: RootfsSys = {
  mount,
  mountSetattr,
  setHostname,
  bindTree(source: string | number, targetFd: number, options: BindOptions): number {
    const tree = cloneMountTree(source, options.recursive);
    try {
      if (options.set !== 0) mountSetattr(tree, options.set, 0, false);
      if (options.recursiveSet !== 0) mountSetattr(tree, options.recursiveSet, 0, true);
      moveMount(tree, targetFd, options.what);
      return tree;
    } catch (err) {
      fs.closeSync(tree);
      throw err;
    }
  },
  attachTree(mountFd: number, targetFd: number, what: string): void {
    moveMount(mountFd, targetFd, what);
  },
  makeNode(dirFd: number, name: string, kind: NodeKind, major: number, minor: number, what: string): number {
    mknodAt(dirFd, name, kind, major, minor, what);
    const fd = openat2(dirFd, name, O_PATH | fs.constants.O_NOFOLLOW, OWN_NAME, { what });
    const stat = fs.fstatSync(fd);
    const rdev = kind === 'fifo' ? 0 : Number(encodeDev(major, minor));
    if ((stat.mode & S_IFMT) !== TYPE_BITS[kind] || stat.rdev !== rdev) {
      fs.closeSync(fd);
      throw failedPrecondition(`Cannot create device '${what}': it was replaced while being created`);
    }
    return fd;
  },
  pivotInto(root: string): void {
    // pivot_root(".", ".") stacks the old root on top of the new one, so no put_old directory is
    // needed (runc's trick); the old root is then made a slave (so unmounting it cannot propagate to
    // the host) and detached. As runc does, "." must be the old root for that, reached through a
    // descriptor opened before the pivot: the cwd is the new root, and mount(2) on "." would make
    // the whole new tree a slave, cutting rshared mounts from their host peers.
    const oldRoot = fs.openSync('/', fs.constants.O_DIRECTORY | fs.constants.O_RDONLY);
    try {
      process.chdir(root);
      pivotRoot('.', '.');
      fchdir(oldRoot, 'the old root');
      mount(null, '.', null, MS_SLAVE | MS_REC);
      umount('.', MNT_DETACH);
    } finally {
      fs.closeSync(oldRoot);
    }
    process.chdir('/');
  },
};
