// Pseudo-terminal calls: unlock a pty master, open its peer, make it the controlling tty, resize.
import fs from 'node:fs';
import { check, libc } from './libc';

const O_CLOEXEC = 0o2000000;
const TIOCSCTTY = 0x540e;
const TIOCSWINSZ = 0x5414;
const TIOCSPTLCK = 0x40045431;
const TIOCGPTN = 0x80045430;
const TIOCGPTPEER = 0x5441;

const ioctlIntFn = libc.func('int ioctl(int fd, unsigned long req, long arg)');
const ioctlPtrFn = libc.func('int ioctl(int fd, unsigned long req, void *arg)');

export interface PtyPair {
  master: number;
  slave: number;
  /** The pty's number in its devpts instance (/dev/pts/<n>). */
  index: number;
}

/**
 * Allocates a pty from the devpts instance whose ptmx is at `ptmxPath` (e.g. a container's
 * /proc/<pid>/root/dev/pts/ptmx, so the pty lives in the container's own devpts).
 */
export function openPty(ptmxPath: string): PtyPair {
  const master = fs.openSync(ptmxPath, fs.constants.O_RDWR | fs.constants.O_NOCTTY | O_CLOEXEC);
  try {
    check('ioctl(TIOCSPTLCK)', ioctlPtrFn(master, TIOCSPTLCK, Buffer.alloc(4)) as number, ptmxPath);
    const n = Buffer.alloc(4);
    check('ioctl(TIOCGPTN)', ioctlPtrFn(master, TIOCGPTN, n) as number, ptmxPath);
    const flags = fs.constants.O_RDWR | fs.constants.O_NOCTTY | O_CLOEXEC;
    const slave = check('ioctl(TIOCGPTPEER)', ioctlIntFn(master, TIOCGPTPEER, flags) as number, ptmxPath);
    return { master, slave, index: n.readInt32LE(0) };
  } catch (err) {
    fs.closeSync(master);
    throw err;
  }
}

/** Makes the tty at fd the controlling terminal of the calling session leader. */
export function setControllingTty(fd: number): void {
  check('ioctl(TIOCSCTTY)', ioctlIntFn(fd, TIOCSCTTY, 0) as number, `fd ${fd}`);
}

export function setWindowSize(fd: number, size: { rows: number; cols: number }): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(size.rows, 0);
  ws.writeUInt16LE(size.cols, 2);
  check('ioctl(TIOCSWINSZ)', ioctlPtrFn(fd, TIOCSWINSZ, ws) as number, `fd ${fd}`);
}
