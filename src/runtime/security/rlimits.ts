// Resource limits for the container process. This node has no CAP_SYS_RESOURCE, so a hard limit
// can only be lowered: a request above the current hard limit is clamped to it (as containerd
// clamps oom_score_adj), never failed — the container still runs, with the most it can get.
import { invalidArgument } from '../../common/errors';
import type { RlimitSpec } from '../spec';
import { RLIMIT_NUMBERS } from '../sys/rlimit_prctl';

/** What the kernel accepts: numbers as uint64, where anything ≥ 2^63 (or -1) means unlimited. */
export const RLIM_INFINITY = 0xffffffffffffffffn;

export function rlimitValue(n: number): bigint {
  if (n === -1 || n === Infinity || n >= Number.MAX_SAFE_INTEGER) return RLIM_INFINITY;
  if (!Number.isInteger(n) || n < 0) throw invalidArgument(`Cannot set rlimit to ${n}: not a whole number`);
  return BigInt(n);
}

export function rlimitResource(type: string): number {
  const resource = RLIMIT_NUMBERS[type.toUpperCase()];
  if (resource === undefined) throw invalidArgument(`Cannot set rlimit '${type}': unknown resource`);
  return resource;
}

/** The limit to ask the kernel for, given the current hard limit it will not let us raise. */
export function clampRlimit(limit: RlimitSpec, currentHard: bigint): { soft: bigint; hard: bigint } {
  const min = (a: bigint, b: bigint) => (a < b ? a : b);
  const hard = min(rlimitValue(limit.hard), currentHard);
  const soft = min(rlimitValue(limit.soft), hard);
  return { soft, hard };
}
