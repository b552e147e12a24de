// Caller side of a container's init: spawn it in the spec's namespaces, hand it the spec, wait
// until the root is built, then tell it to execve the workload.
import type { ChildProcess } from 'node:child_process';
import { unimplemented } from '../../common/errors';
import type { ContainerSpec } from '../spec/types';

export type StdioTarget = number | 'pipe' | 'ignore';

export interface ContainerStdio {
  stdin?: StdioTarget;
  stdout: StdioTarget;
  stderr: StdioTarget;
  /** Allocate a pty from the container's own devpts as the workload's stdin/stdout/stderr. */
  terminal?: boolean;
}

export interface WindowSize {
  rows: number;
  cols: number;
}

export interface TerminalHandle {
  /** The pty master; the caller owns it (reads output, writes input, closes it). */
  master: number;
}

export interface CreatedContainer {
  readonly id: string;
  /** Host pid of the init, which becomes the workload at start(). */
  readonly pid: number;
  /** The caller is the parent: it reaps through child's 'exit' event. */
  readonly child: ChildProcess;
  readonly terminal?: TerminalHandle;
  /** execve of spec.process; rejects with the init's error (e.g. executable not found). */
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals | number): void;
  resize(size: WindowSize): void;
}

export async function spawnContainer(spec: ContainerSpec, stdio: ContainerStdio): Promise<CreatedContainer> {
  void stdio;
  throw unimplemented(`Cannot create container '${spec.id}': not implemented yet`);
}
