// User namespaces for pods (CRI NamespaceMode POD of userns_options). A multithreaded process can
// neither unshare nor setns a user namespace, and Node always is one; so the single-threaded
// programs of util-linux do those calls, as runc's nsexec does them in C before Go starts:
//
//   pod:        unshare --user --net --ipc --uts sleep   (one unshare(2): the user namespace is
//               made first and owns the others); we write its uid/gid maps and pin all four
//   pod PID 1:  nsenter --user=<pin> unshare --pid --fork catatonit -P   a PID namespace owned by
//               the pod's user namespace; every container of the pod joins it
//   container:  the caller's thread joins the pod's namespaces and spawns `nsenter --user=<pin>
//               node init.js` (src/runtime/init/userns_launch.ts)
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { failedPrecondition, invalidArgument } from '../../common/errors';
import type { IdMapping, NamespaceType } from '../spec/types';
import { NAMESPACE_FILES } from '../sys/engine';
import { setLinkUp } from '../sys/netif';
import { runInNamespaces } from './enter';
import { pinFile, podNamespaceDir, unpinNamespaces, type PinnedNamespaces } from './pin';

const TOOL_ENV: NodeJS.ProcessEnv = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
const UNSHARE_FLAGS: Partial<Record<NamespaceType, string>> = {
  network: '--net',
  ipc: '--ipc',
  uts: '--uts',
};
const READY_TIMEOUT_MS = 10_000;

export interface UserNamespaceMappings {
  uids: IdMapping[];
  gids: IdMapping[];
}

/** The text of a /proc/<pid>/uid_map or gid_map. */
export function idMapText(mappings: readonly IdMapping[]): string {
  return mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/**
 * A new user namespace with the given maps, and new namespaces of `types` (network, ipc, uts)
 * owned by it, all pinned under <runDir>/ns/<podId>/ (the user one as 'user').
 */
export async function pinPodUserNamespace(
  runDir: string,
  podId: string,
  types: NamespaceType[],
  mappings: UserNamespaceMappings,
): Promise<PinnedNamespaces> {
  const flags = types.map((t) => {
    const flag = UNSHARE_FLAGS[t];
    if (flag === undefined)
      throw invalidArgument(`Cannot make a ${t} namespace owned by a pod's user namespace`);
    return flag;
  });
  const dir = podNamespaceDir(runDir, podId);
  fs.mkdirSync(dir, { recursive: true });
  const holder = spawnTool('unshare', ['--user', ...flags, '--', 'sleep', 'infinity']);
  const pinned: PinnedNamespaces = {};
  try {
    await namespaceChanged(holder, 'user');
    fs.writeFileSync(`/proc/${holder.pid}/uid_map`, idMapText(mappings.uids));
    fs.writeFileSync(`/proc/${holder.pid}/gid_map`, idMapText(mappings.gids));
    for (const type of ['user', ...types] as NamespaceType[]) {
      pinned[type] = pinFile(`/proc/${holder.pid}/ns/${NAMESPACE_FILES[type]}`, dir, type);
    }
    // A new network namespace starts with its loopback down (see pin.ts).
    if (pinned.network !== undefined) {
      runInNamespaces({ join: [{ type: 'network', path: pinned.network }], create: [] }, () =>
        setLinkUp('lo'),
      );
    }
  } catch (err) {
    unpinNamespaces(runDir, podId);
    throw err;
  } finally {
    await stop(holder);
  }
  return pinned;
}

/**
 * A PID namespace owned by the user namespace pinned at `userns`, with catatonit (`argv`) as its
 * PID 1. The kernel gives a PID namespace no handle until its first process exists, and only a
 * process inside the user namespace can make one owned by it, so `unshare --fork` makes it and
 * stays as catatonit's parent (`--kill-child`: catatonit, and so the namespace, die with it).
 */
export async function startPidInitIn(
  userns: string,
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ parent: ChildProcess; pid: number }> {
  const parent = spawnTool(
    'nsenter',
    inUserNamespace(userns, ['unshare', '--pid', '--fork', '--kill-child', '--', ...argv]).slice(1),
    env,
  );
  try {
    const pid = await firstChild(parent);
    return { parent, pid };
  } catch (err) {
    await stop(parent);
    throw err;
  }
}

/** The command line that starts `argv` inside the user namespace pinned at `userns`, as its root. */
export function inUserNamespace(userns: string, argv: string[]): string[] {
  return ['nsenter', `--user=${userns}`, '--', ...argv];
}

function spawnTool(tool: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(tool, args, { stdio: 'ignore', env: { ...TOOL_ENV, ...env } });
}

/** The pid of the tool's child, once it has forked it and the child has exec'ed. */
async function firstChild(child: ChildProcess): Promise<number> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw failedPrecondition(`Cannot start '${child.spawnargs.join(' ')}': it exited`);
    }
    try {
      const pid = Number(
        fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0],
      );
      if (pid > 0 && fs.readlinkSync(`/proc/${pid}/exe`) !== fs.readlinkSync(`/proc/${child.pid}/exe`))
        return pid;
    } catch {
      // not forked, or not exec'ed yet
    }
    if (Date.now() > deadline)
      throw failedPrecondition(`Cannot start '${child.spawnargs.join(' ')}': it did not start`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Waits until the tool's namespace file differs from ours: its unshare(2) is done. */
async function namespaceChanged(child: ChildProcess, file: string): Promise<void> {
  const ours = fs.statSync(`/proc/self/ns/${file}`).ino;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  for (;;) {
    if (spawnError)
      throw failedPrecondition(`Cannot make a user namespace: ${spawnError.message}`, spawnError);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw failedPrecondition(`Cannot make a user namespace: '${child.spawnargs.join(' ')}' exited`);
    }
    if (child.pid !== undefined) {
      try {
        if (fs.statSync(`/proc/${child.pid}/ns/${file}`).ino !== ours) return;
      } catch {
        // not started yet, or gone: the next turn says which
      }
    }
    if (Date.now() > deadline) {
      throw failedPrecondition(`Cannot make a user namespace: '${child.spawnargs.join(' ')}' did not start`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
