// <runDir>/monitor.log sits on /run, a tmpfs: what it holds is memory, and the monitor and keeper
// run for months. Both write it through an O_APPEND descriptor inherited at start, which nobody
// could reopen, so it is rotated in place as logrotate's copytruncate does: the file is copied to
// monitor.log.1, then cut to zero, and the appends go on at its new end. Lines written between
// the copy and the cut are lost; that is the price of never reopening inherited descriptors.
import fs from 'node:fs';

const MONITOR_LOG_MAX_BYTES = 8 << 20;

/**
 * Rotates `file` when it is larger than `maxBytes`, if `fd` is that very file (the keeper's
 * stderr, say). Returns whether it rotated.
 */
export function rotateInPlace(file: string, fd: number, maxBytes = MONITOR_LOG_MAX_BYTES): boolean {
  const open = fs.fstatSync(fd);
  if (open.size <= maxBytes) return false;
  let named: fs.Stats;
  try {
    named = fs.statSync(file);
  } catch {
    return false;
  }
  if (named.ino !== open.ino || named.dev !== open.dev) return false;
  fs.copyFileSync(file, `${file}.1`);
  fs.ftruncateSync(fd, 0);
  return true;
}
