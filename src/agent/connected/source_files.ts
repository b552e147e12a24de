// The files of one configMap or secret source, as a configMap or secret volume and a projected
// volume's sources both show them: keys become files, or only the listed `items` at their paths;
// modes from `mode`, else `defaultMode`, else 0644. An `optional` source that does not exist is
// empty. A leaf module: pod_api_data.ts and projected_volume.ts both read sources through it.
import type { VolumeFile } from '../manifest';
import { keyDataSchema, readApiObject } from './api_objects';
import { isNotFound, KubeApi, KubeObject } from './kube_api';

export interface SourceRef {
  name?: string;
  secretName?: string;
  items?: { key: string; path: string; mode?: number }[];
  defaultMode?: number;
  optional?: boolean;
}

const kindOf = (isSecret: boolean, ref: SourceRef) =>
  isSecret ? `secret '${ref.secretName}'` : `configMap '${ref.name}'`;

function filesOf(object: KubeObject | undefined, ref: SourceRef, isSecret: boolean): VolumeFile[] {
  const entries = new Map<string, Buffer>();
  const { data, binaryData } = readApiObject(keyDataSchema, object ?? {}, kindOf(isSecret, ref));
  for (const [k, v] of Object.entries(data ?? {}))
    entries.set(k, Buffer.from(v, isSecret ? 'base64' : 'utf8'));
  for (const [k, v] of Object.entries(binaryData ?? {})) entries.set(k, Buffer.from(v, 'base64'));
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

/** The files of one configMap or secret source (of a volume, or of a projected volume). */
export async function sourceFiles(
  api: KubeApi,
  namespace: string,
  ref: SourceRef,
  isSecret: boolean,
): Promise<VolumeFile[]> {
  const name = isSecret ? ref.secretName : ref.name;
  let object: KubeObject | undefined;
  try {
    object = await api.request(
      'GET',
      `/api/v1/namespaces/${namespace}/${isSecret ? 'secrets' : 'configmaps'}/${name}`,
    );
  } catch (err) {
    if (!(isNotFound(err) && ref.optional)) throw err;
  }
  return filesOf(object, ref, isSecret);
}
