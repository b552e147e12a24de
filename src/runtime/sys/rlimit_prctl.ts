// prctl and rlimits, shared by the init and the security code (the security engineer may build on
// these instead of declaring their own).
import { check, libc } from './libc';

export const PR_SET_PDEATHSIG = 1;
export const PR_SET_DUMPABLE = 4;
export const PR_SET_NO_NEW_PRIVS = 38;

const prctlFn = libc.func(
  'int prctl(int op, unsigned long a, unsigned long b, unsigned long c, unsigned long d)',
);
const setrlimitFn = libc.func('int setrlimit(int resource, const void *rlim)');
const getrlimitFn = libc.func('int getrlimit(int resource, void *rlim)');

export const RLIMIT_NUMBERS: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/** A raw prctl; arguments beyond the first are integers (pointer options need their own wrapper). */
export function prctl(op: number, a = 0, b = 0, c = 0, d = 0): number {
  return check(`prctl(${op})`, prctlFn(op, a, b, c, d) as number);
}

/** RLIM_INFINITY is represented as -1n (all bits set). */
export function getRlimit(resource: number): { soft: bigint; hard: bigint } {
  const buf = Buffer.alloc(16);
  check('getrlimit', getrlimitFn(resource, buf) as number, `resource ${resource}`);
  return { soft: buf.readBigUInt64LE(0), hard: buf.readBigUInt64LE(8) };
}

export function setRlimit(resource: number, soft: bigint, hard: bigint): void {
  const buf = Buffer.alloc(16);
  buf.writeBigUInt64LE(BigInt.asUintN(64, soft), 0);
  buf.writeBigUInt64LE(BigInt.asUintN(64, hard), 8);
  check('setrlimit', setrlimitFn(resource, buf) as number, `resource ${resource}`);
}
