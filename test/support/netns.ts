// Pinned network namespaces for tests, made with util-linux instead of `ip netns add` (which
// writes /run/netns): `unshare --net=<file> true` bind-mounts the new namespace onto <file>, so it
// outlives the `true` that created it. Remove with removeNetns: umount, then unlink.
import { execFileSync, spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Creates `<dir>/<name>` holding a new, pinned network namespace, and returns its path. */
export function createNetns(dir: string, name: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, '');
  execFileSync('unshare', [`--net=${file}`, 'true']);
  return file;
}

/** Unpins and deletes a netns file; quiet when it is already gone. */
export function removeNetns(file: string): void {
  try {
    execFileSync('umount', [file], { stdio: 'ignore' });
  } catch {
    // not mounted (any more)
  }
  fs.rmSync(file, { force: true });
}

/** Runs a command inside the netns and returns its stdout; throws with stderr on failure. */
export function inNetns(file: string, command: string[], timeoutMs = 20_000): string {
  return execFileSync('nsenter', [`--net=${file}`, ...command], {
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts a long-running command inside the netns (a server); the caller stops it by pid. */
export function spawnInNetns(file: string, command: string[]): ChildProcess {
  return spawn('nsenter', [`--net=${file}`, ...command], { stdio: 'ignore' });
}

/** Stops a process started by spawnInNetns and waits for it to be gone. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
