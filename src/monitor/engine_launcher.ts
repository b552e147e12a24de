// The launcher for real containers: the engine (src/runtime) builds the init in the spec's
// namespaces from this process, so the monitor is the init's parent and hears its exit. Cgroups are
// the caller's business between create and start: the CRI layer writes the pid that create
// returned into the container's cgroups, then asks for start.
// A pool of pre-started inits (initPoolSize, default 2) takes Node's start-up off create's path.
import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../common/log';
import {
  cleanupContainerRoot,
  execInContainer,
  InitPool,
  restoreContainer,
  spawnContainer,
  type ContainerSpec,
} from '../runtime';
import type { ExecProcess, ExecTarget, LaunchedProcess, Launcher } from './launcher';
import type { ChildStdio } from './stdio';
import type { RestoreParams } from './protocol';

const DEFAULT_INIT_POOL_SIZE = 2;
const RESTORE_TIMEOUT_MS = 240_000;

export interface EngineLauncherOptions {
  /** Inits kept waiting; 0 starts every init cold. */
  initPoolSize?: number;
  log?: Logger;
}

export class EngineLauncher implements Launcher {
  readonly name = 'engine';
  private readonly pool: InitPool | undefined;

  constructor(private readonly options: EngineLauncherOptions = {}) {
    const size = options.initPoolSize ?? DEFAULT_INIT_POOL_SIZE;
    if (size > 0) {
      this.pool = new InitPool({
        size,
        onIdleExit: (pid, code, signal) =>
          options.log?.warn({ pid, code, signal }, 'a pooled container init ended while idle'),
      });
      try {
        this.pool.fill();
      } catch (err) {
        // Without the init built there is no pool; every create then fails with the clear error.
        options.log?.warn({ err }, 'cannot start the pooled container inits');
      }
    }
  }

  async launch(spec: ContainerSpec, stdio: ChildStdio): Promise<LaunchedProcess> {
    const began = process.hrtime.bigint();
    const created = await spawnContainer(
      spec,
      { stdin: stdio.stdin, stdout: stdio.stdout, stderr: stdio.stderr, terminal: stdio.terminal },
      { pool: this.pool },
    );
    const initSeconds = Number(process.hrtime.bigint() - began) / 1e9;
    this.options.log?.debug({ id: spec.id, fromPool: created.fromPool, initSeconds }, 'container init ready');
    return {
      pid: created.pid,
      child: created.child,
      start: () => created.start(),
      terminalMaster: created.terminal?.master,
      fromPool: created.fromPool,
      initSeconds,
    };
  }

  async exec(target: ExecTarget, proc: ExecProcess): Promise<ChildProcess> {
    const exec = await execInContainer(
      target,
      // Without extra entries the engine uses the container's own environment.
      { args: proc.args, env: proc.env.length > 0 ? [...target.spec.process.env, ...proc.env] : undefined },
      { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
    );
    return exec.child;
  }

  async restore(spec: ContainerSpec, restore: RestoreParams, stdio: (number | undefined)[]): Promise<number> {
    return restoreContainer({
      criu: restore.criu,
      spec,
      imagesDir: restore.imagesDir,
      workDir: restore.workDir,
      stdio,
      timeoutMs: RESTORE_TIMEOUT_MS,
    });
  }

  release(spec: ContainerSpec): void {
    cleanupContainerRoot(spec);
  }

  /** Kills the idle pooled inits (they would also die with this process). */
  async close(): Promise<void> {
    await this.pool?.close();
  }
}
