// OCI mount options split into what mount(2) takes (flags and a data string), what is applied
// afterwards (propagation, recursive read-only), as runc reads them.
import { invalidArgument } from '../../common/errors';
import {
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_RDONLY,
  MS_BIND,
  MS_DIRSYNC,
  MS_MANDLOCK,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  MS_UNBINDABLE,
} from '../sys/engine';

export interface ParsedMountOptions {
  flags: number;
  /** Filesystem-specific options, comma-joined for mount(2)'s data argument. */
  data: string;
  /** Each entry is one mount(2) call changing propagation (MS_PRIVATE, MS_SLAVE|MS_REC, …). */
  propagation: number[];
  recursiveReadonly: boolean;
}

const SET: Record<string, number> = {
  bind: MS_BIND,
  rbind: MS_BIND | MS_REC,
  ro: MS_RDONLY,
  nosuid: MS_NOSUID,
  nodev: MS_NODEV,
  noexec: MS_NOEXEC,
  sync: MS_SYNCHRONOUS,
  dirsync: MS_DIRSYNC,
  mand: MS_MANDLOCK,
  noatime: MS_NOATIME,
  nodiratime: MS_NODIRATIME,
  relatime: MS_RELATIME,
  strictatime: MS_STRICTATIME,
  nosymfollow: MS_NOSYMFOLLOW,
  remount: MS_REMOUNT,
};

const CLEAR: Record<string, number> = {
  rw: MS_RDONLY,
  suid: MS_NOSUID,
  dev: MS_NODEV,
  exec: MS_NOEXEC,
  async: MS_SYNCHRONOUS,
  nomand: MS_MANDLOCK,
  atime: MS_NOATIME,
  diratime: MS_NODIRATIME,
  norelatime: MS_RELATIME,
  nostrictatime: MS_STRICTATIME,
  symfollow: MS_NOSYMFOLLOW,
  defaults: 0,
};

const PROPAGATION: Record<string, number> = {
  private: MS_PRIVATE,
  rprivate: MS_PRIVATE | MS_REC,
  shared: MS_SHARED,
  rshared: MS_SHARED | MS_REC,
  slave: MS_SLAVE,
  rslave: MS_SLAVE | MS_REC,
  unbindable: MS_UNBINDABLE,
  runbindable: MS_UNBINDABLE | MS_REC,
};

export function parseMountOptions(options: readonly string[]): ParsedMountOptions {
  let flags = 0;
  const data: string[] = [];
  const propagation: number[] = [];
  let recursiveReadonly = false;
  for (const option of options) {
    if (option in SET) flags |= SET[option] as number;
    else if (option in CLEAR) flags &= ~(CLEAR[option] as number);
    else if (option in PROPAGATION) propagation.push(PROPAGATION[option] as number);
    else if (option === 'rro') recursiveReadonly = true;
    else if (option === 'rrw' || option === '') continue;
    else data.push(option);
  }
  return { flags, data: data.join(','), propagation, recursiveReadonly };
}

/** The propagation flags of LinuxSpec.rootfsPropagation. */
export function rootPropagationFlags(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const flags = PROPAGATION[value];
  if (flags === undefined) {
    throw invalidArgument(
      `Cannot use root propagation '${value}': expected one of ${Object.keys(PROPAGATION).join(', ')}`,
    );
  }
  return flags;
}

/** The mount(2) flags that a new mount API mount takes as attributes (mount_setattr, fsmount). */
export function mountAttrs(flags: number): number {
  let attrs = 0;
  if (flags & MS_RDONLY) attrs |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID) attrs |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV) attrs |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC) attrs |= MOUNT_ATTR_NOEXEC;
  return attrs;
}
