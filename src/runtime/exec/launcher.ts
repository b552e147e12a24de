// Caller side of exec: run another process inside a running container.
import type { ChildProcess } from 'node:child_process';
import { unimplemented } from '../../common/errors';
import type { ContainerSpec, UserSpec } from '../spec/types';
import type { StdioTarget, TerminalHandle, WindowSize } from '../init/launcher';

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
  void proc;
  void stdio;
  throw unimplemented(`Cannot exec in container '${target.spec.id}': not implemented yet`);
}
