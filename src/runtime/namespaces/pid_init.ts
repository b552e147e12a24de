// A pod-wide PID namespace needs a real PID 1 that reaps zombies: catatonit in pause mode. Its
// namespace is pinned like the others, so containers join it by path.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { crashPoint } from '../../common/crash_point';
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

/**
 * Set in a pod PID init's environment to its namespace directory: a daemon killed between the
 * init's start and its pin leaves a catatonit no pin leads to, and the start-up sweep finds it by
 * this (podman's catatonit and other runtimes' never carry it).
 */
export const PID_INIT_MARK = 'NODELET_POD_PID_INIT';

export async function startPidNamespaceInit(
  runDir: string,
  podId: string,
  options: { catatonit?: string; userns?: string } = {},
): Promise<PidNamespaceInit> {
  const dir = podNamespaceDir(runDir, podId);
  fs.mkdirSync(dir, { recursive: true });
  const argv = [options.catatonit ?? CATATONIT, '-P'];
  const env = { ...TOOL_ENV, [PID_INIT_MARK]: dir };
  const start = (plan: NamespacePlan, command: string[]): ChildProcess =>
    runInNamespaces(plan, () =>
      spawn(command[0] as string, command.slice(1), { stdio: 'ignore', detached: true, env }),
    );
  if (options.userns !== undefined) {
    // In a pod user namespace: a PID namespace owned by it, catatonit its PID 1 and its root.
    const { parent, pid } = await startPidInitIn(options.userns, argv, { [PID_INIT_MARK]: dir });
    crashPoint('run-pod-sandbox/pid-init-unpinned');
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
  crashPoint('run-pod-sandbox/pid-init-unpinned');
  try {
    const path = pinFile(`/proc/${child.pid}/ns/pid`, dir, 'pid');
    return { child, pid: child.pid as number, path };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
