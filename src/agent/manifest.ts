// Static pod manifests: one Pod per file (YAML or JSON), given the identity the kubelet gives static
// pods — name `<name>-<node>`, namespace `default` when absent, and a UID hashed from the node, the
// file and the content, so an edited file is a new pod (the old one is stopped, the new one started).
import { createHash } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import type { ZodError } from 'zod';
import { issuesText } from '../common/schema';
import type { ApiEnvData } from './env';
import type { PullAuth } from './images';
import { Pod, podSchema } from './pod_spec';
import type { PodCondition } from './pod_status';

const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';
const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
export const CONFIG_SEEN_ANNOTATION = 'kubernetes.io/config.seen';

/** One file of a volume whose content comes from the API server. */
export interface VolumeFile {
  path: string;
  content: Buffer;
  mode: number;
  /**
   * A projected downwardAPI item of a container's resources: its value needs the node's allocatable,
   * so the node fills `content` in when it writes the volume.
   */
  resourceFieldRef?: { resource: string; containerName?: string; divisor?: string | number };
}

/** A pod the node should run, or the reason it cannot (then `pod` may be absent). */
export interface DesiredPod {
  /** The manifest file of a static pod ('' for a pod from the API server). */
  file: string;
  /** Where the pod comes from: a manifest file (static pod) or the API server. Absent means 'file'. */
  source?: 'file' | 'api';
  /** The files of configMap and secret volumes, by volume name, read from the API (connected mode). */
  apiVolumes?: Record<string, VolumeFile[]>;
  /** The ConfigMaps and Secrets its containers' env refers to, read from the API (connected mode). */
  apiEnv?: ApiEnvData;
  /** Registry credentials from its imagePullSecrets, read from the API (connected mode). */
  apiPullAuths?: PullAuth[];
  /** Conditions others set on the API pod (readiness gates, DisruptionTarget) (connected mode). */
  conditions?: PodCondition[];
  uid: string;
  name: string;
  namespace: string;
  pod?: Pod;
  /** Why the manifest cannot be run: shown as the pod's status, never silently ignored. */
  error?: string;
}

/** A zod error as one line: where, and what is wrong there. */
export const zodMessage = (err: ZodError): string => issuesText(err);

/** Parses one manifest file's content into the pod it describes, with its static-pod identity. */
export function parseManifest(file: string, content: string, nodeName: string): DesiredPod {
  const uidOf = (extra: string) =>
    createHash('md5').update(`host:${nodeName}`).update(`file:${file}`).update(extra).digest('hex');
  let raw: unknown;
  try {
    const docs = parseAllDocuments(content).filter((d) => d.contents !== null);
    if (docs.length !== 1) throw new Error(`expected exactly one Pod, found ${docs.length} documents`);
    if (docs[0].errors.length > 0) throw new Error(docs[0].errors[0].message);
    raw = docs[0].toJS();
  } catch (err) {
    return invalid(
      file,
      uidOf(content),
      `Cannot parse manifest '${file}': ${(err as Error).message}`,
      nodeName,
    );
  }
  const rawMeta = (raw as { metadata?: { name?: unknown; namespace?: unknown } })?.metadata;
  const parsed = podSchema.safeParse(raw);
  const canonical = JSON.stringify(raw);
  if (!parsed.success) {
    const base = typeof rawMeta?.name === 'string' ? rawMeta.name : undefined;
    const ns = typeof rawMeta?.namespace === 'string' ? rawMeta.namespace : undefined;
    return invalid(
      file,
      uidOf(canonical),
      `Cannot run manifest '${file}': ${zodMessage(parsed.error)}`,
      nodeName,
      base,
      ns,
    );
  }
  const pod = parsed.data;
  const uid = pod.metadata.uid ?? uidOf(canonical);
  const name = `${pod.metadata.name}-${nodeName.toLowerCase()}`;
  const namespace = pod.metadata.namespace ?? 'default';
  pod.metadata = {
    ...pod.metadata,
    name,
    namespace,
    uid,
    annotations: {
      ...pod.metadata.annotations,
      [CONFIG_HASH_ANNOTATION]: uid,
      [CONFIG_SOURCE_ANNOTATION]: 'file',
      [CONFIG_SEEN_ANNOTATION]: new Date().toISOString(),
    },
  };
  const unsupported = standaloneProblems(pod);
  return {
    file,
    uid,
    name,
    namespace,
    pod,
    error: unsupported.length ? `Cannot run pod '${name}': ${unsupported.join('; ')}` : undefined,
  };
}

function invalid(
  file: string,
  uid: string,
  error: string,
  nodeName: string,
  base?: string,
  ns?: string,
): DesiredPod {
  const name = `${
    base ??
    file
      .split('/')
      .pop()!
      .replace(/\.[^.]*$/, '')
  }-${nodeName.toLowerCase()}`;
  return { file, uid, name, namespace: ns ?? 'default', error };
}

/** What a static pod may not use without an API server (PreventStaticPodAPIReferences). */
function standaloneProblems(pod: Pod): string[] {
  const problems: string[] = [];
  // Static pods may not reference API objects even in connected mode (PreventStaticPodAPIReferences).
  const needsApi = 'needs the API server, which a static pod may not reference';
  for (const v of pod.spec.volumes ?? []) {
    for (const kind of ['configMap', 'secret', 'projected', 'persistentVolumeClaim'] as const) {
      if (v[kind] !== undefined) problems.push(`volume '${v.name}' of type ${kind} ${needsApi}`);
    }
    const kinds = ['emptyDir', 'hostPath', 'downwardAPI', 'image'].filter(
      (k) => v[k as keyof typeof v] !== undefined,
    );
    if (kinds.length === 0 && problems.length === 0)
      problems.push(`volume '${v.name}' has no supported source`);
  }
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef)
        problems.push(`env '${e.name}' of container '${c.name}' uses configMapKeyRef, which ${needsApi}`);
      if (e.valueFrom?.secretKeyRef)
        problems.push(`env '${e.name}' of container '${c.name}' uses secretKeyRef, which ${needsApi}`);
    }
    if ((c.envFrom ?? []).length > 0) problems.push(`envFrom of container '${c.name}' ${needsApi}`);
  }
  if ((pod.spec.imagePullSecrets ?? []).length > 0) problems.push(`imagePullSecrets ${needsApi}`);
  return problems;
}
