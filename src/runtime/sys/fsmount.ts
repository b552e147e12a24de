// The new mount API for an overlay built from descriptors (fsopen, fsconfig, fsmount): the
// layers are open mounts (idmapped ones, for a pod with a user namespace), never paths resolved
// again, and the result is a detached mount that the container's init attaches with move_mount.
// Kernel 6.8+ takes overlay layers by descriptor ("lowerdir+" with FSCONFIG_SET_FD).
import fs from 'node:fs';
import { check, libc } from './libc';

const SYS_FSOPEN = 430;
const SYS_FSCONFIG = 431;
const SYS_FSMOUNT = 432;
const FSOPEN_CLOEXEC = 1;
const FSMOUNT_CLOEXEC = 1;
const FSCONFIG_SET_FD = 5;
const FSCONFIG_CMD_CREATE = 6;

const syscallFsopen = libc.func('syscall', 'long', ['long', 'str', 'uint']);
const syscallFsconfig = libc.func('syscall', 'long', ['long', 'int', 'uint', 'str', 'str', 'int']);
const syscallFsmount = libc.func('syscall', 'long', ['long', 'int', 'uint', 'uint']);

export interface OverlayLayers {
  /** Descriptors of the read-only layers' directories, topmost first. */
  lower: number[];
  upper: number;
  work: number;
}

/** A detached overlay mount (its fd, close-on-exec) over the layers open at the given fds. */
export function overlayFromFds(layers: OverlayLayers, what: string): number {
  const ctx = check('fsopen', Number(syscallFsopen(SYS_FSOPEN, 'overlay', FSOPEN_CLOEXEC)), what);
  try {
    const setFd = (key: string, fd: number): void => {
      check(
        'fsconfig',
        Number(syscallFsconfig(SYS_FSCONFIG, ctx, FSCONFIG_SET_FD, key, null, fd)),
        `${what}: ${key}`,
      );
    };
    for (const fd of layers.lower) setFd('lowerdir+', fd);
    setFd('upperdir', layers.upper);
    setFd('workdir', layers.work);
    check('fsconfig', Number(syscallFsconfig(SYS_FSCONFIG, ctx, FSCONFIG_CMD_CREATE, null, null, 0)), what);
    return check('fsmount', Number(syscallFsmount(SYS_FSMOUNT, ctx, FSMOUNT_CLOEXEC, 0)), what);
  } finally {
    fs.closeSync(ctx);
  }
}
