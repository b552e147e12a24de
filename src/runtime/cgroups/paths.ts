// Cgroup paths: validated once here, so no caller can make the manager touch a hierarchy's root
// or escape it with "..".
import { invalidArgument } from '../../common/errors';

/** Where nodelet puts pod cgroups when the CRI gives no cgroup_parent. */
export const DEFAULT_CGROUP_PARENT = '/nodelet';

/** "/a/b" form: leading slash, no trailing slash, no empty, "." or ".." segments. */
export function normalizeCgroupPath(p: string): string {
  if (typeof p !== 'string' || p.trim() === '') {
    throw invalidArgument(`Cannot use cgroup path '${String(p)}': it is empty`);
  }
  const parts = p.split('/').filter((s) => s !== '');
  if (parts.length === 0) throw invalidArgument(`Cannot use cgroup path '${p}': it is a hierarchy's root`);
  for (const part of parts) {
    if (part === '.' || part === '..' || part.includes('\0')) {
      throw invalidArgument(`Cannot use cgroup path '${p}': segment '${part}' is not allowed`);
    }
  }
  return '/' + parts.join('/');
}

export interface PodCgroup {
  path: string;
  /** nodelet made it and removes it with the sandbox; a kubelet-given parent belongs to the kubelet. */
  owned: boolean;
}

/**
 * The pod's cgroup. The kubelet (cgroupfs driver) passes its own "/kubepods/<qos>/pod<uid>",
 * which we use as is; without one, nodelet makes "<DEFAULT_CGROUP_PARENT>/<sandboxId>".
 */
export function podCgroupPath(
  cgroupParent: string | undefined,
  sandboxId: string,
  defaultParent = DEFAULT_CGROUP_PARENT,
): PodCgroup {
  if (cgroupParent && cgroupParent.trim() !== '' && cgroupParent !== '/') {
    return { path: normalizeCgroupPath(cgroupParent), owned: false };
  }
  return { path: normalizeCgroupPath(`${defaultParent}/${sandboxId}`), owned: true };
}

/** A container's cgroup sits under its pod's, named by container id (as containerd + runc do). */
export function containerCgroupPath(podCgroup: string, containerId: string): string {
  if (containerId.includes('/'))
    throw invalidArgument(`Cannot use container id '${containerId}' as a cgroup name`);
  return normalizeCgroupPath(`${podCgroup}/${containerId}`);
}
