// What the monitor needs from the kernel that Node lacks: FIFOs and their size, process
// file descriptors (to watch and signal a process that is not our child), the child-subreaper flag
// and reaping one pid that libuv does not know. Names are distinct from the engine's bindings on
// purpose, so both files can be re-exported from index.ts side by side.
import koffi from 'koffi';
import { ERRNO } from './errors';
import { check, fcntlFn, libc } from './libc';
import { prctl } from './rlimit_prctl';

const SYS_PIDFD_SEND_SIGNAL = 424; // same number on x86_64 and arm64 (unified table from 424 up)
const SYS_PIDFD_OPEN = 434;
const SYS_PIDFD_GETFD = 438;
const TIOCGPTN = 0x80045430;
const PR_SET_CHILD_SUBREAPER = 36;
const F_SETPIPE_SZ = 1031;
const F_GETPIPE_SZ = 1032;
const POLLIN = 0x1;
const WNOHANG = 1;

const mkfifoFn = libc.func('int mkfifo(const char *path, unsigned int mode)');
const syscall3 = libc.func('long syscall(long n, long a, long b, long c)');
const syscall4 = libc.func('long syscall(long n, long a, long b, void *c, long d)');
const pollFn = libc.func('int poll(void *fds, unsigned long nfds, int timeout)');
const waitpidFn = libc.func('int waitpid(int pid, _Out_ int *status, int options)');
const ioctlIntFn = libc.func('int ioctl(int fd, unsigned long request, _Out_ int *value)');
const teeFn = libc.func('long tee(int fdIn, int fdOut, unsigned long len, unsigned int flags)');
const pipe2Fn = libc.func('int pipe2(_Out_ int *fds, int flags)');
const FIONREAD = 0x541b;
const SPLICE_F_NONBLOCK = 0x2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const POLLHUP = 0x10;

export function makeFifo(path: string, mode = 0o600): void {
  check('mkfifo', mkfifoFn(path, mode) as number, path);
}

/**
 * Grows a pipe's buffer (at most /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE), so a
 * container can keep writing while no monitor reads. Returns the size the kernel granted.
 */
export function growPipe(fd: number, bytes: number, path?: string): number {
  const ret = fcntlFn(fd, F_SETPIPE_SZ, bytes) as number;
  if (ret === -1) return check('fcntl(F_GETPIPE_SZ)', fcntlFn(fd, F_GETPIPE_SZ, 0) as number, path);
  return ret;
}

/** A file descriptor that names one process for its whole life: pid reuse cannot fool it. */
export function openPidfd(pid: number): number {
  return Number(
    check('pidfd_open', BigInt(syscall3(SYS_PIDFD_OPEN, pid, 0, 0) as number | bigint), `pid ${pid}`),
  );
}

export function signalPidfd(pidfd: number, signal: number): void {
  check(
    'pidfd_send_signal',
    BigInt(syscall4(SYS_PIDFD_SEND_SIGNAL, pidfd, signal, null, 0) as number | bigint),
  );
}

/**
 * A copy of another process's descriptor `fd` (pidfd_getfd, Linux 5.6; needs ptrace rights over it,
 * which root has). The copy shares the open file, and is close-on-exec.
 */
export function copyFdOf(pidfd: number, fd: number): number {
  return Number(
    check('pidfd_getfd', BigInt(syscall3(SYS_PIDFD_GETFD, pidfd, fd, 0) as number | bigint), `fd ${fd}`),
  );
}

/** The number of the pty whose master `fd` is (TIOCGPTN); throws when fd is not a pty master. */
export function ptyNumberOf(fd: number): number {
  const value = [0];
  check('ioctl(TIOCGPTN)', ioctlIntFn(fd, TIOCGPTN, value) as number, `fd ${fd}`);
  return value[0];
}

/** A pidfd turns readable when its process has exited (poll(2) with no wait: never blocks). */
export function hasPidfdExited(pidfd: number): boolean {
  const fds = Buffer.alloc(8);
  fds.writeInt32LE(pidfd, 0);
  fds.writeInt16LE(POLLIN, 4);
  const ready = check('poll', pollFn(fds, 1, 0) as number, `pidfd ${pidfd}`);
  return ready > 0 && (fds.readInt16LE(6) & POLLIN) !== 0;
}

/** How many bytes wait in a pipe (FIONREAD). */
export function bytesInPipe(fd: number, path?: string): number {
  const value = [0];
  check('ioctl(FIONREAD)', ioctlIntFn(fd, FIONREAD, value) as number, path);
  return value[0];
}

/** Copies up to `bytes` from one pipe into another without consuming them (tee(2)). */
export function peekPipe(fromFd: number, toFd: number, bytes: number, path?: string): number {
  const ret = Number(teeFn(fromFd, toFd, bytes, SPLICE_F_NONBLOCK) as number | bigint);
  if (ret === -1 && koffi.errno() === ERRNO.EAGAIN) return 0; // nothing there right now
  return check('tee', ret, path);
}

/** A non-blocking, close-on-exec pipe: [read end, write end]. */
export function makePipe(): [number, number] {
  const fds = [0, 0];
  check('pipe2', pipe2Fn(fds, O_NONBLOCK | O_CLOEXEC) as number);
  return [fds[0], fds[1]];
}

export interface PollResult {
  readable: boolean;
  /** Every writer has gone (a FIFO's end of input). */
  hungUp: boolean;
}

/** poll(2) without waiting over many fds at once. */
export function pollNow(fds: number[]): PollResult[] {
  if (fds.length === 0) return [];
  const buf = Buffer.alloc(8 * fds.length);
  fds.forEach((fd, i) => {
    buf.writeInt32LE(fd, i * 8);
    buf.writeInt16LE(POLLIN, i * 8 + 4);
  });
  check('poll', pollFn(buf, fds.length, 0) as number);
  return fds.map((_, i) => {
    const revents = buf.readInt16LE(i * 8 + 6);
    return { readable: (revents & POLLIN) !== 0, hungUp: (revents & POLLHUP) !== 0 };
  });
}

/** Orphaned descendants are re-parented to us instead of to the host's init. */
export function becomeChildSubreaper(): void {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
}

/**
 * Reaps one child that libuv did not spawn, without waiting: the raw wait status, or undefined
 * while it still runs. Never use this on a pid libuv spawned: stealing its status means its
 * 'exit' event never fires.
 */
export function reapIfExited(pid: number): number | undefined {
  const status = [0];
  const ret = waitpidFn(pid, status, WNOHANG) as number;
  if (ret === 0) return undefined;
  check('waitpid', ret, `pid ${pid}`);
  return status[0];
}

/** A wait status as an exit code or the number of the signal that killed the process. */
export function decodeWaitStatus(status: number): { code: number | null; signal: number | null } {
  const termsig = status & 0x7f;
  return termsig === 0 ? { code: (status >> 8) & 0xff, signal: null } : { code: null, signal: termsig };
}
