// Caller side of exec: run another process inside a running container.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { invalidArgument } from '../../common/errors';
import { ChildChannel } from '../init/child_channel';
import { openContainerPty } from '../init/container_pty';
import { helperEntry, killAndReap, spawned, spawnHelper } from '../init/entry';
import { asNodeletError, type StdioTarget, type TerminalHandle, type WindowSize } from '../init/launcher';
import { setOomScoreAdj } from '../cgroups';
import { execNamespacePlan, execUserNamespace, inUserNamespace, runInNamespaces } from '../namespaces';
import type { ContainerSpec, ProcessSpec, UserSpec } from '../spec/types';
import { setWindowSize } from '../sys/engine';
import { joinCgroupsOf } from './cgroup_join';

export interface ExecProcessSpec {
  args: string[];
  /** "KEY=value"; defaults to the container's process env. */
  env?: string[];
  /** Defaults to the container's process cwd. */
  cwd?: string;
  /** Defaults to the container's process user. */
  user?: UserSpec;
  terminal?: boolean;
}

export interface ExecStdio {
  stdin?: StdioTarget;
  stdout?: StdioTarget;
  stderr?: StdioTarget;
}

export interface ExitStatus {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export interface ExecProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly terminal?: TerminalHandle;
  resize(size: WindowSize): void;
  kill(signal?: NodeJS.Signals | number): void;
  /** Resolves once the process is reaped. */
  wait(): Promise<ExitStatus>;
}

export async function execInContainer(
  target: { pid: number; spec: ContainerSpec },
  proc: ExecProcessSpec,
  stdio: ExecStdio,
): Promise<ExecProcess> {
  const what = `exec in container '${target.spec.id}'`;
  if (proc.args.length === 0) throw invalidArgument(`Cannot ${what}: no command given`);
  const processSpec: ProcessSpec = {
    ...target.spec.process,
    args: proc.args,
    env: proc.env ?? target.spec.process.env,
    cwd: proc.cwd ?? target.spec.process.cwd,
    user: proc.user ?? target.spec.process.user,
    terminal: proc.terminal ?? false,
  };
  const plan = execNamespacePlan(target.pid);
  const entry = helperEntry('exec');
  // The pty comes from the container's own devpts, reached through its root.
  const pty = processSpec.terminal ? openContainerPty(`/proc/${target.pid}/root`) : undefined;
  let child: ChildProcess;
  try {
    const io = pty
      ? [pty.slave, pty.slave, pty.slave]
      : [stdio.stdin ?? 'ignore', stdio.stdout ?? 'pipe', stdio.stderr ?? 'pipe'];
    // In a pod with a user namespace the helper is started through nsenter, as the init is
    // (init/userns_launch.ts): it must never be the host's root inside the container.
    const userns = execUserNamespace(target.pid);
    const prefix = userns === undefined ? undefined : inUserNamespace(userns, []);
    child = runInNamespaces(plan, () => spawnHelper(entry, io, { prefix }));
  } catch (err) {
    if (pty) fs.closeSync(pty.master);
    throw asNodeletError(err, what);
  } finally {
    if (pty) fs.closeSync(pty.slave);
  }
  const channel = ChildChannel.of(child);
  const exit = exitOf(child);
  try {
    await spawned(child);
    channel.send({ type: 'exec', targetPid: target.pid, process: processSpec, linux: target.spec.linux });
    await channel.expectReady(what);
    joinCgroupsOf(target.pid, child.pid as number);
    // The container's value, not the monitor's (clamped where it cannot be lowered, as at create).
    setOomScoreAdj(child.pid as number, target.spec.process.oomScoreAdj ?? 0);
    channel.send({ type: 'start' });
    await channel.expectExec(what);
  } catch (err) {
    channel.close();
    await killAndReap(child);
    if (pty) fs.closeSync(pty.master);
    throw asNodeletError(err, what);
  }
  return {
    pid: child.pid as number,
    child,
    terminal: pty ? { master: pty.master } : undefined,
    resize(size: WindowSize) {
      if (!pty)
        throw invalidArgument(`Cannot resize the exec in container '${target.spec.id}': it has no terminal`);
      setWindowSize(pty.master, size);
    },
    kill(signal: NodeJS.Signals | number = 'SIGKILL') {
      child.kill(signal);
    },
    wait: () => exit,
  };
}

function exitOf(child: ChildProcess): Promise<ExitStatus> {
  return new Promise((resolve) => child.once('exit', (exitCode, signal) => resolve({ exitCode, signal })));
}
