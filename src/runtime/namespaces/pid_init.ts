// A pod-wide PID namespace needs a real PID 1 that reaps zombies: catatonit in pause mode. Its
// namespace is pinned like the others, so containers join it by path.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { internal } from '../../common/errors';
import { runInNamespaces, type NamespacePlan } from './enter';
import { startPidInitIn } from './userns';

const TOOL_ENV: NodeJS.ProcessEnv = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
import { pinFile, podNamespaceDir } from './pin';

export interface PidNamespaceInit {
  /**
   * The caller's child: catatonit, or in a pod user namespace the `unshare` above it (catatonit
   * dies with it). The caller reaps it, and kills it when the pod goes.
   */
  child: ChildProcess;
  pid: number;
  /** The pinned PID namespace, for NamespaceSpec.path. */
  path: string;
}

export const CATATONIT = '/usr/bin/catatonit';

export async function startPidNamespaceInit(
  runDir: string,
  podId: string,
  options: { catatonit?: string; userns?: string } = {},
): Promise<PidNamespaceInit> {
  const dir = podNamespaceDir(runDir, podId);
  fs.mkdirSync(dir, { recursive: true });
  const argv = [options.catatonit ?? CATATONIT, '-P'];
  const start = (plan: NamespacePlan, command: string[]): ChildProcess =>
    runInNamespaces(plan, () =>
      spawn(command[0] as string, command.slice(1), { stdio: 'ignore', detached: true, env: TOOL_ENV }),
    );
  if (options.userns !== undefined) {
    // In a pod user namespace: a PID namespace owned by it, catatonit its PID 1 and its root.
    const { parent, pid } = await startPidInitIn(options.userns, argv);
    try {
      return { child: parent, pid, path: pinFile(`/proc/${pid}/ns/pid`, dir, 'pid') };
    } catch (err) {
      parent.kill('SIGKILL');
      throw err;
    }
  }
  const child = start({ join: [], create: ['pid'] }, argv);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) =>
      reject(internal(`Cannot start the PID namespace init of pod '${podId}': ${err.message}`, err)),
    );
  });
  try {
    const path = pinFile(`/proc/${child.pid}/ns/pid`, dir, 'pid');
    return { child, pid: child.pid as number, path };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
