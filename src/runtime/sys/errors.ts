// A failed system call, carrying what a person needs to act on it: the call, the errno name and the
// path it was about. Messages read "Cannot <call> '<path>': <description> (<ERRNO>)".
import os from 'node:os';
import util from 'node:util';

export class SysError extends Error {
  readonly call: string;
  readonly errno: number;
  /** The errno name, e.g. "EPERM". */
  readonly code: string;
  readonly path?: string;

  constructor(call: string, errno: number, path?: string) {
    const code = errnoName(errno);
    const where = path === undefined ? '' : ` '${path}'`;
    super(`Cannot ${call}${where}: ${describe(errno)} (${code})`);
    this.name = 'SysError';
    this.call = call;
    this.errno = errno;
    this.code = code;
    this.path = path;
  }
}

export function errnoName(errno: number): string {
  try {
    return util.getSystemErrorName(-errno);
  } catch {
    return `errno ${errno}`;
  }
}

function describe(errno: number): string {
  const name = errnoName(errno);
  const map = util.getSystemErrorMap().get(-errno);
  return map ? map[1] : name;
}

export const ERRNO = os.constants.errno;

export function isSysError(err: unknown, code?: string): err is SysError {
  return err instanceof SysError && (code === undefined || err.code === code);
}
