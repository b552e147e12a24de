// Reading a small file that someone else wrote (an image's /etc/passwd, a seccomp profile) on the
// daemon's event loop without letting it stall, flood or reach the host:
//   - the path resolves inside its root (openat2 RESOLVE_IN_ROOT): a symlinked /etc or /etc/passwd
//     pointing at a host path lands inside the image, never on the host's file;
//   - the inode is looked at through an O_PATH handle before anything is opened: open() of a FIFO
//     waits for a writer forever, and open() of a device node makes the root daemon open a HOST
//     device (1:5 is /dev/zero and never ends; some devices act on open, e.g. a watchdog);
//   - only a regular file of at most MAX_SMALL_FILE bytes is then opened (non-blocking) and read.
import fs from 'node:fs';
import { invalidArgument, messageOf } from '../../common/errors';
import { isSysError } from '../sys/errors';
import { decodeDev } from '../sys/fsx';
import { O_PATH, openInRoot } from '../sys/openat2';

const MAX_SMALL_FILE = 1024 * 1024;

/**
 * The text of `relPath` inside `root`, or undefined when there is no such file. `what` names the
 * file in errors ("the image's /etc/passwd"); anything but a regular file of at most `maxBytes`
 * is refused with InvalidArgument.
 */
export function readSmallFileInRoot(
  root: string,
  relPath: string,
  what: string,
  maxBytes: number = MAX_SMALL_FILE,
): string | undefined {
  let handle: number;
  try {
    handle = openInRoot(root, relPath, O_PATH);
  } catch (err) {
    if (isSysError(err, 'ENOENT') || isSysError(err, 'ENOTDIR')) return undefined;
    throw invalidArgument(`Cannot read ${what}: ${messageOf(err)}`, err);
  }
  try {
    const seen = fs.fstatSync(handle);
    checkRegular(seen, what, maxBytes);
    // Reopened through the handle: the same inode that was checked, whatever the path is now.
    const fd = fs.openSync(
      `/proc/self/fd/${handle}`,
      fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY,
    );
    try {
      const opened = fs.fstatSync(fd);
      if (opened.ino !== seen.ino || opened.dev !== seen.dev)
        throw invalidArgument(`Cannot read ${what}: it changed while being opened`);
      return readAtMost(fd, maxBytes, what).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    fs.closeSync(handle);
  }
}

function checkRegular(stat: fs.Stats, what: string, maxBytes: number): void {
  if (!stat.isFile()) throw invalidArgument(`Cannot read ${what}: it is ${kindOf(stat)}, not a regular file`);
  if (stat.size > maxBytes) {
    throw invalidArgument(`Cannot read ${what}: it is ${stat.size} bytes, more than the ${maxBytes} allowed`);
  }
}

/** Reads to end of file, refusing a file that grows past maxBytes while it is read. */
function readAtMost(fd: number, maxBytes: number, what: string): Buffer {
  const buf = Buffer.alloc(maxBytes + 1);
  let length = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, length, buf.length - length, null);
    if (n === 0) break;
    length += n;
    if (length > maxBytes) throw invalidArgument(`Cannot read ${what}: it is more than ${maxBytes} bytes`);
  }
  return buf.subarray(0, length);
}

function kindOf(stat: fs.Stats): string {
  if (stat.isFIFO()) return 'a FIFO';
  const { major, minor } = decodeDev(stat.rdev);
  if (stat.isCharacterDevice()) return `a character device (${major}:${minor})`;
  if (stat.isBlockDevice()) return `a block device (${major}:${minor})`;
  if (stat.isSocket()) return 'a socket';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}
