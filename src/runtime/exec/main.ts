// The exec helper: started by execInContainer already inside the container's ipc, uts, network,
// pid and cgroup namespaces; it joins the mount namespace itself (Node and this file must be
// loaded from the host first), finds the executable in the container, waits for "start" (the
// caller joins it to the container's cgroups meanwhile), then execve's the command.
import '../init/non_dumpable'; // first: before anything else runs
import fs from 'node:fs';
import type { ErrorKind } from '../../common/errors';
import { attachTerminal, execWorkload } from '../init/final_steps';
import { findExecutable } from '../init/lookup';
import { CONTROL_FD, type ToExecHelper } from '../init/protocol';
import { SyncChannel } from '../init/sync_channel';
import { CLONE_FS, CLONE_NEWNS, setnsThread, unshareThread } from '../sys/engine';

function run(channel: SyncChannel): never {
  const request = channel.read<ToExecHelper>();
  if (request.type !== 'exec') throw new Error(`Cannot exec: expected the request, got '${request.type}'`);
  const mntFd = fs.openSync(`/proc/${request.targetPid}/ns/mnt`, 'r');
  unshareThread(CLONE_FS);
  setnsThread(mntFd, CLONE_NEWNS, `/proc/${request.targetPid}/ns/mnt`); // root and cwd become the container's
  fs.closeSync(mntFd);
  const { process: proc } = request;
  const executable = findExecutable(proc.args[0], proc.env, proc.cwd);
  channel.write({ type: 'ready' });
  const start = channel.read<ToExecHelper>();
  if (start.type !== 'start') throw new Error(`Cannot exec: expected 'start', got '${start.type}'`);
  if (proc.terminal) attachTerminal(0);
  return execWorkload({ process: proc, linux: request.linux, executable }, channel);
}

function main(): void {
  const channel = new SyncChannel(CONTROL_FD);
  try {
    run(channel);
  } catch (err) {
    const kind = (err as { kind?: ErrorKind }).kind;
    channel.tryWrite({ type: 'error', message: err instanceof Error ? err.message : String(err), kind });
    process.exit(1);
  }
}

main();
