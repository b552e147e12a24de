// The Service environment variables the kubelet gives every container (kubelet_pods.go
// getServiceEnvVarMap, pkg/kubelet/envvars): KUBERNETES_SERVICE_HOST/PORT and the Docker-link
// variables of the `kubernetes` Service in `default` always, and with enableServiceLinks those of
// every Service of the pod's namespace. Only Services with a cluster IP count (not headless ones).
import { ContainerConfigError } from './container_config_error';

/** What the agent keeps of a Service (from the API's Service informer in connected mode). */
export interface ServiceInfo {
  namespace: string;
  name: string;
  clusterIP: string;
  ports: { name?: string; port: number; protocol?: string }[];
}

/** Where a pod's containers get Service variables from: absent in standalone mode (no API). */
export interface ServiceEnvSource {
  /** True once the Services have been listed at least once. */
  synced(): boolean;
  /** Resolves when synced, or after `timeoutMs` (then synced() still says false). */
  waitSynced(timeoutMs: number): Promise<void>;
  /** Every Service known now. */
  list(): ServiceInfo[];
}

/** The kubelet's error when a pod from the API would start before the Services were read. */
export const SERVICES_NOT_SYNCED = 'services have not yet been read at least once, cannot construct envvars';

const MASTER_SERVICES = new Set(['kubernetes']);

const hasClusterIP = (s: ServiceInfo) => s.clusterIP !== '' && s.clusterIP !== 'None';

const envName = (name: string) => name.replace(/-/g, '_').toUpperCase();

/** host:port, with brackets around an IPv6 address (Go's net.JoinHostPort). */
const joinHostPort = (host: string, port: number) =>
  host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;

/** One Service's variables, in the kubelet's order (envvars.FromServices). */
export function serviceEnvVars(s: ServiceInfo): [string, string][] {
  if (!hasClusterIP(s) || s.ports.length === 0) return [];
  const prefix = envName(s.name);
  const vars: [string, string][] = [
    [`${prefix}_SERVICE_HOST`, s.clusterIP],
    [`${prefix}_SERVICE_PORT`, String(s.ports[0].port)],
  ];
  // Every named port (only the first may be unnamed).
  for (const p of s.ports)
    if (p.name) vars.push([`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port)]);
  // The Docker-link variables; Docker gives the first port a name of its own.
  s.ports.forEach((p, i) => {
    const protocol = (p.protocol || 'TCP').toLowerCase();
    const url = `${protocol}://${joinHostPort(s.clusterIP, p.port)}`;
    if (i === 0) vars.push([`${prefix}_PORT`, url]);
    const portPrefix = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
    vars.push(
      [portPrefix, url],
      [`${portPrefix}_PROTO`, protocol],
      [`${portPrefix}_PORT`, String(p.port)],
      [`${portPrefix}_ADDR`, s.clusterIP],
    );
  });
  return vars;
}

/**
 * The Service variables of a pod in `namespace`: the master Services of `default` always, the
 * namespace's own with `enableServiceLinks`. A namespace's Service of the same name as a master
 * Service replaces it (getServiceEnvVarMap keys the Services by name).
 */
export function serviceEnvMap(
  services: ServiceInfo[],
  namespace: string,
  enableServiceLinks: boolean,
): Map<string, string> {
  const byName = new Map<string, ServiceInfo>();
  for (const s of services) {
    if (!hasClusterIP(s)) continue;
    if (s.namespace === 'default' && MASTER_SERVICES.has(s.name)) {
      if (!byName.has(s.name)) byName.set(s.name, s);
    } else if (s.namespace === namespace && enableServiceLinks) {
      byName.set(s.name, s);
    }
  }
  // Sorted so the container's environment does not depend on the order the watch told of them.
  const sorted = [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  return new Map(sorted.flatMap(serviceEnvVars));
}

/** How long a pod from the API waits for the first list of Services before it is refused (tried again next sync). */
export const SERVICE_SYNC_WAIT_MS = 10_000;

/**
 * A pod's Service variables from `source` (none without one). A pod from the API waits for the
 * Services to be listed once, as the kubelet does, or a restarted node would start it without
 * KUBERNETES_SERVICE_HOST; a static pod does not wait (it may be the API server itself).
 */
export async function podServiceEnv(
  source: ServiceEnvSource | undefined,
  pod: { namespace: string; enableServiceLinks?: boolean; fromApi: boolean },
): Promise<Map<string, string>> {
  if (!source) return new Map();
  if (pod.fromApi && !source.synced()) {
    await source.waitSynced(SERVICE_SYNC_WAIT_MS);
    if (!source.synced()) throw new ContainerConfigError(SERVICES_NOT_SYNCED);
  }
  return serviceEnvMap(source.list(), pod.namespace, pod.enableServiceLinks ?? true);
}
