// Ephemeral containers (`kubectl debug`), as the kubelet runs them: the API's ephemeralcontainers
// subresource adds them to spec.ephemeralContainers of a running pod; each is started once in the
// pod's sandbox (before the init containers, so a pod stuck on an init container can be debugged),
// never restarted and never probed, and reported in status.ephemeralContainerStatuses. They do not
// count for the pod's phase or readiness. With targetContainerName the container joins that
// container's PID namespace (CRI NamespaceMode TARGET with its id), so it sees the target's processes.
import type { ContainerConfig } from '../gen/runtime/v1/ContainerConfig';
import { ContainerConfigError } from './container_config_error';
import type { ObservedPod } from './observed';
import type { Container, Pod } from './pod_spec';

export type EphemeralContainer = NonNullable<Pod['spec']['ephemeralContainers']>[number];

/** The ephemeral containers of the spec that never ran: the kubelet starts each one once. */
export function ephemeralToStart(pod: Pod, observed: ObservedPod): EphemeralContainer[] {
  const seen = new Set(observed.containers.map((c) => c.name));
  return (pod.spec.ephemeralContainers ?? []).filter((c) => !seen.has(c.name));
}

export function isEphemeral(pod: Pod, c: Container): boolean {
  return (pod.spec.ephemeralContainers ?? []).some((e) => e.name === c.name);
}

/**
 * The config of an ephemeral container with a target: the target's PID namespace. The target must
 * be running (the kubelet's getTargetID: "unable to find target container x" otherwise, a
 * CreateContainerConfigError tried again each sync).
 */
export function withTargetNamespace(
  config: ContainerConfig,
  pod: Pod,
  c: Container,
  observed: ObservedPod,
): ContainerConfig {
  const target = (pod.spec.ephemeralContainers ?? []).find((e) => e.name === c.name)?.targetContainerName;
  if (!target) return config;
  const running = observed.containers.find(
    (o) => o.name === target && o.state === 'running' && o.sandboxId === observed.sandboxes[0]?.id,
  );
  if (!running) throw new ContainerConfigError(`unable to find target container ${target}`);
  const sc = config.linux?.security_context ?? {};
  return {
    ...config,
    linux: {
      ...config.linux,
      security_context: {
        ...sc,
        namespace_options: { ...sc.namespace_options, pid: 'TARGET', target_id: running.id },
      },
    },
  };
}
