// Which capabilities a container process gets, decided the way containerd's CRI plugin does:
// the default set, then "ALL" adds/drops, then named adds, then named drops, then ambient.
// A non-root process gets the same sets as root, as with runc: execve clears them for a plain
// binary, but a binary with file capabilities (CoreDNS's cap_net_bind_service) keeps those it
// held before execve, and under no_new_privs only those.
import type { CapabilitySets } from '../spec';
import { invalidArgument } from '../../common/errors';
import { CAP_NAMES, lastCap, normalizeCapName } from './cap_names';

/** containerd's (and Docker's) default capability set. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

export interface CapabilityRequest {
  /** CRI add_capabilities: names with or without "CAP_", or "ALL". */
  add?: readonly string[];
  drop?: readonly string[];
  /** CRI add_ambient_capabilities. */
  addAmbient?: readonly string[];
  privileged?: boolean;
  uid: number;
  /** Highest capability number to grant for "ALL" and privileged; defaults to the kernel's cap_last_cap. */
  lastCap?: number;
}

const isAll = (name: string) =>
  name.trim().toUpperCase() === 'ALL' || name.trim().toUpperCase() === 'CAP_ALL';

export function capabilitiesFor(req: CapabilityRequest): CapabilitySets {
  const all = CAP_NAMES.slice(0, (req.lastCap ?? lastCap()) + 1);
  let bounding: Set<string>;
  if (req.privileged) {
    bounding = new Set(all);
  } else {
    bounding = new Set(DEFAULT_CAPABILITIES);
    const add = req.add ?? [];
    const drop = req.drop ?? [];
    if (add.some(isAll)) bounding = new Set(all);
    if (drop.some(isAll)) bounding = new Set();
    for (const name of add) if (!isAll(name)) bounding.add(normalizeCapName(name));
    for (const name of drop) if (!isAll(name)) bounding.delete(normalizeCapName(name));
  }
  const ambient = [...new Set((req.addAmbient ?? []).map(normalizeCapName))];
  for (const cap of ambient) {
    if (!bounding.has(cap)) {
      throw invalidArgument(
        `Cannot add ambient capability '${cap}': it is not in the container's capabilities`,
      );
    }
  }
  const ordered = CAP_NAMES.filter((c) => bounding.has(c));
  return {
    bounding: ordered,
    effective: [...ordered],
    permitted: [...ordered],
    inheritable: CAP_NAMES.filter((c) => ambient.includes(c)),
    ambient: CAP_NAMES.filter((c) => ambient.includes(c)),
  };
}
