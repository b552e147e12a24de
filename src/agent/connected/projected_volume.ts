// Projected volumes, as the ServiceAccount admission plugin adds them to every pod (kube-api-access-*):
// one directory of files from several sources — a service account token (a TokenRequest bound to the
// pod), configMap and secret keys, and the pod's metadata (downwardAPI). The volume is read again
// every sync period; a token is requested again only when 80% of its life has passed or it is a
// day old, as the kubelet's token manager does, so a pod's client never holds an expired token.
import { metadataFieldValue } from '../env';
import type { VolumeFile } from '../manifest';
import type { KubeApi, KubeObject } from './kube_api';
import { readApiObject, tokenRequestSchema } from './api_objects';
import { sourceFiles, type SourceRef } from './source_files';

export interface ProjectedSource {
  defaultMode?: number;
  sources?: {
    serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string };
    configMap?: SourceRef;
    secret?: SourceRef & { name?: string };
    downwardAPI?: {
      items?: {
        path: string;
        mode?: number;
        fieldRef?: { fieldPath: string };
        resourceFieldRef?: VolumeFile['resourceFieldRef'];
      }[];
    };
  }[];
}

/** The metadata fields a projected downwardAPI may show; what needs the running pod is refused. */
function metadataField(pod: KubeObject, fieldPath: string): string {
  const value = metadataFieldValue(pod.metadata, fieldPath);
  if (value === undefined) throw new Error(`fieldRef '${fieldPath}' in a projected volume is not supported`);
  return value;
}

type TokenSource = NonNullable<NonNullable<ProjectedSource['sources']>[number]['serviceAccountToken']>;

const MAX_TOKEN_AGE_MS = 24 * 3600_000;

/** The service account tokens handed to pods, kept until they are due for renewal. */
export class ServiceAccountTokens {
  private readonly tokens = new Map<string, { token: Buffer; renewAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async get(api: KubeApi, pod: KubeObject, source: TokenSource): Promise<Buffer> {
    const key = [pod.metadata.uid, source.audience ?? '', source.expirationSeconds ?? '', source.path].join(
      '|',
    );
    const held = this.tokens.get(key);
    if (held && this.now() < held.renewAt) return held.token;
    const issued = this.now();
    const { token, expiresAt } = await requestToken(api, pod, source);
    const lifeMs = Math.max(0, (expiresAt ?? issued + (source.expirationSeconds ?? 3600) * 1000) - issued);
    this.tokens.set(key, { token, renewAt: issued + Math.min(0.8 * lifeMs, MAX_TOKEN_AGE_MS) });
    return token;
  }

  /** Drops the tokens of a pod that is gone. */
  forget(uid: string): void {
    for (const key of this.tokens.keys()) if (key.startsWith(`${uid}|`)) this.tokens.delete(key);
  }
}

async function requestToken(
  api: KubeApi,
  pod: KubeObject,
  source: TokenSource,
): Promise<{ token: Buffer; expiresAt?: number }> {
  const namespace = pod.metadata.namespace ?? 'default';
  const account = (pod.spec?.serviceAccountName as string | undefined) || 'default';
  const answer = await api.request<unknown>(
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          audiences: source.audience ? [source.audience] : [],
          expirationSeconds: source.expirationSeconds ?? 3600,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
        },
      },
    },
  );
  const { status } = readApiObject(tokenRequestSchema, answer, `the token of service account '${account}'`);
  const expiresAt = Date.parse(status.expirationTimestamp ?? '');
  return {
    token: Buffer.from(status.token),
    expiresAt: Number.isNaN(expiresAt) ? undefined : expiresAt,
  };
}

export async function projectedFiles(
  api: KubeApi,
  pod: KubeObject,
  projected: ProjectedSource,
  tokens: ServiceAccountTokens,
): Promise<VolumeFile[]> {
  const namespace = pod.metadata.namespace ?? 'default';
  const mode = projected.defaultMode ?? 0o644;
  const files: VolumeFile[] = [];
  for (const s of projected.sources ?? []) {
    if (s.serviceAccountToken) {
      files.push({
        path: s.serviceAccountToken.path,
        content: await tokens.get(api, pod, s.serviceAccountToken),
        mode,
      });
    } else if (s.configMap || s.secret) {
      const ref = { ...(s.configMap ?? s.secret)!, defaultMode: mode };
      // A projected secret names its Secret with `name`, where a secret volume says `secretName`.
      if (s.secret) ref.secretName = s.secret.name ?? s.secret.secretName;
      files.push(...(await sourceFiles(api, namespace, ref, !!s.secret)));
    } else if (s.downwardAPI) {
      for (const item of s.downwardAPI.items ?? []) {
        const itemMode = item.mode ?? mode;
        if (item.fieldRef) {
          const content = Buffer.from(metadataField(pod, item.fieldRef.fieldPath));
          files.push({ path: item.path, content, mode: itemMode });
        } else if (item.resourceFieldRef) {
          // Resolved by the node when it writes the volume (a limit left unset means its allocatable).
          const { resourceFieldRef } = item;
          files.push({ path: item.path, content: Buffer.alloc(0), mode: itemMode, resourceFieldRef });
        } else {
          throw new Error(
            `downwardAPI item '${item.path}' of a projected volume has no fieldRef or resourceFieldRef`,
          );
        }
      }
    } else {
      throw new Error('a projected volume source of this kind is not supported');
    }
  }
  return files;
}
