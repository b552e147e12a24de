// Loading a seccomp filter. glibc exports no seccomp(), so it is syscall(317). The filter applies to
// the CALLING THREAD only (no TSYNC unless asked): load it on the thread that will execve.
import koffi from 'koffi';
import { check, libc } from './libc';

const SYS_SECCOMP = 317; // x86_64
const SECCOMP_SET_MODE_FILTER = 1;

export const SECCOMP_FILTER_FLAG_TSYNC = 1;
export const SECCOMP_FILTER_FLAG_LOG = 2;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4;

// Anonymous: koffi type names are process-wide, and Jest loads this module once per test file.
const SockFprog = koffi.struct({ len: 'uint16_t', filter: 'uint8_t *' });
const seccompFn = libc.func('syscall', 'long', ['long', 'uint', 'uint', koffi.pointer(SockFprog)]);

/** Installs `program`, an array of 8-byte struct sock_filter, as a seccomp filter. */
export function seccompSetFilter(program: Buffer, flags = 0): void {
  if (program.length === 0 || program.length % 8 !== 0) {
    throw new Error(
      `Cannot load seccomp filter: ${program.length} bytes is not a whole number of instructions`,
    );
  }
  const prog = { len: program.length / 8, filter: new Uint8Array(program) };
  const ret = check(
    'seccomp(SET_MODE_FILTER)',
    Number(seccompFn(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, flags, prog)),
  );
  // With TSYNC, a positive return is the id of a thread that could not take the filter.
  if (ret > 0) throw new Error(`Cannot load seccomp filter: thread ${ret} could not be synchronized`);
}
