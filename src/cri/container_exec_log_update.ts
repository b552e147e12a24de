// ExecSync, ReopenContainerLog and UpdateContainerResources: operations on a running container.
import type { ExecSyncResponse } from '../gen/runtime/v1/ExecSyncResponse';
import type { LinuxContainerResources__Output } from '../gen/runtime/v1/LinuxContainerResources';
import { NodeletError, failedPrecondition, invalidArgument } from '../common/errors';
import { toLinuxResources } from '../runtime/cgroups';
import type { CriContext } from './context';
import { containerState } from './store';

function requireRunning(ctx: CriContext, containerId: string, action: string) {
  const c = ctx.containers.get(containerId);
  const state = containerState(c);
  if (state !== 'CONTAINER_RUNNING') {
    throw failedPrecondition(`Cannot ${action} container '${c.id}': it is not running (${state})`);
  }
  return c;
}

export async function execSync(
  ctx: CriContext,
  req: { container_id: string; cmd: string[]; timeout: string },
): Promise<ExecSyncResponse> {
  if (req.cmd.length === 0) throw invalidArgument('Cannot exec: cmd is empty');
  const c = requireRunning(ctx, req.container_id, 'exec in');
  const timeoutSeconds = Number(req.timeout);
  const result = await ctx.monitor.execSync({ id: c.id, args: req.cmd, timeoutSeconds });
  if (result.timedOut) {
    throw new NodeletError(
      'DeadlineExceeded',
      `command '${req.cmd.join(' ')}' timed out after ${timeoutSeconds}s in container '${c.id}'`,
    );
  }
  return {
    stdout: Buffer.from(result.stdout, 'base64'),
    stderr: Buffer.from(result.stderr, 'base64'),
    exit_code: result.exitCode,
  };
}

export async function reopenContainerLog(ctx: CriContext, containerId: string): Promise<void> {
  const c = requireRunning(ctx, containerId, 'reopen the log of');
  await ctx.monitor.reopenLog(c.id);
}

export async function updateContainerResources(
  ctx: CriContext,
  containerId: string,
  linux: LinuxContainerResources__Output | null,
): Promise<void> {
  const c = ctx.containers.get(containerId);
  if (!linux) return;
  if (containerState(c) === 'CONTAINER_EXITED') {
    throw failedPrecondition(`Cannot update container '${c.id}': it has exited`);
  }
  ctx.cgroups.update(c.cgroupsPath, toLinuxResources(linux));
  await ctx.containers.update(c.id, (r) => ({ ...r, resources: linux }));
}
