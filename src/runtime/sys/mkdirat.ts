// mkdirat(2), which Node lacks: a directory made inside a directory held open by descriptor, so no
// path is resolved again between checking where it goes and making it (subPath creation).
import { check, libc } from './libc';

const mkdiratFn = libc.func('int mkdirat(int dirfd, const char *pathname, unsigned int mode)');

/** Makes `name` (one path component) in the directory open on `dirFd`. */
export function mkdirat(dirFd: number, name: string, mode: number, what = name): void {
  check('mkdirat', mkdiratFn(dirFd, name, mode) as number, what);
}
