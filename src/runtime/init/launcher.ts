// Caller side of a container's init: spawn it in the spec's namespaces, hand it the spec, wait
// until the root is built, then tell it to execve the workload.
//
//   spawnContainer ──spec──▶ init builds root ──ready──▶ CreatedContainer
//   start()        ──start─▶ init: tty, fds, security ──exec──▶ execve ──EOF──▶ resolved
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { NodeletError, invalidArgument } from '../../common/errors';
import { containerNamespacePlan, runInNamespaces } from '../namespaces';
import type { ContainerSpec } from '../spec/types';
import { setWindowSize } from '../sys/engine';
import { ChildChannel } from './child_channel';
import { openContainerPty } from './container_pty';
import { helperEntry, killAndReap, spawned, spawnHelper } from './entry';
import { pooledTakeover, type InitPool } from './pool';
import type { PooledTakeover } from './protocol';
import type { PremadeMounts } from '../rootfs';
import { spawnInUserNamespace, userNamespaceOf } from './userns_launch';

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
  /** Whether the init came from the pool (Node already booted) or was started for this container. */
  readonly fromPool: boolean;
  /** execve of spec.process; rejects with the init's error (e.g. executable not found). */
  start(): Promise<void>;
  kill(signal?: NodeJS.Signals | number): void;
  resize(size: WindowSize): void;
}

export interface SpawnOptions {
  /** Pre-started inits; a container that cannot use one (see pooledTakeover) starts cold. */
  pool?: InitPool;
}

export async function spawnContainer(
  spec: ContainerSpec,
  stdio: ContainerStdio,
  options: SpawnOptions = {},
): Promise<CreatedContainer> {
  validate(spec);
  const io: StdioTarget[] = stdio.terminal
    ? ['ignore', 'ignore', 'ignore']
    : [stdio.stdin ?? 'ignore', stdio.stdout, stdio.stderr];
  const userns = userNamespaceOf(spec);
  if (userns !== undefined) {
    // Never from the pool: a pooled init is not in the pod's user namespace and cannot enter it.
    const { child, premade } = spawnInUserNamespace(spec, userns, io);
    return startInit(spec, stdio, child, undefined, premade);
  }
  const plan = containerNamespacePlan(spec.linux.namespaces);
  const takeover = options.pool ? pooledTakeover(plan, io) : undefined;
  const pooled = takeover ? options.pool?.take() : undefined;
  if (pooled) {
    try {
      return await startInit(spec, stdio, pooled, takeover);
    } catch (err) {
      // A pooled init that died without a word (killed while it waited) did nothing to the host:
      // its namespaces and fds went with it. A cold one is tried then; a reported error stands.
      if (!(err instanceof SilentInit)) throw err;
    } finally {
      // Started now, the next init boots while this container runs rather than while it is built.
      options.pool?.refillSoon();
    }
  }
  const cold = runInNamespaces(plan, () => spawnHelper(helperEntry('init'), io));
  return startInit(spec, stdio, cold, undefined);
}

class SilentInit extends Error {}

/** Sends the spec and waits for "ready"; a failure kills and reaps the init. */
async function startInit(
  spec: ContainerSpec,
  stdio: ContainerStdio,
  child: ChildProcess,
  takeover: PooledTakeover | undefined,
  premade?: PremadeMounts,
): Promise<CreatedContainer> {
  const what = `create container '${spec.id}'`;
  const channel = ChildChannel.of(child);
  let terminal: PendingTerminal | undefined;
  try {
    if (takeover) channel.send({ type: 'spec', spec, pooled: takeover });
    else {
      await spawned(child);
      channel.send({ type: 'spec', spec, premade });
    }
    await channel.expectReady(what);
    if (stdio.terminal) terminal = allocateTerminal(child.pid as number);
  } catch (err) {
    channel.close();
    await killAndReap(child);
    if (takeover && channel.silent) throw new SilentInit(String(err));
    throw asNodeletError(err, what);
  }
  return new Container(spec.id, child, channel, terminal, takeover !== undefined);
}

class Container implements CreatedContainer {
  readonly pid: number;
  private started = false;

  constructor(
    readonly id: string,
    readonly child: ChildProcess,
    private readonly channel: ChildChannel,
    readonly terminal: PendingTerminal | undefined,
    readonly fromPool: boolean,
  ) {
    this.pid = child.pid as number;
    child.once('exit', () => this.releaseSlave());
  }

  private releaseSlave(): void {
    if (this.terminal && this.terminal.slave >= 0) {
      fs.closeSync(this.terminal.slave);
      this.terminal.slave = -1;
    }
  }

  async start(): Promise<void> {
    if (this.started) throw invalidArgument(`Cannot start container '${this.id}': it was already started`);
    this.started = true;
    this.channel.send({ type: 'start', ttyIndex: this.terminal?.index });
    try {
      await this.channel.expectExec(`start container '${this.id}'`);
    } finally {
      this.releaseSlave();
    }
  }

  kill(signal: NodeJS.Signals | number = 'SIGKILL'): void {
    this.child.kill(signal);
  }

  resize(size: WindowSize): void {
    if (!this.terminal) throw invalidArgument(`Cannot resize container '${this.id}': it has no terminal`);
    setWindowSize(this.terminal.master, size);
  }
}

/**
 * A pty from the container's own devpts instance (reached through the init's root). The init
 * opens /dev/pts/<index> itself at start; until then we hold the slave open, or reading the
 * master would fail with EIO (and a reader that closes on error would destroy the pty).
 */
function allocateTerminal(pid: number): PendingTerminal {
  return openContainerPty(`/proc/${pid}/root`);
}

type PendingTerminal = TerminalHandle & { index: number; slave: number };

function validate(spec: ContainerSpec): void {
  if (!spec.id) throw invalidArgument('Cannot create a container without an id');
  if (!spec.root.path.startsWith('/')) {
    throw invalidArgument(
      `Cannot create container '${spec.id}': root path '${spec.root.path}' is not absolute`,
    );
  }
  if (spec.process.args.length === 0)
    throw invalidArgument(`Cannot create container '${spec.id}': no command given`);
  if (spec.linux.seccomp && !spec.linux.seccompBpf) {
    // The init would refuse it too; never compiled there (the container's libseccomp would run).
    throw invalidArgument(
      `Cannot create container '${spec.id}': its seccomp filter is not compiled (withCompiledSeccomp)`,
    );
  }
}

export function asNodeletError(err: unknown, what: string): NodeletError {
  if (err instanceof NodeletError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new NodeletError('Internal', `Cannot ${what}: ${message}`, { cause: err });
}
