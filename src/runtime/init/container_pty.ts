// A container's terminal comes from the container's own devpts, reached from the host through
// /proc/<pid>/root. For an exec that root belongs to a RUNNING container, which may have replaced
// its /dev/pts (one with CAP_SYS_ADMIN can unmount it): the monitor, root on the host, must then
// neither follow a symlink there out to a host file or device, nor open a FIFO or another node.
// So ptmx is looked up inside the container's root, looked at through O_PATH, and opened only
// when it is a devpts ptmx (char 5:2 on a devpts filesystem).
import fs from 'node:fs';
import { failedPrecondition, messageOf } from '../../common/errors';
import { encodeDev } from '../sys/fsx';
import { O_PATH, openInRoot } from '../sys/openat2';
import { openPty, type PtyPair } from '../sys/tty';

const DEVPTS_SUPER_MAGIC = 0x1cd1;
const PTMX_RDEV = Number(encodeDev(5, 2));

/** A pty pair from the devpts of the root at `root` (e.g. /proc/<pid>/root). */
export function openContainerPty(root: string): PtyPair {
  const refuse = (why: string, cause?: unknown) =>
    failedPrecondition(`Cannot allocate a terminal in the container: /dev/pts/ptmx ${why}`, cause);
  let handle: number;
  try {
    handle = openInRoot(root, 'dev/pts/ptmx', O_PATH);
  } catch (err) {
    throw refuse(`cannot be opened inside the container: ${messageOf(err)}`, err);
  }
  try {
    const via = `/proc/self/fd/${handle}`;
    const stat = fs.fstatSync(handle);
    if (
      !stat.isCharacterDevice() ||
      stat.rdev !== PTMX_RDEV ||
      fs.statfsSync(via).type !== DEVPTS_SUPER_MAGIC
    ) {
      throw refuse('is not the ptmx of a devpts filesystem');
    }
    return openPty(via);
  } finally {
    fs.closeSync(handle);
  }
}
