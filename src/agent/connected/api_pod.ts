// A pod from the API server as a DesiredPod: the same validation and conversion as a manifest's,
// with the API's identity (its name, namespace and UID are the pod's, no node suffix, no hash).
import { DesiredPod, zodMessage } from '../manifest';
import { podSchema } from '../pod_spec';
import { KUBELET_CONDITIONS, PodCondition } from '../pod_status';
import type { KubeObject } from './kube_api';

export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/** What the pod spec supports that the agent does not yet (the pod fails with the reason). */
function unsupported(spec: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const notImplemented = 'is not implemented yet';
  for (const v of (spec.volumes ?? []) as Record<string, unknown>[]) {
    for (const kind of ['persistentVolumeClaim'])
      if (v[kind] !== undefined) problems.push(`volume '${v.name}' of type ${kind} ${notImplemented}`);
  }
  return problems;
}

export function isMirrorPod(pod: KubeObject): boolean {
  return pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined;
}

/** The conditions others set on the pod (a readiness gate's, DisruptionTarget): the node keeps them. */
export function othersConditions(object: KubeObject): PodCondition[] {
  const status = object.status as { conditions?: PodCondition[] } | undefined;
  return (status?.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type));
}

/** Parses an API pod; a pod the agent cannot run keeps its identity and says why (it will show Failed). */
export function apiPodToDesired(object: KubeObject): DesiredPod {
  const { name, namespace = 'default', uid = '' } = object.metadata;
  const base: DesiredPod = { file: '', source: 'api', uid, name, namespace };
  // Only what the node runs: metadata the server manages and the status are not the node's input.
  const { managedFields: _m, ...metadata } = object.metadata;
  const parsed = podSchema.safeParse({ apiVersion: 'v1', kind: 'Pod', metadata, spec: object.spec });
  if (!parsed.success) {
    return { ...base, error: `Cannot run pod '${namespace}/${name}': ${zodMessage(parsed.error)}` };
  }
  const problems = unsupported(object.spec ?? {});
  return {
    ...base,
    conditions: othersConditions(object),
    pod: parsed.data,
    error: problems.length ? `Cannot run pod '${namespace}/${name}': ${problems.join('; ')}` : undefined,
  };
}
