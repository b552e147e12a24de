// What the monitor needs from the kernel that Node lacks: FIFOs and their size, process
// file descriptors (to watch and signal a process that is not our child), the child-subreaper flag
// and reaping one pid that libuv does not know. Names are distinct from the engine's bindings on
// purpose, so both files can be re-exported from index.ts side by side.
import { check, libc } from './libc';

const SYS_PIDFD_SEND_SIGNAL = 424; // same number on x86_64 and arm64 (unified table from 424 up)
const SYS_PIDFD_OPEN = 434;
const PR_SET_CHILD_SUBREAPER = 36;
const F_SETPIPE_SZ = 1031;
const F_GETPIPE_SZ = 1032;
const POLLIN = 0x1;
const WNOHANG = 1;

const mkfifoFn = libc.func('int mkfifo(const char *path, unsigned int mode)');
const syscall3 = libc.func('long syscall(long n, long a, long b, long c)');
const syscall4 = libc.func('long syscall(long n, long a, long b, void *c, long d)');
const prctlFn = libc.func(
  'int prctl(int op, unsigned long a, unsigned long b, unsigned long c, unsigned long d)',
);
const fcntlIntFn = libc.func('int fcntl(int fd, int cmd, int arg)');
const pollFn = libc.func('int poll(void *fds, unsigned long nfds, int timeout)');
const waitpidFn = libc.func('int waitpid(int pid, _Out_ int *status, int options)');

export function makeFifo(path: string, mode = 0o600): void {
  check('mkfifo', mkfifoFn(path, mode) as number, path);
}

/**
 * Grows a pipe's buffer (at most /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE), so a
 * container can keep writing while no monitor reads. Returns the size the kernel granted.
 */
export function growPipe(fd: number, bytes: number, path?: string): number {
  const ret = fcntlIntFn(fd, F_SETPIPE_SZ, bytes) as number;
  if (ret === -1) return check('fcntl(F_GETPIPE_SZ)', fcntlIntFn(fd, F_GETPIPE_SZ, 0) as number, path);
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

/** A pidfd turns readable when its process has exited (poll(2) with no wait: never blocks). */
export function hasPidfdExited(pidfd: number): boolean {
  const fds = Buffer.alloc(8);
  fds.writeInt32LE(pidfd, 0);
  fds.writeInt16LE(POLLIN, 4);
  const ready = check('poll', pollFn(fds, 1, 0) as number, `pidfd ${pidfd}`);
  return ready > 0 && (fds.readInt16LE(6) & POLLIN) !== 0;
}

/** Orphaned descendants are re-parented to us instead of to the host's init. */
export function becomeChildSubreaper(): void {
  check('prctl(PR_SET_CHILD_SUBREAPER)', prctlFn(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) as number);
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
