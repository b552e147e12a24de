// Messages between the caller and a helper process it started (the container init, the exec
// helper): one JSON object per line on fd 3. The helper reports its errors as messages; when
// execve succeeds, fd 3 (close-on-exec) closes, which the caller reads as "the workload runs".
import type { ErrorKind } from '../../common/errors';
import type { ContainerSpec, LinuxSpec, ProcessSpec } from '../spec/types';

export const CONTROL_FD = 3;

export type ToInit = { type: 'spec'; spec: ContainerSpec } | { type: 'start'; ttyIndex?: number };

export type ToExecHelper =
  { type: 'exec'; targetPid: number; process: ProcessSpec; linux: LinuxSpec } | { type: 'start' };

export type FromHelper =
  | { type: 'ready' }
  /** Sent just before execve: with no error after it, EOF means the workload runs. */
  | { type: 'exec' }
  | { type: 'error'; message: string; kind?: ErrorKind };
