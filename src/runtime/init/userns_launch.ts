// Starting a container's init inside its pod's user namespace (CRI userns_options mode POD). The
// init is Node, which can never enter a user namespace itself (it is multithreaded), so:
//   1. the caller makes the root and the idmapped volumes as detached mounts (rootfs/idmapped.ts):
//      only the initial user namespace may idmap host filesystems;
//   2. the caller's thread joins the pod's network/IPC/UTS/PID namespaces (all owned by the pod's
//      user namespace; the PID one is the pod's, catatonit its PID 1: see namespaces/userns.ts)
//      and spawns `nsenter --user=<pin> node init.js`: nsenter (single-threaded) enters the user
//      namespace as its root and execs the init;
//   3. the init gets the mounts as fds 4…, makes its mount namespace (owned by the user namespace,
//      so it may mount proc, sysfs, mqueue, devpts there) and attaches them (init/main.ts): the
//      root on its working directory, the root's mount point (unshare moves the working directory
//      into the new namespace; a descriptor opened by the caller would stay in the host's).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { invalidArgument } from '../../common/errors';
import { inUserNamespace, runInNamespaces, type NamespacePlan } from '../namespaces';
import { closePremade, premadeIdmappedMounts, type PremadeMounts } from '../rootfs';
import type { ContainerSpec } from '../spec/types';
import { CONTROL_FD } from './protocol';
import { helperEntry, spawnHelper } from './entry';
import type { StdioTarget } from './launcher';

export interface UsernsInit {
  child: ChildProcess;
  /** The premade mounts as the init's fd numbers. */
  premade: PremadeMounts;
}

/** The pinned user namespace a container joins, if it has one. */
export function userNamespaceOf(spec: ContainerSpec): string | undefined {
  const ns = spec.linux.namespaces.find((n) => n.type === 'user');
  if (ns && ns.path === undefined) {
    throw invalidArgument(
      `Cannot create container '${spec.id}': a user namespace of its own is not supported (NamespaceMode CONTAINER)`,
    );
  }
  return ns?.path;
}

export function spawnInUserNamespace(spec: ContainerSpec, userns: string, io: StdioTarget[]): UsernsInit {
  const plan = usernsPlan(spec);
  const usernsFd = fs.openSync(userns, 'r');
  let made: PremadeMounts;
  try {
    made = premadeIdmappedMounts(spec, usernsFd);
  } finally {
    fs.closeSync(usernsFd);
  }
  try {
    const fds: number[] = [];
    const pass = (fd: number): number => CONTROL_FD + fds.push(fd);
    const premade: PremadeMounts = {
      root: made.root !== undefined ? pass(made.root) : undefined,
      mounts: made.mounts.map(([index, fd]) => [index, pass(fd)]),
    };
    // uv_spawn has dup'ed the fds into the child by the time spawn returns.
    const child = runInNamespaces(plan, () =>
      spawnHelper(helperEntry('init'), io, {
        prefix: inUserNamespace(userns, []),
        extraFds: fds,
        cwd: spec.root.path,
      }),
    );
    return { child, premade };
  } finally {
    closePremade(made);
  }
}

/** The pod's namespaces the caller's thread joins; mount (the init) and user (nsenter) come later. */
function usernsPlan(spec: ContainerSpec): NamespacePlan {
  const plan: NamespacePlan = { join: [], create: [] };
  for (const ns of spec.linux.namespaces) {
    if (ns.type === 'user' || ns.type === 'mount' || ns.type === 'cgroup') continue;
    if (ns.path === undefined) {
      throw invalidArgument(
        `Cannot create container '${spec.id}': its ${ns.type} namespace must be the pod's, owned by the pod's user namespace`,
      );
    }
    plan.join.push({ type: ns.type, path: ns.path });
  }
  return plan;
}
