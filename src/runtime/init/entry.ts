// Where the helper programs live and how they are started: from dist/ (they are separate Node
// processes), with a clean, small environment (no NODE_OPTIONS, no NODE_EXTRA_CA_CERTS: the latter
// alone triples Node's start-up time).
import { spawn, type ChildProcess, type IOType } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { failedPrecondition } from '../../common/errors';

const HELPER_ENV: NodeJS.ProcessEnv = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

/** dist/runtime/<dir>/main.js, whether this module runs from dist/ or from src/ (under ts-jest). */
export function helperEntry(dir: 'init' | 'exec'): string {
  const candidates = [
    path.join(__dirname, '..', dir, 'main.js'),
    path.resolve(__dirname, '../../../dist/runtime', dir, 'main.js'),
  ];
  const found = candidates.find((c) => fs.existsSync(c));
  if (found === undefined) {
    throw failedPrecondition(
      `Cannot find the container ${dir} helper: build it with 'npx tsc -p tsconfig.build.json'`,
    );
  }
  return found;
}

export interface HelperOptions {
  args?: string[];
  /** A command line the helper is started through (nsenter into a user namespace). */
  prefix?: string[];
  /** Fds the helper gets as 4, 5, … (after the control channel). */
  extraFds?: number[];
  cwd?: string;
}

/** Spawns a helper in its own session, with fd 3 as the control channel. */
export function spawnHelper(
  entry: string,
  stdio: (IOType | number)[],
  options: HelperOptions = {},
): ChildProcess {
  const [command, ...argv] = [...(options.prefix ?? []), process.execPath, entry, ...(options.args ?? [])];
  return spawn(command as string, argv, {
    stdio: [...stdio, 'pipe', ...(options.extraFds ?? [])],
    env: HELPER_ENV,
    detached: true,
    cwd: options.cwd,
  });
}

export function spawned(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
}

/** Kills a helper that failed and waits until it is reaped. */
export async function killAndReap(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
