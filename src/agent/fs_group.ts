// The pod's fsGroup on its volumes, as the kubelet's SetVolumeOwnership: every file and directory of
// the volume gets the fsGroup as its group and group read (and write, unless the volume is read-only)
// permission; directories get the setgid bit too, so what the containers create later belongs to the
// fsGroup as well. Links are given the group but never chmodded (that would change their targets).
//
// fsGroupChangePolicy OnRootMismatch skips the walk when the volume's root already looks done. The
// kubelet's emptyDir, configMap, secret, downwardAPI and projected plugins pass no policy (the API
// documents the field as having no effect on them), so on those the change is always made; the
// agent's volume code does the same, and the policy is here for volume types that honour it.
import fs from 'node:fs';
import path from 'node:path';
import type { Pod } from './pod_spec';

const RW_MASK = 0o660;
const RO_MASK = 0o440;
const EXEC_MASK = 0o110;
const SETGID = 0o2000;

export type FsGroupChangePolicy = 'Always' | 'OnRootMismatch';

export interface OwnershipOptions {
  /** The volume is read-only to the pod (the node writes it): group read only, no group write. */
  readOnly: boolean;
  /** Absent for the volume types whose kubelet plugin passes none: Always. */
  policy?: FsGroupChangePolicy;
}

/** The fsGroup of the pod, or undefined when its volumes keep their ownership. */
export function podFsGroup(pod: Pod): number | undefined {
  return pod.spec.securityContext?.fsGroup;
}

/** The mode bits the change adds to a file of a volume (for comparisons with what was written). */
export function fsGroupFileMode(readOnly: boolean): number {
  return readOnly ? RO_MASK : RW_MASK;
}

/**
 * The kubelet's requiresPermissionChange: the root is not a directory of the fsGroup with setgid
 * and the group permissions the volume needs.
 */
function rootMismatch(dir: string, fsGroup: number, readOnly: boolean): boolean {
  const st = fs.statSync(dir);
  if (st.gid !== fsGroup || !st.isDirectory()) return true;
  const needed = fsGroupFileMode(readOnly) | EXEC_MASK;
  return (st.mode & needed) !== needed || (st.mode & SETGID) === 0;
}

/** Gives `dir` and everything below it (links not followed) to `fsGroup`. */
export function setVolumeOwnership(
  dir: string,
  fsGroup: number | undefined,
  options: OwnershipOptions,
): void {
  if (fsGroup === undefined) return;
  if (options.policy === 'OnRootMismatch' && !rootMismatch(dir, fsGroup, options.readOnly)) return;
  const mask = fsGroupFileMode(options.readOnly);
  const change = (file: string, st: fs.Stats) => {
    fs.lchownSync(file, -1, fsGroup);
    if (st.isSymbolicLink()) return;
    const added = st.isDirectory() ? mask | SETGID | EXEC_MASK : mask;
    fs.chmodSync(file, (st.mode & 0o7777) | added);
  };
  const walk = (file: string) => {
    const st = fs.lstatSync(file);
    change(file, st);
    if (!st.isDirectory()) return;
    for (const name of fs.readdirSync(file)) walk(path.join(file, name));
  };
  walk(dir);
}
