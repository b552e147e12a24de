// System calls of the streaming server: a second descriptor for a pty master, so its reading and
// writing sides each get their own libuv handle (libuv keeps one watcher per fd number).
import { check, fcntlFn, socketFn } from './libc';

const F_DUPFD_CLOEXEC = 1030;

/** dup(fd) with close-on-exec: the copy must not leak into processes the daemon starts. */
export function dupCloexec(fd: number): number {
  return check('fcntl(F_DUPFD_CLOEXEC)', fcntlFn(fd, F_DUPFD_CLOEXEC, 0) as number, `fd ${fd}`);
}

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;

/**
 * A new, unconnected TCP/IPv4 socket. A socket belongs to the network namespace of the thread that
 * created it, whatever thread later connects it: created inside a pod's namespace, it dials there.
 */
export function tcpSocket(): number {
  return check(
    'socket(AF_INET, SOCK_STREAM)',
    socketFn(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) as number,
  );
}
