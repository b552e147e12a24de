// The last steps before execve, shared by the container init and the exec helper: undo what Node
// did to the process (fds 0-15 close-on-exec, non-blocking stdio, SIGPIPE/SIGXFSZ ignored), put
// the terminal in place, apply the security hook (identity, caps, no_new_privs, seccomp), execve.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

export type SecurityHook = (process: ProcessSpec, linux: LinuxSpec) => void;

/**
 * The security engineer's applyProcessSecuritySync, when it is built. It is loaded BEFORE
 * pivot_root: after it, the host's files (and so the module) are out of reach.
 */
export function loadSecurityHook(): SecurityHook | undefined {
  const file = path.join(__dirname, '../security/index.js');
  if (!fs.existsSync(file)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as { applyProcessSecuritySync?: SecurityHook };
  return mod.applyProcessSecuritySync;
}

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
  hook: SecurityHook | undefined;
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
  // Told before the hook: a seccomp profile may forbid writing afterwards; an error still wins.
  channel.write({ type: 'exec' });
  plan.hook?.(proc, plan.linux);
  return execve(plan.executable, proc.args, proc.env);
}
