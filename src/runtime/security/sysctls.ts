// Which sysctls a pod may set. Only sysctls the kernel keeps per namespace are allowed, and only
// when the pod owns that namespace: writing them in a host namespace would change the host.
//   IPC namespace: kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*
//   network namespace: net.*
// kernel.hostname / kernel.domainname are UTS-namespaced but refused: the pod's hostname field
// sets them. Everything else (vm.*, kernel.pid_max, …) is host-wide and always refused.
import { invalidArgument } from '../../common/errors';

export interface SysctlContext {
  hostNetwork: boolean;
  hostIpc: boolean;
}

const IPC_SYSCTLS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

/**
 * Kubernetes also accepts "net/ipv4/ip_forward": when '/' comes first, '/' and '.' swap roles
 * (so "net/ipv4/conf/eth0.100/forwarding" keeps its VLAN interface's dot).
 */
export function normalizeSysctlName(name: string): string {
  const slash = name.indexOf('/');
  const dot = name.indexOf('.');
  if (slash === -1 || (dot !== -1 && dot < slash)) return name;
  return name.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
}

function namespaceOf(name: string): 'ipc' | 'net' | undefined {
  if (IPC_SYSCTLS.has(name) || name.startsWith('fs.mqueue.')) return 'ipc';
  if (name.startsWith('net.')) return 'net';
  return undefined;
}

/**
 * Checks every sysctl against the pod's namespaces; returns them with normalized names, or throws
 * InvalidArgument naming the first one refused.
 */
export function validateSysctls(sysctls: Record<string, string>, ctx: SysctlContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [raw, value] of Object.entries(sysctls)) {
    const name = normalizeSysctlName(raw);
    const refuse = (why: string) => invalidArgument(`Cannot set sysctl '${raw}': ${why}`);
    // Each dotted part becomes a path component under /proc/sys: no empty, "." or ".." parts.
    if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_\-/:@+]+)*$/.test(name) || name.split(/[./]/).some((p) => p === '..')) {
      throw refuse('not a valid sysctl name');
    }
    if (/[\n\0]/.test(value)) throw refuse('the value contains a newline or NUL');
    const ns = namespaceOf(name);
    if (ns === undefined) {
      throw refuse('it is not namespaced, so it would change the whole node');
    }
    if (ns === 'ipc' && ctx.hostIpc) throw refuse('the pod uses the host IPC namespace');
    if (ns === 'net' && ctx.hostNetwork) throw refuse('the pod uses the host network namespace');
    out[name] = value;
  }
  return out;
}
