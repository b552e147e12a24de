// fchdir(2), which Node lacks: the root builder returns to the old root through a descriptor it
// opened before pivot_root, since no path names that mount afterwards with certainty.
import { check, libc } from './libc';

const fchdirFn = libc.func('int fchdir(int fd)');

/** Makes the directory open on `fd` the calling process's working directory. */
export function fchdir(fd: number, what = `fd ${fd}`): void {
  check('fchdir', fchdirFn(fd) as number, what);
}
