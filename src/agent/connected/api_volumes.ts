// The files of an API pod's configMap and secret volumes, read from the API server when the pod
// arrives (the Node authorizer lets a node read those its pods reference). Keys become files, or only
// the listed `items` at their paths; modes from `mode`, else `defaultMode`, else 0644. An `optional`
// source that does not exist is an empty volume; any other failure keeps the pod waiting.
import type { VolumeFile } from '../manifest';
import { isNotFound, KubeApi, KubeObject } from './kube_api';

interface SourceRef {
  name?: string;
  secretName?: string;
  items?: { key: string; path: string; mode?: number }[];
  defaultMode?: number;
  optional?: boolean;
}

function filesOf(object: KubeObject | undefined, ref: SourceRef, isSecret: boolean): VolumeFile[] {
  const entries = new Map<string, Buffer>();
  const data = (object?.data ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(data)) entries.set(k, Buffer.from(v, isSecret ? 'base64' : 'utf8'));
  for (const [k, v] of Object.entries((object?.binaryData ?? {}) as Record<string, string>))
    entries.set(k, Buffer.from(v, 'base64'));
  const mode = ref.defaultMode ?? 0o644;
  if (!ref.items) return [...entries].map(([key, content]) => ({ path: key, content, mode }));
  return ref.items.map((item) => {
    const content = entries.get(item.key);
    if (!content && !ref.optional)
      throw new Error(
        `key '${item.key}' is not in ${isSecret ? 'secret' : 'configMap'} '${ref.name ?? ref.secretName}'`,
      );
    return { path: item.path, content: content ?? Buffer.alloc(0), mode: item.mode ?? mode };
  });
}

export async function resolveApiVolumes(
  api: KubeApi,
  pod: KubeObject,
): Promise<Record<string, VolumeFile[]>> {
  const namespace = pod.metadata.namespace ?? 'default';
  const result: Record<string, VolumeFile[]> = {};
  for (const v of (pod.spec?.volumes ?? []) as Record<string, unknown>[]) {
    const isSecret = v.secret !== undefined;
    const ref = (v.configMap ?? v.secret) as SourceRef | undefined;
    if (!ref) continue;
    const name = isSecret ? ref.secretName : ref.name;
    const kind = isSecret ? 'secrets' : 'configmaps';
    let object: KubeObject | undefined;
    try {
      object = await api.request('GET', `/api/v1/namespaces/${namespace}/${kind}/${name}`);
    } catch (err) {
      if (!(isNotFound(err) && ref.optional)) throw err;
    }
    result[v.name as string] = filesOf(object, ref, isSecret);
  }
  return result;
}

export function needsApiVolumes(pod: KubeObject): boolean {
  return ((pod.spec?.volumes ?? []) as Record<string, unknown>[]).some((v) => v.configMap || v.secret);
}
