// The one handle on libc. Functions are declared lazily, where they are used, so a process role
// (the init, the monitor) pays only for the calls it makes.
import koffi from 'koffi';
import { SysError } from './errors';

export const libc = koffi.load('libc.so.6');

// Declared once here because several binding files call them (with int arguments only).
export const fcntlFn = libc.func('int fcntl(int fd, int cmd, int arg)');
export const socketFn = libc.func('int socket(int domain, int type, int protocol)');

/**
 * Turns a C-style return value into a result or a SysError. errno is read at once, before any
 * other native call on this thread can overwrite it.
 */
export function check<T extends number | bigint>(call: string, ret: T, path?: string): T {
  if (ret === -1 || ret === -1n) {
    throw new SysError(call, koffi.errno(), path);
  }
  return ret;
}
