// The last steps before execve, shared by the container init and the exec helper: undo what Node
// did to the process (fds 0-15 close-on-exec, non-blocking stdio, SIGPIPE/SIGXFSZ ignored), put
// the terminal in place, apply the process security (identity, caps, no_new_privs, seccomp), execve.
// The security module is imported statically: an install without it must fail to start a
// container, never run the workload as root with every capability and no seccomp.
import fs from 'node:fs';
import os from 'node:os';
import { applyProcessSecuritySync } from '../security/apply';
import type { LinuxSpec, ProcessSpec } from '../spec/types';
import {
  clearCloexec,
  clearNonblock,
  cloexecFrom,
  defaultSignal,
  dup2,
  execve,
  setControllingTty,
  setUmask,
  unblockAllSignals,
} from '../sys/engine';
import type { SyncChannel } from './sync_channel';

/** Makes the pty at ttyPath the controlling terminal and stdin/stdout/stderr (we are a session leader). */
export function attachTerminal(ttyPath: string | number): void {
  const fd = typeof ttyPath === 'number' ? ttyPath : fs.openSync(ttyPath, fs.constants.O_RDWR);
  setControllingTty(fd);
  for (const target of [0, 1, 2]) if (fd !== target) dup2(fd, target);
  if (fd > 2) fs.closeSync(fd);
}

export interface ExecPlan {
  process: ProcessSpec;
  linux: LinuxSpec;
  executable: string;
}

export function execWorkload(plan: ExecPlan, channel: SyncChannel): never {
  const { process: proc } = plan;
  setUmask(proc.user.umask ?? 0o022);
  process.chdir(proc.cwd);
  for (const fd of [0, 1, 2]) {
    clearCloexec(fd);
    clearNonblock(fd);
  }
  cloexecFrom(3); // the control channel too: its EOF tells the caller execve worked
  defaultSignal(os.constants.signals.SIGPIPE);
  defaultSignal(os.constants.signals.SIGXFSZ);
  unblockAllSignals();
  // Told before the security steps: a seccomp profile may forbid writing afterwards; an error
  // still wins, and a step that fails ends the process before execve.
  channel.write({ type: 'exec' });
  applyProcessSecuritySync(proc, plan.linux);
  return execve(plan.executable, proc.args, proc.env);
}
