// Capability sets and the prctl switches that go with them. All of these act on the CALLING THREAD
// only (capset(2), prctl(2)): call them on the main thread, never through koffi's .async.
import { SysError } from './errors';
import { check, libc } from './libc';
import { prctl } from './rlimit_prctl';

const capgetFn = libc.func('int capget(void *header, void *data)');
const capsetFn = libc.func('int capset(void *header, void *data)');

// _LINUX_CAPABILITY_VERSION_3: two 32-bit data structs, low capabilities first.
const CAP_VERSION_3 = 0x20080522;

/** The engine's raw prctl, with the option's name in the error instead of its number. */
function prctlNamed(name: string, op: number, a = 0, b = 0, what?: string): number {
  try {
    return prctl(op, a, b);
  } catch (err) {
    if (err instanceof SysError) throw new SysError(`prctl(${name})`, err.errno, what);
    throw err;
  }
}

const PR_CAPBSET_READ = 23;
const PR_CAPBSET_DROP = 24;
const PR_SET_KEEPCAPS = 8;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_RAISE = 2;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;

/** A thread's three capability sets as bit masks (bit n = capability n). */
export interface CapMasks {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

function header(): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeUInt32LE(CAP_VERSION_3, 0);
  buf.writeInt32LE(0, 4); // 0 = the calling thread
  return buf;
}

export function capGet(): CapMasks {
  const data = Buffer.alloc(24);
  check('capget', capgetFn(header(), data) as number);
  const read = (field: number) =>
    BigInt(data.readUInt32LE(field)) | (BigInt(data.readUInt32LE(12 + field)) << 32n);
  return { effective: read(0), permitted: read(4), inheritable: read(8) };
}

export function capSet(masks: CapMasks): void {
  const data = Buffer.alloc(24);
  const fields: [bigint, number][] = [
    [masks.effective, 0],
    [masks.permitted, 4],
    [masks.inheritable, 8],
  ];
  for (const [mask, offset] of fields) {
    data.writeUInt32LE(Number(mask & 0xffffffffn), offset);
    data.writeUInt32LE(Number((mask >> 32n) & 0xffffffffn), 12 + offset);
  }
  check('capset', capsetFn(header(), data) as number);
}

/** Whether capability `cap` is still in the calling thread's bounding set. */
export function capBoundingHas(cap: number): boolean {
  return prctlNamed('PR_CAPBSET_READ', PR_CAPBSET_READ, cap, 0) === 1;
}

/** Removes `cap` from the bounding set for good; needs CAP_SETPCAP. */
export function capBoundingDrop(cap: number): void {
  prctlNamed('PR_CAPBSET_DROP', PR_CAPBSET_DROP, cap, 0, String(cap));
}

export function ambientClearAll(): void {
  prctlNamed('PR_CAP_AMBIENT_CLEAR_ALL', PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0);
}

/** Raises `cap` into the ambient set; it must already be permitted and inheritable. */
export function ambientRaise(cap: number): void {
  prctlNamed('PR_CAP_AMBIENT_RAISE', PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, String(cap));
}

/** Keeps the permitted set across a change from uid 0 to another uid (it is cleared otherwise). */
export function setKeepCaps(keep: boolean): void {
  prctlNamed('PR_SET_KEEPCAPS', PR_SET_KEEPCAPS, keep ? 1 : 0, 0);
}

/** After this, execve never grants privileges (setuid bits and file capabilities are ignored). */
export function setNoNewPrivs(): void {
  prctlNamed('PR_SET_NO_NEW_PRIVS', PR_SET_NO_NEW_PRIVS, 1, 0);
}
