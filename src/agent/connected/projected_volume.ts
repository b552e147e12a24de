// Projected volumes, as the ServiceAccount admission plugin adds them to every pod (kube-api-access-*):
// one directory of files from several sources — a service account token (a TokenRequest bound to the
// pod), configMap and secret keys, and the pod's metadata (downwardAPI). Written once at pod start:
// the token is not refreshed (the API server's default --service-account-extend-token-expiration
// makes the kubelet's 3607 s tokens last a year; shorter ones run out).
import { metadataFieldValue } from '../env';
import type { VolumeFile } from '../manifest';
import type { KubeApi, KubeObject } from './kube_api';
import { SourceRef, sourceFiles } from './pod_api_data';

export interface ProjectedSource {
  defaultMode?: number;
  sources?: {
    serviceAccountToken?: { audience?: string; expirationSeconds?: number; path: string };
    configMap?: SourceRef;
    secret?: SourceRef & { name?: string };
    downwardAPI?: { items?: { path: string; mode?: number; fieldRef?: { fieldPath: string } }[] };
  }[];
}

/** The metadata fields a projected downwardAPI may show; what needs the running pod is refused. */
function metadataField(pod: KubeObject, fieldPath: string): string {
  const value = metadataFieldValue(pod.metadata, fieldPath);
  if (value === undefined) throw new Error(`fieldRef '${fieldPath}' in a projected volume is not supported`);
  return value;
}

async function token(
  api: KubeApi,
  pod: KubeObject,
  source: NonNullable<NonNullable<ProjectedSource['sources']>[number]['serviceAccountToken']>,
): Promise<Buffer> {
  const namespace = pod.metadata.namespace ?? 'default';
  const account = (pod.spec?.serviceAccountName as string | undefined) || 'default';
  const answer = await api.request<{ status: { token: string } }>(
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
  return Buffer.from(answer.status.token);
}

export async function projectedFiles(
  api: KubeApi,
  pod: KubeObject,
  projected: ProjectedSource,
): Promise<VolumeFile[]> {
  const namespace = pod.metadata.namespace ?? 'default';
  const mode = projected.defaultMode ?? 0o644;
  const files: VolumeFile[] = [];
  for (const s of projected.sources ?? []) {
    if (s.serviceAccountToken) {
      files.push({
        path: s.serviceAccountToken.path,
        content: await token(api, pod, s.serviceAccountToken),
        mode,
      });
    } else if (s.configMap || s.secret) {
      const ref = { ...(s.configMap ?? s.secret)!, defaultMode: mode };
      // A projected secret names its Secret with `name`, where a secret volume says `secretName`.
      if (s.secret) ref.secretName = s.secret.name ?? s.secret.secretName;
      files.push(...(await sourceFiles(api, namespace, ref, !!s.secret)));
    } else if (s.downwardAPI) {
      for (const item of s.downwardAPI.items ?? []) {
        if (!item.fieldRef)
          throw new Error(`downwardAPI item '${item.path}' of a projected volume has no fieldRef`);
        files.push({
          path: item.path,
          content: Buffer.from(metadataField(pod, item.fieldRef.fieldPath)),
          mode: item.mode ?? mode,
        });
      }
    } else {
      throw new Error('a projected volume source of this kind is not supported');
    }
  }
  return files;
}
