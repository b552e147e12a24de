// The API server as a pod source: the pods bound to this node (field selector spec.nodeName), listed
// and watched. A new pod is run; a pod with a deletionTimestamp is stopped within the grace period
// its deletion asked for, then deleted with grace 0 (the kubelet's last word, which removes it from
// the API); a pod that vanished without that (force-deleted) is stopped with its own grace period.
// Mirror pods are not run: they only show static pods, and go to the mirror-pod keeper. The
// configMap, secret and projected volumes of running pods are read again every sync period.
import type { Logger } from '../../common/log';
import { runInBackground } from '../../common/background';
import { messageOf } from '../../common/errors';
import type { PodSink, PodSourceFactory } from '../pod_source';
import { apiPodToDesired, isMirrorPod, othersConditions } from './api_pod';
import {
  needsApiEnv,
  needsApiVolumes,
  readApiVolumes,
  resolveApiEnv,
  resolveApiVolumes,
  resolvePullAuths,
} from './pod_api_data';
import { isNotFound, KubeApi, KubeObject, statusCodeOf } from './kube_api';
import { ServiceAccountTokens } from './projected_volume';
import { listWatch, ListWatchOptions } from './list_watch';
import type { PodStatusPoster } from './status_poster';

const DELETE_RETRY_MS = 5000;
const VOLUME_RETRY_MS = 2000;
/** The kubelet's default --sync-frequency: how often configMap, secret and token volumes are read again. */
export const DEFAULT_VOLUME_SYNC_MS = 60_000;

export interface ApiSourceOptions {
  api: KubeApi;
  nodeName: string;
  log: Logger;
  poster: PodStatusPoster;
  /** Told about every mirror pod seen (undefined object: it is gone). */
  onMirrorPod?: (uid: string, pod: KubeObject | undefined) => void;
  watch?: ListWatchOptions;
  /** How often the volumes of running pods are read again (default DEFAULT_VOLUME_SYNC_MS). */
  volumeSyncMs?: number;
}

const specChanged = (a: KubeObject, b: KubeObject) => JSON.stringify(a.spec) !== JSON.stringify(b.spec);
const othersChanged = (a: KubeObject, b: KubeObject) =>
  JSON.stringify(othersConditions(a)) !== JSON.stringify(othersConditions(b));
const metadataChanged = (a: KubeObject, b: KubeObject) =>
  JSON.stringify([a.metadata.labels, a.metadata.annotations]) !==
  JSON.stringify([b.metadata.labels, b.metadata.annotations]);

export function apiPodSource(options: ApiSourceOptions): PodSourceFactory {
  const { api, log, poster } = options;
  return (sink: PodSink) => {
    const known = new Map<string, KubeObject>();
    const mirrors = new Set<string>();
    const deleting = new Set<string>();
    /** Pods still waiting for their API data: they are added with the latest spec once it is read. */
    const pending = new Set<string>();
    /** Pods whose API volumes were read and handed over: those are read again every sync period. */
    const withVolumes = new Set<string>();
    const tokens = new ServiceAccountTokens();
    let closed = false;

    const finishDeletion = async (pod: KubeObject, uid: string) => {
      const { namespace, name } = pod.metadata;
      await sink.remove(uid, { graceS: pod.metadata.deletionGracePeriodSeconds });
      await poster.flush(); // its terminal status first, as the kubelet's status manager
      try {
        await api.request('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, {
          body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } },
        });
        log.info({ pod: `${namespace}/${name}`, uid }, 'pod deleted');
      } catch (err) {
        const code = statusCodeOf(err);
        if (!isNotFound(err) && code !== 409) {
          deleting.delete(uid);
          log.warn({ pod: `${namespace}/${name}`, err: messageOf(err) }, 'cannot delete pod; trying again');
          setTimeout(() => {
            const latest = known.get(uid);
            if (latest && !closed) upsert(latest);
          }, DELETE_RETRY_MS).unref();
        }
      }
    };

    // configMap and secret volumes and env are read before the pod starts; until they can be (the object is
    // missing, or the Node authorizer has not yet seen the pod), the pod waits and it is tried again.
    const addWithApiData = async (pod: KubeObject, uid: string) => {
      pending.add(uid);
      try {
        await readApiDataThenAdd(pod, uid);
      } finally {
        pending.delete(uid);
      }
    };
    const readApiDataThenAdd = async (pod: KubeObject, uid: string) => {
      for (let attempt = 0; ; attempt++) {
        try {
          const apiVolumes = await resolveApiVolumes(api, pod, tokens);
          const apiEnv = await resolveApiEnv(api, pod);
          const apiPullAuths = await resolvePullAuths(api, pod);
          const latest = known.get(uid);
          if (!closed && latest && !deleting.has(uid)) {
            sink.add({ ...apiPodToDesired(latest), apiVolumes, apiEnv, apiPullAuths });
            if (needsApiVolumes(latest)) withVolumes.add(uid);
          }
          return;
        } catch (err) {
          if (attempt === 0 || attempt % 10 === 0)
            log.warn(
              { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, err: messageOf(err) },
              'cannot read the pod volumes; retrying',
            );
        }
        await new Promise((r) => setTimeout(r, VOLUME_RETRY_MS).unref());
        if (closed || !known.has(uid) || deleting.has(uid)) return;
      }
    };

    const upsert = (pod: KubeObject) => {
      const uid = pod.metadata.uid!;
      if (isMirrorPod(pod)) {
        mirrors.add(uid);
        options.onMirrorPod?.(uid, pod);
        return;
      }
      const before = known.get(uid);
      known.set(uid, pod);
      if (!before) {
        poster.track(uid, { namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, uid });
        const pullSecrets = ((pod.spec?.imagePullSecrets ?? []) as unknown[]).length > 0;
        if (needsApiVolumes(pod) || needsApiEnv(pod) || pullSecrets)
          runInBackground(log, `read the API data of pod ${uid}`, addWithApiData(pod, uid));
        else sink.add(apiPodToDesired(pod));
      } else if (
        !pending.has(uid) &&
        !pod.metadata.deletionTimestamp &&
        (specChanged(before, pod) || metadataChanged(before, pod))
      ) {
        // Most of a pod's spec is immutable; what may change (images, say) restarts those containers.
        // New labels or annotations restart nothing: they reach the downwardAPI volumes.
        sink.update(apiPodToDesired(pod));
      } else if (!pending.has(uid) && othersChanged(before, pod)) {
        // A readiness gate's condition (or DisruptionTarget) set by someone else: the status follows.
        sink.setConditions?.(uid, othersConditions(pod));
      }
      if (pod.metadata.deletionTimestamp && !deleting.has(uid)) {
        deleting.add(uid);
        log.info(
          {
            pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
            graceS: pod.metadata.deletionGracePeriodSeconds,
          },
          'pod is being deleted',
        );
        runInBackground(log, `delete pod ${uid}`, finishDeletion(pod, uid));
      }
    };

    // What a running pod's configMaps and secrets say now, and its tokens when due: the kubelet's
    // periodic sync. A read that fails keeps the files the pod has; the next period tries again.
    let syncing = false;
    const syncVolumes = async () => {
      if (syncing || closed) return;
      syncing = true;
      try {
        for (const uid of withVolumes) {
          const pod = known.get(uid);
          if (!pod || deleting.has(uid) || closed) continue;
          // Each volume on its own: one missing Secret must not stop the others, tokens above all.
          const { volumes, failed } = await readApiVolumes(api, pod, tokens);
          if (Object.keys(volumes).length > 0) sink.refreshVolumes?.(uid, volumes);
          for (const { name, err } of failed) {
            log.warn(
              { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, volume: name, err: messageOf(err) },
              'cannot read the volume again; keeping what it has',
            );
          }
        }
      } finally {
        syncing = false;
      }
    };
    const volumeTimer = setInterval(
      () => runInBackground(log, 'sync pod volumes', syncVolumes),
      options.volumeSyncMs ?? DEFAULT_VOLUME_SYNC_MS,
    ).unref();

    const gone = (uid: string) => {
      if (mirrors.delete(uid)) return options.onMirrorPod?.(uid, undefined);
      withVolumes.delete(uid);
      tokens.forget(uid);
      if (!known.delete(uid)) return;
      poster.forget(uid);
      deleting.delete(uid);
      runInBackground(log, `stop pod ${uid}`, sink.remove(uid));
    };

    const watch = listWatch(
      api,
      '/api/v1/pods',
      {
        onList(items) {
          const present = new Set(items.map((p) => p.metadata.uid!));
          for (const uid of [...known.keys(), ...mirrors]) if (!present.has(uid)) gone(uid);
          items.forEach(upsert);
        },
        onEvent(type, pod) {
          if (type === 'DELETED') gone(pod.metadata.uid!);
          else upsert(pod);
        },
        onError(err, retryMs) {
          log.warn({ err: messageOf(err), retryMs }, 'pod watch failed; resuming');
        },
      },
      { ...options.watch, query: { fieldSelector: `spec.nodeName=${options.nodeName}` } },
    );
    return {
      synced: watch.synced,
      close() {
        closed = true;
        clearInterval(volumeTimer);
        watch.close();
      },
    };
  };
}
