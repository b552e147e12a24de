// A pod-wide PID namespace needs a real PID 1 that reaps zombies: catatonit in pause mode. Its
// namespace is pinned like the others, so containers join it by path.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { internal } from '../../common/errors';
import { runInNamespaces } from './enter';
import { pinFile, podNamespaceDir } from './pin';

export interface PidNamespaceInit {
  /** The caller is catatonit's parent: it reaps it, and kills it when the pod goes. */
  child: ChildProcess;
  pid: number;
  /** The pinned PID namespace, for NamespaceSpec.path. */
  path: string;
}

export const CATATONIT = '/usr/bin/catatonit';

export async function startPidNamespaceInit(
  runDir: string,
  podId: string,
  options: { catatonit?: string } = {},
): Promise<PidNamespaceInit> {
  const dir = podNamespaceDir(runDir, podId);
  fs.mkdirSync(dir, { recursive: true });
  const child = runInNamespaces({ join: [], create: ['pid'] }, () =>
    spawn(options.catatonit ?? CATATONIT, ['-P'], { stdio: 'ignore', detached: true, env: {} }),
  );
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
