// File-level calls Node lacks: advisory locks.
import { check, libc } from './libc';

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

const flockFn = libc.func('int flock(int fd, int operation)');

/**
 * Takes an exclusive lock on an open file without waiting. Returns false when another process
 * holds it. The kernel drops the lock when the holder dies, so a crashed daemon never blocks the
 * next one.
 */
export function tryLockExclusive(fd: number, path?: string): boolean {
  const ret = flockFn(fd, LOCK_EX | LOCK_NB) as number;
  if (ret === 0) return true;
  try {
    check('flock', ret, path);
  } catch (err) {
    if ((err as { code?: string }).code === 'EWOULDBLOCK' || (err as { code?: string }).code === 'EAGAIN') {
      return false;
    }
    throw err;
  }
  return false;
}

export function unlock(fd: number, path?: string): void {
  check('flock', flockFn(fd, LOCK_UN) as number, path);
}
