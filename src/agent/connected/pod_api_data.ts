// What an API pod takes from ConfigMaps and Secrets, read from the API server when the pod arrives
// and its volumes again every sync period (the Node authorizer lets a node read those its pods
// reference): the files of its configMap and
// secret volumes — keys become files, or only the listed `items` at their paths; modes from `mode`,
// else `defaultMode`, else 0644 — and the data its containers' env and envFrom refer to. An
// `optional` source that does not exist is empty; any other failure keeps the pod waiting.
import type { ApiEnvData } from '../env';
import type { PullAuth } from '../images';
import type { VolumeFile } from '../manifest';
import { dockerConfigSchema, keyDataSchema, readApiObject } from './api_objects';
import { isNotFound, KubeApi, KubeObject } from './kube_api';
import { projectedFiles, ProjectedSource, ServiceAccountTokens } from './projected_volume';
import { sourceFiles, type SourceRef } from './source_files';

/**
 * The files of each configMap, secret and projected volume, read one volume at a time: those that
 * could be read, and why the others could not (a periodic refresh keeps what the others had).
 */
export async function readApiVolumes(
  api: KubeApi,
  pod: KubeObject,
  tokens: ServiceAccountTokens,
): Promise<{ volumes: Record<string, VolumeFile[]>; failed: { name: string; err: unknown }[] }> {
  const namespace = pod.metadata.namespace ?? 'default';
  const volumes: Record<string, VolumeFile[]> = {};
  const failed: { name: string; err: unknown }[] = [];
  for (const v of (pod.spec?.volumes ?? []) as Record<string, unknown>[]) {
    const name = v.name as string;
    try {
      if (v.projected) {
        volumes[name] = await projectedFiles(api, pod, v.projected as ProjectedSource, tokens);
        continue;
      }
      const ref = (v.configMap ?? v.secret) as SourceRef | undefined;
      if (ref) volumes[name] = await sourceFiles(api, namespace, ref, v.secret !== undefined);
    } catch (err) {
      failed.push({ name, err });
    }
  }
  return { volumes, failed };
}

/** Every API volume of the pod, or the first reason one cannot be read (the pod waits for all). */
export async function resolveApiVolumes(
  api: KubeApi,
  pod: KubeObject,
  tokens: ServiceAccountTokens,
): Promise<Record<string, VolumeFile[]>> {
  const { volumes, failed } = await readApiVolumes(api, pod, tokens);
  if (failed.length > 0) throw failed[0].err;
  return volumes;
}

export function needsApiVolumes(pod: KubeObject): boolean {
  return ((pod.spec?.volumes ?? []) as Record<string, unknown>[]).some(
    (v) => v.configMap || v.secret || v.projected,
  );
}

type EnvRefs = Map<string, { kind: 'configMaps' | 'secrets'; name: string; optional: boolean }>;

/** The ConfigMaps and Secrets the containers' env and envFrom refer to. */
function envRefs(pod: KubeObject): EnvRefs {
  const refs: EnvRefs = new Map();
  const add = (kind: 'configMaps' | 'secrets', ref: { name?: string; optional?: boolean } | undefined) => {
    if (!ref?.name) return;
    const key = `${kind}/${ref.name}`;
    const before = refs.get(key);
    refs.set(key, { kind, name: ref.name, optional: (before?.optional ?? true) && !!ref.optional });
  };
  type Ref = { name?: string; optional?: boolean };
  type C = {
    env?: { valueFrom?: { configMapKeyRef?: Ref; secretKeyRef?: Ref } }[];
    envFrom?: { configMapRef?: Ref; secretRef?: Ref }[];
  };
  const spec = pod.spec ?? {};
  for (const c of [...((spec.initContainers ?? []) as C[]), ...((spec.containers ?? []) as C[])]) {
    for (const e of c.env ?? []) {
      add('configMaps', e.valueFrom?.configMapKeyRef);
      add('secrets', e.valueFrom?.secretKeyRef);
    }
    for (const f of c.envFrom ?? []) {
      add('configMaps', f.configMapRef);
      add('secrets', f.secretRef);
    }
  }
  return refs;
}

/** The data of what the env refers to, decoded; a required object that is missing is an error. */
export async function resolveApiEnv(api: KubeApi, pod: KubeObject): Promise<ApiEnvData> {
  const namespace = pod.metadata.namespace ?? 'default';
  const result: ApiEnvData = { configMaps: {}, secrets: {} };
  for (const { kind, name, optional } of envRefs(pod).values()) {
    let object: KubeObject;
    try {
      object = await api.request('GET', `/api/v1/namespaces/${namespace}/${kind.toLowerCase()}/${name}`);
    } catch (err) {
      if (isNotFound(err) && optional) continue;
      throw err;
    }
    const { data } = readApiObject(keyDataSchema, object, `${kind.slice(0, -1)} '${name}'`);
    result[kind][name] = Object.fromEntries(
      Object.entries(data ?? {}).map(([k, v]) => [
        k,
        kind === 'secrets' ? Buffer.from(v, 'base64').toString('utf8') : v,
      ]),
    );
  }
  return result;
}

export function needsApiEnv(pod: KubeObject): boolean {
  return envRefs(pod).size > 0;
}

/**
 * Registry credentials from the pod's imagePullSecrets (kubernetes.io/dockerconfigjson or the older
 * dockercfg). A secret that is missing or unreadable is skipped, as the kubelet does: the pull may
 * still work without it, and fails with the registry's reason if not.
 */
export async function resolvePullAuths(api: KubeApi, pod: KubeObject): Promise<PullAuth[]> {
  const namespace = pod.metadata.namespace ?? 'default';
  const auths: PullAuth[] = [];
  for (const { name } of (pod.spec?.imagePullSecrets ?? []) as { name: string }[]) {
    let secret: KubeObject;
    try {
      secret = await api.request('GET', `/api/v1/namespaces/${namespace}/secrets/${name}`);
    } catch (err) {
      if (isNotFound(err)) continue;
      throw err;
    }
    const data = keyDataSchema.safeParse(secret).data?.data ?? {};
    const raw = data['.dockerconfigjson'] ?? data['.dockercfg'];
    if (!raw) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
    } catch {
      continue; // not JSON: nothing usable in it
    }
    const parsed = dockerConfigSchema.safeParse(doc);
    if (!parsed.success) continue; // not a docker config: nothing usable in it
    for (const [server, a] of Object.entries(parsed.data))
      auths.push({ server, username: a.username, password: a.password, auth: a.auth });
  }
  return auths;
}
