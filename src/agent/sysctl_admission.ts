// Which sysctls a pod may ask for, as the kubelet's sysctl admission (pkg/kubelet/sysctl): the safe
// ones (namespaced and isolated: they touch only the pod) and those --allowed-unsafe-sysctls names
// (a trailing `*` takes a prefix), and only when the pod owns the namespace the sysctl lives in: net.*
// with hostNetwork or kernel.shm*/msg*/sem/fs.mqueue.* with hostIPC would change the host's. A pod
// that asks for anything else is rejected before its sandbox exists: phase Failed, reason
// SysctlForbidden, "Pod was rejected: forbidden sysctl: …", as the kubelet does.
import os from 'node:os';
import type { Pod } from './pod_spec';

export const SYSCTL_FORBIDDEN_REASON = 'SysctlForbidden';

type Namespace = 'ipc' | 'net';

/** The kubelet's safe sysctls (1.36), each with the kernel that first namespaced it. */
const SAFE_SYSCTLS: { name: string; kernel?: [number, number] }[] = [
  { name: 'kernel.shm_rmid_forced' },
  { name: 'net.ipv4.ip_local_port_range' },
  { name: 'net.ipv4.tcp_syncookies' },
  { name: 'net.ipv4.ping_group_range' },
  { name: 'net.ipv4.ip_unprivileged_port_start' },
  { name: 'net.ipv4.ip_local_reserved_ports', kernel: [3, 16] },
  { name: 'net.ipv4.tcp_keepalive_time', kernel: [4, 5] },
  { name: 'net.ipv4.tcp_fin_timeout', kernel: [4, 6] },
  { name: 'net.ipv4.tcp_keepalive_intvl', kernel: [4, 5] },
  { name: 'net.ipv4.tcp_keepalive_probes', kernel: [4, 5] },
  { name: 'net.ipv4.tcp_rmem', kernel: [4, 15] },
  { name: 'net.ipv4.tcp_wmem', kernel: [4, 15] },
];

/** The kubelet's policy validation of --allowed-unsafe-sysctls entries. */
const MAX_LENGTH = 253;
const SEGMENT = '[a-z0-9]([-_a-z0-9]*[a-z0-9])?';
const PATTERN = `(${SEGMENT}[\\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]`;
const PATTERN_RE = new RegExp(`^${PATTERN}$`);

/** "net/ipv4/ip_forward" is "net.ipv4.ip_forward": when '/' comes first, '/' and '.' swap roles. */
export function dotted(name: string): string {
  const slash = name.indexOf('/');
  const dot = name.indexOf('.');
  if (slash === -1 || (dot !== -1 && dot < slash)) return name;
  return name.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
}

/** The namespace the kernel keeps a sysctl (or a prefix of sysctls) in, as the kubelet knows them. */
function namespacedBy(name: string): Namespace | undefined {
  if (name === 'kernel.sem') return 'ipc';
  if (['kernel.shm', 'kernel.msg', 'fs.mqueue.'].some((p) => name.startsWith(p))) return 'ipc';
  if (name.startsWith('net.')) return 'net';
  return undefined;
}

function kernelAtLeast(release: string, [major, minor]: [number, number]): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) return false;
  return Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor);
}

export class SysctlAdmission {
  private readonly sysctls = new Map<string, Namespace>();
  private readonly prefixes = new Map<string, Namespace>();

  /**
   * The safe sysctls this kernel has, plus `allowedUnsafe` (names or `prefix*` patterns). Throws on a
   * pattern that is malformed or not known to be namespaced, as the kubelet refuses to start.
   */
  constructor(allowedUnsafe: string[] = [], kernelRelease = os.release()) {
    const safe = SAFE_SYSCTLS.filter((s) => !s.kernel || kernelAtLeast(kernelRelease, s.kernel));
    for (const raw of [...safe.map((s) => s.name), ...allowedUnsafe]) {
      if (raw.length > MAX_LENGTH || !PATTERN_RE.test(raw)) {
        throw new Error(
          `sysctl "${raw}" must have at most ${MAX_LENGTH} characters and match regex ${PATTERN}`,
        );
      }
      const s = dotted(raw);
      const prefix = s.endsWith('*') ? s.slice(0, -1) : undefined;
      const ns = namespacedBy(prefix ?? s);
      if (!ns) throw new Error(`the sysctl${prefix ? 's' : ''} "${s}" are not known to be namespaced`);
      if (prefix !== undefined) this.prefixes.set(prefix, ns);
      else this.sysctls.set(s, ns);
    }
  }

  /** Why the pod may not run (the kubelet's admission message), or undefined when it may. */
  check(pod: Pod): string | undefined {
    const hostNet = pod.spec.hostNetwork === true;
    const hostIPC = pod.spec.hostIPC === true;
    for (const { name } of pod.spec.securityContext?.sysctls ?? []) {
      const s = dotted(name);
      const ns = this.sysctls.get(s) ?? [...this.prefixes].find(([p]) => s.startsWith(p))?.[1];
      if (!ns) return `forbidden sysctl: "${s}" not allowlisted`;
      if ((ns === 'ipc' && hostIPC) || (ns === 'net' && hostNet)) {
        return `forbidden sysctl: "${s}" not allowed with host ${ns} enabled`;
      }
    }
    return undefined;
  }
}
