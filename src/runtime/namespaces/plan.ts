// Which namespaces a new container's init is born in, and which a process exec'd into a running
// container joins.
import fs from 'node:fs';
import { failedPrecondition, invalidArgument, unimplemented } from '../../common/errors';
import type { NamespaceSpec, NamespaceType } from '../spec/types';
import { NAMESPACE_FILES } from '../sys/engine';
import type { NamespacePlan } from './enter';

/**
 * A container always gets a fresh mount namespace (its root is built there); a new cgroup
 * namespace is left to the init, which unshares it after the caller placed it in its cgroups.
 */
export function containerNamespacePlan(namespaces: readonly NamespaceSpec[]): NamespacePlan {
  const plan: NamespacePlan = { join: [], create: ['mount'] };
  for (const ns of namespaces) {
    if (ns.type === 'user')
      throw unimplemented('Cannot create the container: user namespaces are not implemented');
    if (ns.type === 'mount') {
      if (ns.path !== undefined)
        throw invalidArgument(`Cannot join mount namespace '${ns.path}': a container needs its own`);
      continue;
    }
    if (ns.path !== undefined) plan.join.push({ type: ns.type, path: ns.path });
    else if (ns.type !== 'cgroup') plan.create.push(ns.type);
  }
  return plan;
}

/** Types an exec'd process joins from the caller; the mount namespace is joined by the helper itself. */
const EXEC_JOINED: readonly NamespaceType[] = ['ipc', 'uts', 'network', 'pid', 'cgroup'];

/** Every namespace of pid that differs from the caller's. */
export function execNamespacePlan(pid: number): NamespacePlan {
  if (!fs.existsSync(`/proc/${pid}/ns`))
    throw failedPrecondition(`Cannot enter process ${pid}: it is not running`);
  const join = EXEC_JOINED.filter(
    (type) => !sameNamespace(`/proc/${pid}/ns/${NAMESPACE_FILES[type]}`, type),
  ).map((type) => ({ type, path: `/proc/${pid}/ns/${NAMESPACE_FILES[type]}` }));
  return { join, create: [] };
}

/** The user namespace of pid, when it is not the caller's. */
export function execUserNamespace(pid: number): string | undefined {
  const file = `/proc/${pid}/ns/user`;
  return sameNamespace(file, 'user') ? undefined : file;
}

function sameNamespace(file: string, type: NamespaceType): boolean {
  const theirs = fs.statSync(file);
  const ours = fs.statSync(`/proc/thread-self/ns/${NAMESPACE_FILES[type]}`);
  return theirs.ino === ours.ino && theirs.dev === ours.dev;
}
