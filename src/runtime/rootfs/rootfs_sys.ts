// The kernel calls the root builder makes, behind one small interface so the build sequence runs
// in unit tests against a recording fake on a temp dir (file work stays real, mounts are recorded).
import fs from 'node:fs';
import { fchdir } from '../sys/fchdir';
import {
  MNT_DETACH,
  MS_REC,
  MS_SLAVE,
  makeDeviceNode,
  mount,
  mountSetattr,
  pivotRoot,
  setHostname,
  umount,
} from '../sys/engine';

export interface RootfsSys {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string): void;
  mountSetattr(path: string, set: number, clear: number, recursive: boolean): void;
  mknod(path: string, kind: 'char' | 'block' | 'fifo', major: number, minor: number): void;
  /** Makes `root` the calling process's '/' and drops every mount of the old root. */
  pivotInto(root: string): void;
  setHostname(name: string): void;
}

export const realRootfsSys: RootfsSys = {
  mount,
  mountSetattr,
  mknod: makeDeviceNode,
  setHostname,
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
