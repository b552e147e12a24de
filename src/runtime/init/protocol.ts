// Messages between the caller and a helper process it started (the container init, the exec
// helper): one JSON object per line on fd 3. The helper reports its errors as messages; when
// execve succeeds, fd 3 (close-on-exec) closes, which the caller reads as "the workload runs".
import type { ErrorKind } from '../../common/errors';
import type { PremadeMounts } from '../rootfs/idmapped';
import type { ContainerSpec, LinuxSpec, ProcessSpec } from '../spec/types';

export const CONTROL_FD = 3;

export type ToInit =
  | {
      type: 'spec';
      spec: ContainerSpec;
      pooled?: PooledTakeover;
      /** In a pod user namespace: the mounts the caller made, as fds of the init. */
      premade?: PremadeMounts;
    }
  | { type: 'start'; ttyIndex?: number };

/**
 * What a pooled init (started before its container was known) needs besides the spec: the
 * container's stdio, reopened through the caller's /proc/<pid>/fd (FIFOs only), and the
 * namespaces it enters itself.
 */
export interface PooledTakeover {
  callerPid: number;
  /** The caller's fds for the workload's 0, 1, 2; null keeps /dev/null. */
  stdio: (number | null)[];
}

/** argv flag of an init started for the pool: it waits for a spec and dies with its parent. */
export const POOLED_FLAG = '--pooled';

export type ToExecHelper =
  { type: 'exec'; targetPid: number; process: ProcessSpec; linux: LinuxSpec } | { type: 'start' };

export type FromHelper =
  | { type: 'ready' }
  /** Sent just before execve: with no error after it, EOF means the workload runs. */
  | { type: 'exec' }
  | { type: 'error'; message: string; kind?: ErrorKind };
