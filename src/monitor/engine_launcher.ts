// The launcher for real containers: the engine (src/runtime) builds the init in the spec's
// namespaces from this process, so the monitor is the init's parent and hears its exit. Cgroups are
// the caller's business between create and start: the CRI layer writes the pid that create
// returned into the container's cgroups, then asks for start.
import type { ChildProcess } from 'node:child_process';
import { cleanupContainerRoot, execInContainer, spawnContainer, type ContainerSpec } from '../runtime';
import type { ExecProcess, ExecTarget, LaunchedProcess, Launcher } from './launcher';
import type { ChildStdio } from './stdio';

export class EngineLauncher implements Launcher {
  readonly name = 'engine';

  async launch(spec: ContainerSpec, stdio: ChildStdio): Promise<LaunchedProcess> {
    const created = await spawnContainer(spec, {
      stdin: stdio.stdin,
      stdout: stdio.stdout,
      stderr: stdio.stderr,
      terminal: stdio.terminal,
    });
    return {
      pid: created.pid,
      child: created.child,
      start: () => created.start(),
      terminalMaster: created.terminal?.master,
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

  release(spec: ContainerSpec): void {
    cleanupContainerRoot(spec);
  }
}
