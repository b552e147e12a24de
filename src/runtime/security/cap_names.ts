// Capability names and numbers (linux/capability.h). Specs carry OCI names ("CAP_CHOWN"); the CRI
// sends them without the prefix ("CHOWN"), so both are accepted on input.
import fs from 'node:fs';
import { invalidArgument } from '../../common/errors';

export const CAP_NAMES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** "chown", "CHOWN" or "CAP_CHOWN" → "CAP_CHOWN"; throws for a name the kernel does not know. */
export function normalizeCapName(name: string): string {
  const upper = name.trim().toUpperCase();
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!CAP_NAMES.includes(full)) {
    throw invalidArgument(`Cannot use capability '${name}': unknown capability`);
  }
  return full;
}

export function capNumber(name: string): number {
  return CAP_NAMES.indexOf(normalizeCapName(name));
}

/** The highest capability this kernel knows (caps above it cannot be granted). */
export function lastCap(procRoot = '/proc'): number {
  try {
    const n = Number(fs.readFileSync(`${procRoot}/sys/kernel/cap_last_cap`, 'utf8').trim());
    if (Number.isInteger(n) && n >= 0) return Math.min(n, CAP_NAMES.length - 1);
  } catch {
    // /proc not mounted (a unit test's fake root): assume every name we know.
  }
  return CAP_NAMES.length - 1;
}

/** The set of names as a kernel bit mask. */
export function capMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const name of names) mask |= 1n << BigInt(capNumber(name));
  return mask;
}
