// What a pod asks of the network, checked and turned into CNI terms: the container id and CNI_ARGS
// the kubelet's runtimes pass, and the runtimeConfig for portmap and bandwidth.
import { invalidArgument } from '../common/errors';
import { bandwidthFromAnnotations } from './bandwidth';

export interface PortMapping {
  /** The CRI's enum names: TCP, UDP or SCTP. */
  protocol: string;
  containerPort: number;
  /** 0 means no host port: nothing to map. */
  hostPort: number;
  hostIp?: string;
}

export interface PodNetworkRequest {
  podId: string;
  name: string;
  namespace: string;
  uid: string;
  /** A pinned network namespace (a bind mount of /proc/<pid>/ns/net). */
  netnsPath: string;
  portMappings?: PortMapping[];
  annotations?: Record<string, string>;
}

// CNI_CONTAINERID's grammar in the spec.
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function checkPodId(podId: string): void {
  if (!CONTAINER_ID.test(podId) || podId.length > 200) {
    throw invalidArgument(
      `Cannot use pod id '${podId}' as a CNI container id: letters, digits, '_', '.', '-' only`,
    );
  }
}

export function cniArgs(req: PodNetworkRequest): Record<string, string> {
  const args: Record<string, string> = {
    IgnoreUnknown: '1',
    K8S_POD_NAMESPACE: req.namespace,
    K8S_POD_NAME: req.name,
    K8S_POD_INFRA_CONTAINER_ID: req.podId,
    K8S_POD_UID: req.uid,
  };
  for (const [key, value] of Object.entries(args)) {
    if (/[;=]/.test(value))
      throw invalidArgument(`Cannot pass ${key}='${value}' to CNI: it holds ';' or '='`);
  }
  return args;
}

/** runtimeConfig values for the plugins' capabilities; only what the pod asked for. */
export function runtimeConfigOf(req: PodNetworkRequest): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const ports = (req.portMappings ?? []).filter((p) => p.hostPort > 0).map(toCniPortMapping);
  if (ports.length > 0) config.portMappings = ports;
  const bandwidth = bandwidthFromAnnotations(req.annotations ?? {});
  if (bandwidth) config.bandwidth = bandwidth;
  return config;
}

function toCniPortMapping(p: PortMapping) {
  const protocol = (p.protocol || 'TCP').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(protocol)) {
    throw invalidArgument(`Cannot map port ${p.hostPort}: protocol '${p.protocol}' is not TCP, UDP or SCTP`);
  }
  for (const port of [p.hostPort, p.containerPort]) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw invalidArgument(`Cannot map port ${p.hostPort} to ${p.containerPort}: ports are 1 to 65535`);
    }
  }
  return {
    hostPort: p.hostPort,
    containerPort: p.containerPort,
    protocol,
    ...(p.hostIp ? { hostIP: p.hostIp } : {}),
  };
}
