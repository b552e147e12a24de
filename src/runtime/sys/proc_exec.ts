// Process-level calls the container init and exec helper make just before execve: hostname,
// undoing what Node did to fds and signals, and execve itself; and the fd status flags the
// monitor sets.
import { check, fcntlFn, libc } from './libc';

const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;
const CLOSE_RANGE_CLOEXEC = 1 << 2;
const SIG_SETMASK = 2;

const sethostnameFn = libc.func('int sethostname(const char *name, size_t len)');
const closeRangeFn = libc.func('int close_range(unsigned int first, unsigned int last, int flags)');
const execveFn = libc.func('int execve(const char *path, const char **argv, const char **envp)');
const signalFn = libc.func('void *signal(int sig, void *handler)');
const sigprocmaskFn = libc.func('int sigprocmask(int how, const void *set, void *oldset)');
const umaskFn = libc.func('unsigned int umask(unsigned int mask)');

export function setHostname(name: string): void {
  check('sethostname', sethostnameFn(name, Buffer.byteLength(name)) as number, name);
}

/** Makes fd survive execve (Node marks fds 0-15 close-on-exec at start). */
export function clearCloexec(fd: number): void {
  const flags = check('fcntl(F_GETFD)', fcntlFn(fd, F_GETFD, 0) as number, `fd ${fd}`);
  check('fcntl(F_SETFD)', fcntlFn(fd, F_SETFD, flags & ~1) as number, `fd ${fd}`);
}

/** Puts fd back into blocking mode (libuv makes stdio pipes non-blocking; workloads expect blocking). */
export function clearNonblock(fd: number): void {
  const flags = check('fcntl(F_GETFL)', fcntlFn(fd, F_GETFL, 0) as number, `fd ${fd}`);
  if ((flags & O_NONBLOCK) !== 0) {
    check('fcntl(F_SETFL)', fcntlFn(fd, F_SETFL, flags & ~O_NONBLOCK) as number, `fd ${fd}`);
  }
}

/**
 * Makes writes and reads on fd return EAGAIN instead of waiting. O_NONBLOCK belongs to the open
 * file description: every dup of fd, in this process or another, gets it too.
 */
export function setNonblock(fd: number): void {
  const flags = check('fcntl(F_GETFL)', fcntlFn(fd, F_GETFL, 0) as number, `fd ${fd}`);
  if ((flags & O_NONBLOCK) === 0) {
    check('fcntl(F_SETFL)', fcntlFn(fd, F_SETFL, flags | O_NONBLOCK) as number, `fd ${fd}`);
  }
}

/** Marks every fd from `first` up close-on-exec, so nothing of Node's leaks into the workload. */
export function cloexecFrom(first: number): void {
  check('close_range', closeRangeFn(first, 0xffffffff, CLOSE_RANGE_CLOEXEC) as number);
}

/** Resets a signal to its default action; ignored signals would otherwise survive execve. */
export function defaultSignal(signal: number): void {
  signalFn(signal, null);
}

/** Unblocks every signal of the calling thread. */
export function unblockAllSignals(): void {
  const empty = Buffer.alloc(128);
  check('sigprocmask', sigprocmaskFn(SIG_SETMASK, empty, null) as number);
}

export function setUmask(mask: number): void {
  umaskFn(mask);
}

/** Replaces the process image. Returns only by throwing. */
export function execve(path: string, args: string[], env: string[]): never {
  const ret = execveFn(path, [...args, null], [...env, null]) as number;
  check('execve', ret === 0 ? -1 : ret, path);
  throw new Error(`Cannot execve '${path}': returned without error`);
}

const dup2Fn = libc.func('int dup2(int oldfd, int newfd)');

/** Makes newfd a copy of oldfd (used to put a pty on 0-2 just before execve). */
export function dup2(oldfd: number, newfd: number): void {
  check('dup2', dup2Fn(oldfd, newfd) as number, `fd ${oldfd}`);
}
