// The labels and annotations the kubelet puts on sandboxes and containers. They are how a restarted
// agent finds its pods again in the runtime: the runtime is the only state that matters.
import type { Container } from './pod_spec';

export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';

export const CONTAINER_HASH_ANNOTATION = 'io.kubernetes.container.hash';
export const RESTART_COUNT_ANNOTATION = 'io.kubernetes.container.restartCount';
export const GRACE_PERIOD_ANNOTATION = 'io.kubernetes.pod.terminationGracePeriod';
export const TERMINATION_MESSAGE_PATH_ANNOTATION = 'io.kubernetes.container.terminationMessagePath';
export const TERMINATION_MESSAGE_POLICY_ANNOTATION = 'io.kubernetes.container.terminationMessagePolicy';
export const PRESTOP_ANNOTATION = 'io.kubernetes.container.preStopHandler';

/** Labels of a pod's sandbox: the pod's own labels plus the identity labels (which win). */
export function sandboxLabels(pod: {
  name: string;
  namespace: string;
  uid: string;
  labels?: Record<string, string>;
}) {
  return {
    ...pod.labels,
    [POD_NAME_LABEL]: pod.name,
    [POD_NAMESPACE_LABEL]: pod.namespace,
    [POD_UID_LABEL]: pod.uid,
  };
}

export function containerLabels(
  pod: { name: string; namespace: string; uid: string },
  containerName: string,
) {
  return {
    [POD_NAME_LABEL]: pod.name,
    [POD_NAMESPACE_LABEL]: pod.namespace,
    [POD_UID_LABEL]: pod.uid,
    [CONTAINER_NAME_LABEL]: containerName,
  };
}

/** Stable JSON: object keys sorted, so equal specs hash equally whatever the manifest's key order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * FNV-1a 32-bit of the container's spec, in hex, as the kubelet's container hash: a change restarts
 * it. Resources and the resize policy are left out: they change in place (pod_resize.ts), and a
 * container's restart for a resize is decided there.
 */
export function containerHash(container: Container): string {
  const { resources: _resources, resizePolicy: _policy, ...hashed } = container;
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(stableJson(hashed))) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16);
}
