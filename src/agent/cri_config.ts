// The CRI requests for a pod: PodSandboxConfig and ContainerConfig built from the Pod spec the way the
// kubelet builds them (kuberuntime_sandbox.go, kuberuntime_container.go), including the labels and
// annotations a restarted agent reads back.
import path from 'node:path';
import type { ContainerConfig } from '../gen/runtime/v1/ContainerConfig';
import type { LinuxContainerSecurityContext } from '../gen/runtime/v1/LinuxContainerSecurityContext';
import type { NamespaceOption } from '../gen/runtime/v1/NamespaceOption';
import type { PodSandboxConfig } from '../gen/runtime/v1/PodSandboxConfig';
import type { SecurityProfile } from '../gen/runtime/v1/SecurityProfile';
import type { IDMapping } from '../gen/runtime/v1/IDMapping';
import type { Mount } from '../gen/runtime/v1/Mount';
import { expandCommand, PodRuntimeFacts, resolveEnv } from './env';
import {
  containerHash,
  containerLabels,
  CONTAINER_HASH_ANNOTATION,
  GRACE_PERIOD_ANNOTATION,
  PRESTOP_ANNOTATION,
  RESTART_COUNT_ANNOTATION,
  sandboxLabels,
  TERMINATION_MESSAGE_PATH_ANNOTATION,
  TERMINATION_MESSAGE_POLICY_ANNOTATION,
} from './labels';
import { DEFAULT_DNS_SETTINGS, DnsSettings, DnsWarning, kernelHostname, podDnsConfig } from './pod_dns';
import type { Container, Pod } from './pod_spec';
import { containerResources, QosClass } from './qos';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../common/kubelet_defaults';
import type { PodIdRange } from './userns_allocator';

export const DEFAULT_GRACE_PERIOD_S = 30;

export interface SandboxContext {
  podLogsDir: string;
  /** Where Localhost seccomp profiles live: `<root-dir>/seccomp`, as the kubelet's. */
  seccompDir: string;
  cgroupParent: string;
  nodeName: string;
  /** The node's --cluster-dns, --cluster-domain and --resolv-conf. */
  dns?: DnsSettings;
  /** Told what the kubelet would report of the pod's DNS settings (MissingClusterDNS, DNSConfigForming). */
  onDnsWarning?: (warning: DnsWarning) => void;
  /** The pod's host id range (hostUsers: false), from the node's allocator. */
  userNamespace?: PodIdRange;
}

export function podLogDirectory(podLogsDir: string, pod: Pod): string {
  return path.join(podLogsDir, `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
}

function idMappings(range: PodIdRange): IDMapping[] {
  return [{ container_id: 0, host_id: range.hostId, length: range.length }];
}

function namespaceOptions(pod: Pod, userNamespace: PodIdRange | undefined): NamespaceOption {
  const s = pod.spec;
  return {
    network: s.hostNetwork ? 'NODE' : 'POD',
    pid: s.hostPID ? 'NODE' : s.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: s.hostIPC ? 'NODE' : 'POD',
    // The kubelet's GetOrCreateUserNamespaceMappings: the same mapping for uids and gids, on the
    // sandbox and on every container. Left out for a hostUsers pod (the runtime's default, NODE).
    ...(userNamespace
      ? { userns_options: { mode: 'POD', uids: idMappings(userNamespace), gids: idMappings(userNamespace) } }
      : {}),
  };
}

/** A pod with a user namespace sees its volumes through idmapped mounts: every mount carries its mapping. */
function withIdMappings(mounts: Mount[], userNamespace: PodIdRange | undefined): Mount[] {
  if (!userNamespace) return mounts;
  return mounts.map((m) => ({
    ...m,
    uidMappings: idMappings(userNamespace),
    gidMappings: idMappings(userNamespace),
  }));
}

function seccomp(
  profile: { type: string; localhostProfile?: string } | undefined,
  seccompDir: string,
): SecurityProfile | undefined {
  if (!profile) return undefined;
  // The pod names a profile relative to the node's profile directory (the schema refuses '..' and
  // absolute names); the runtime gets the absolute path, as from the kubelet.
  if (profile.type === 'Localhost')
    return {
      profile_type: 'Localhost',
      localhost_ref: path.join(seccompDir, profile.localhostProfile ?? ''),
    };
  return { profile_type: profile.type as 'RuntimeDefault' | 'Unconfined' };
}

export function sandboxConfig(pod: Pod, attempt: number, ctx: SandboxContext): PodSandboxConfig {
  const spec = pod.spec;
  const meta = { name: pod.metadata.name, namespace: pod.metadata.namespace!, uid: pod.metadata.uid! };
  const ports = spec.containers.flatMap((c) => c.ports ?? []).filter((p) => p.hostPort);
  const privileged = [...spec.containers, ...(spec.initContainers ?? [])].some(
    (c) => c.securityContext?.privileged,
  );
  const sc = spec.securityContext;
  const dnsSettings = ctx.dns ?? DEFAULT_DNS_SETTINGS;
  // Sent for host-network pods too: ClusterFirstWithHostNet gives them the cluster DNS.
  const dns = podDnsConfig(pod, dnsSettings);
  dns.warnings.forEach((w) => ctx.onDnsWarning?.(w));
  return {
    metadata: { ...meta, attempt },
    hostname: spec.hostNetwork ? ctx.nodeName : kernelHostname(pod, dnsSettings.clusterDomain),
    log_directory: podLogDirectory(ctx.podLogsDir, pod),
    dns_config: dns.config,
    port_mappings: ports.map((p) => ({
      protocol: p.protocol ?? 'TCP',
      container_port: p.containerPort,
      host_port: p.hostPort,
      host_ip: p.hostIP ?? '',
    })),
    labels: sandboxLabels({ ...meta, labels: pod.metadata.labels }),
    annotations: pod.metadata.annotations ?? {},
    linux: {
      cgroup_parent: ctx.cgroupParent,
      sysctls: Object.fromEntries((sc?.sysctls ?? []).map((s) => [s.name, s.value])),
      security_context: {
        namespace_options: namespaceOptions(pod, ctx.userNamespace),
        privileged,
        ...(sc?.runAsUser !== undefined ? { run_as_user: { value: sc.runAsUser } } : {}),
        ...(sc?.runAsGroup !== undefined ? { run_as_group: { value: sc.runAsGroup } } : {}),
        supplemental_groups: [
          ...(sc?.supplementalGroups ?? []),
          ...(sc?.fsGroup !== undefined ? [sc.fsGroup] : []),
        ],
        ...(sc?.seccompProfile ? { seccomp: seccomp(sc.seccompProfile, ctx.seccompDir) } : {}),
        ...(sc?.seLinuxOptions ? { selinux_options: sc.seLinuxOptions } : {}),
      },
    },
  };
}

function containerSecurityContext(
  pod: Pod,
  c: Container,
  seccompDir: string,
  userNamespace: PodIdRange | undefined,
): LinuxContainerSecurityContext {
  const podSc = pod.spec.securityContext;
  const sc = c.securityContext ?? {};
  const runAsUser = sc.runAsUser ?? podSc?.runAsUser;
  const runAsGroup = sc.runAsGroup ?? podSc?.runAsGroup;
  const unmasked = sc.privileged || sc.procMount === 'Unmasked';
  return {
    capabilities: {
      add_capabilities: sc.capabilities?.add ?? [],
      drop_capabilities: sc.capabilities?.drop ?? [],
    },
    privileged: sc.privileged ?? false,
    namespace_options: namespaceOptions(pod, userNamespace),
    ...(runAsUser !== undefined ? { run_as_user: { value: runAsUser } } : {}),
    ...(runAsGroup !== undefined ? { run_as_group: { value: runAsGroup } } : {}),
    readonly_rootfs: sc.readOnlyRootFilesystem ?? false,
    supplemental_groups: [
      ...(podSc?.supplementalGroups ?? []),
      ...(podSc?.fsGroup !== undefined ? [podSc.fsGroup] : []),
    ],
    no_new_privs: sc.allowPrivilegeEscalation === false,
    masked_paths: unmasked ? [] : [...DEFAULT_MASKED_PATHS],
    readonly_paths: unmasked ? [] : [...DEFAULT_READONLY_PATHS],
    ...(sc.seccompProfile || podSc?.seccompProfile
      ? { seccomp: seccomp(sc.seccompProfile ?? podSc?.seccompProfile, seccompDir) }
      : {}),
    // The kubelet's effective security context: the container's options, else the pod's.
    ...(sc.seLinuxOptions || podSc?.seLinuxOptions
      ? { selinux_options: sc.seLinuxOptions ?? podSc?.seLinuxOptions }
      : {}),
  };
}

export interface ContainerContext {
  qos: QosClass;
  restartCount: number;
  facts: PodRuntimeFacts;
  mounts: Mount[];
  memoryCapacity: number;
  seccompDir: string;
  /** The pod's host id range (hostUsers: false): the same as its sandbox's. */
  userNamespace?: PodIdRange;
}

export function containerConfig(pod: Pod, c: Container, ctx: ContainerContext): ContainerConfig {
  const meta = { name: pod.metadata.name, namespace: pod.metadata.namespace!, uid: pod.metadata.uid! };
  const envs = resolveEnv(pod, c, ctx.facts);
  const { command, args } = expandCommand(c, envs);
  // runAsNonRoot was checked against the image's user before (run_as_non_root.ts).
  return {
    metadata: { name: c.name, attempt: ctx.restartCount },
    image: { image: c.image, user_specified_image: c.image },
    command,
    args,
    working_dir: c.workingDir ?? '',
    // KeyValue.value is `bytes` on the wire (same encoding as string): send bytes, not base64 text.
    envs: envs.map((kv) => ({ key: kv.key, value: Buffer.from(String(kv.value)) })),
    mounts: withIdMappings(ctx.mounts, ctx.userNamespace),
    labels: containerLabels(meta, c.name),
    annotations: {
      [CONTAINER_HASH_ANNOTATION]: containerHash(c),
      [RESTART_COUNT_ANNOTATION]: String(ctx.restartCount),
      [GRACE_PERIOD_ANNOTATION]: String(pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_S),
      [TERMINATION_MESSAGE_PATH_ANNOTATION]: c.terminationMessagePath ?? '/dev/termination-log',
      [TERMINATION_MESSAGE_POLICY_ANNOTATION]: c.terminationMessagePolicy ?? 'File',
      ...(c.lifecycle?.preStop ? { [PRESTOP_ANNOTATION]: JSON.stringify(c.lifecycle.preStop) } : {}),
    },
    log_path: path.join(c.name, `${ctx.restartCount}.log`),
    stdin: c.stdin ?? false,
    stdin_once: c.stdinOnce ?? false,
    tty: c.tty ?? false,
    linux: {
      resources: containerResources(c, ctx.qos, ctx.memoryCapacity),
      security_context: containerSecurityContext(pod, c, ctx.seccompDir, ctx.userNamespace),
    },
  };
}
