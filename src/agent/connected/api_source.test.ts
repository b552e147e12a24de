import pino from 'pino';
import type { DesiredPod } from '../manifest';
import type { PodSink } from '../pod_source';
import { apiPodToDesired } from './api_pod';
import { apiPodSource } from './api_source';
import { apiError, FakeKubeApi, until } from './fake_api.testutil';
import type { KubeObject } from './kube_api';
import { PodStatusPoster } from './status_poster';

const log = pino({ level: 'silent' });

/** A pod as the API server returns it, with the defaults it fills in. */
const apiPod = (name: string, uid: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  metadata: {
    name,
    namespace: 'default',
    uid,
    resourceVersion: '5',
    creationTimestamp: '2026-11-23T00:00:00Z',
    managedFields: [{}],
    ...extra,
  },
  spec: {
    containers: [
      {
        name: 'main',
        image: 'busybox',
        imagePullPolicy: 'Always',
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
      },
    ],
    nodeName: 'n1',
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    securityContext: {},
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
    priority: 0,
    preemptionPolicy: 'PreemptLowerPriority',
    tolerations: [
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ],
  },
  status: { phase: 'Pending', qosClass: 'BestEffort' },
});

function recordingSink() {
  const added: DesiredPod[] = [];
  const removed: { uid: string; graceS?: number }[] = [];
  const updated: DesiredPod[] = [];
  const sink: PodSink = {
    add: (p) => void added.push(p),
    update: (p) => void updated.push(p),
    remove: async (uid, opts) => void removed.push({ uid, graceS: opts?.graceS }),
  };
  return { sink, added, removed, updated };
}

function start(api: FakeKubeApi, items: KubeObject[]) {
  api.handler = (req) => (req.method === 'GET' ? { metadata: { resourceVersion: '7' }, items } : {});
  const { sink, added, removed, updated } = recordingSink();
  const mirrors: string[] = [];
  const source = apiPodSource({
    api,
    nodeName: 'n1',
    log,
    poster: new PodStatusPoster(api, log),
    onMirrorPod: (uid, pod) => mirrors.push(`${pod ? 'seen' : 'gone'} ${uid}`),
  })(sink);
  return { source, added, removed, updated, mirrors };
}

test('an API pod with the server defaults is run as it is, under its own name and UID', () => {
  const desired = apiPodToDesired(apiPod('web', 'u1'));
  expect(desired.error).toBeUndefined();
  expect(desired).toMatchObject({ name: 'web', namespace: 'default', uid: 'u1', source: 'api' });
  expect(desired.pod?.spec.containers[0].image).toBe('busybox');
});

test('an API pod using what the agent lacks keeps its identity and says why it cannot run', () => {
  const pod = apiPod('web', 'u1');
  pod.spec!.volumes = [{ name: 'data', persistentVolumeClaim: { claimName: 'c' } }];
  const desired = apiPodToDesired(pod);
  expect(desired.error).toBe(
    "Cannot run pod 'default/web': volume 'data' of type persistentVolumeClaim is not implemented yet",
  );
  expect(desired.uid).toBe('u1');
});

test('the pods bound to the node are listed with a field selector and run; mirror pods are not', async () => {
  const api = new FakeKubeApi();
  const mirror = apiPod('static-n1', 'm1', { annotations: { 'kubernetes.io/config.mirror': 'h' } });
  const { source, added, mirrors } = start(api, [apiPod('web', 'u1'), mirror]);
  await source.synced;
  expect(api.sent('GET')[0].options.query).toEqual({ fieldSelector: 'spec.nodeName=n1' });
  expect(added.map((p) => p.uid)).toEqual(['u1']);
  expect(mirrors).toEqual(['seen m1']);
  source.close();
});

test('a pod being deleted is stopped within the grace period its deletion asked for, then deleted with grace 0', async () => {
  const api = new FakeKubeApi();
  const { source, removed } = start(api, [apiPod('web', 'u1')]);
  await source.synced;
  await until('a watch', () => api.watches.length === 1);
  const deleting = apiPod('web', 'u1', {
    deletionTimestamp: '2026-11-23T00:01:00Z',
    deletionGracePeriodSeconds: 3,
  });
  api.watches[0].send('MODIFIED', deleting);
  api.watches[0].send('MODIFIED', deleting);
  await until('the delete', () => api.sent('DELETE').length === 1);
  expect(removed).toEqual([{ uid: 'u1', graceS: 3 }]);
  expect(api.sent('DELETE')[0]).toMatchObject({
    path: '/api/v1/namespaces/default/pods/web',
    options: { body: { gracePeriodSeconds: 0, preconditions: { uid: 'u1' } } },
  });
  source.close();
});

test('a pod that disappears from the API (deleted by force, or missing from a re-list) is stopped', async () => {
  const api = new FakeKubeApi();
  const { source, removed } = start(api, [apiPod('a', 'u1'), apiPod('b', 'u2')]);
  await source.synced;
  await until('a watch', () => api.watches.length === 1);
  api.watches[0].send('DELETED', apiPod('a', 'u1'));
  expect(removed).toEqual([{ uid: 'u1', graceS: undefined }]);
  // the next list no longer has u2
  api.handler = () => ({ metadata: { resourceVersion: '9' }, items: [] });
  api.watches[0].send('ERROR', { code: 410, metadata: { name: '' } } as unknown as KubeObject);
  await until('the re-list', () => removed.length === 2);
  expect(removed[1].uid).toBe('u2');
  source.close();
});

test('a changed spec (a new image) or new labels update the pod; a status-only change does not', async () => {
  const api = new FakeKubeApi();
  const { source, updated } = start(api, [apiPod('web', 'u1')]);
  await source.synced;
  await until('a watch', () => api.watches.length === 1);
  const withStatus = apiPod('web', 'u1');
  withStatus.status = { phase: 'Running' };
  api.watches[0].send('MODIFIED', withStatus);
  expect(updated).toEqual([]);
  const newImage = apiPod('web', 'u1');
  (newImage.spec!.containers as { image: string }[])[0].image = 'busybox:2';
  api.watches[0].send('MODIFIED', newImage);
  expect(updated.map((p) => p.pod?.spec.containers[0].image)).toEqual(['busybox:2']);
  // New labels are an update too (for the downwardAPI volumes); the spec is the same.
  const relabelled = apiPod('web', 'u1', { labels: { tier: 'web' } });
  (relabelled.spec!.containers as { image: string }[])[0].image = 'busybox:2';
  api.watches[0].send('MODIFIED', relabelled);
  expect(updated.map((p) => p.pod?.metadata.labels)).toEqual([undefined, { tier: 'web' }]);
  source.close();
});

/** An API holding one pod whose volume 'cfg' is ConfigMap 'c'; `data` answers reads of it (or throws). */
function withConfigMapPod(data: () => Record<string, string>) {
  const api = new FakeKubeApi();
  const pod = apiPod('web', 'u1');
  pod.spec!.volumes = [{ name: 'cfg', configMap: { name: 'c' } }];
  api.handler = (req) => {
    if (req.path === '/api/v1/pods') return { metadata: { resourceVersion: '7' }, items: [pod] };
    if (req.path.endsWith('/configmaps/c')) return { metadata: { name: 'c' }, data: data() };
    return {};
  };
  return { api, pod };
}

test('a pod with a configMap volume runs once the configMap could be read, with its files', async () => {
  let exists = false;
  const { api } = withConfigMapPod(() => {
    if (!exists) throw apiError(403, 'Forbidden'); // the Node authorizer has not seen the pod yet
    return { k: 'v' };
  });
  const { sink, added } = recordingSink();
  const source = apiPodSource({ api, nodeName: 'n1', log, poster: new PodStatusPoster(api, log) })(sink);
  await source.synced;
  expect(added).toEqual([]);
  exists = true;
  await until('the pod', () => added.length === 1);
  expect(added[0].apiVolumes?.cfg.map((f) => [f.path, f.content.toString()])).toEqual([['k', 'v']]);
  source.close();
});

test('the volumes of a running pod are read again every sync period; a failed read keeps what it has', async () => {
  let value = 'v1';
  let failing = false;
  const { api } = withConfigMapPod(() => {
    if (failing) throw apiError(500, 'InternalError');
    return { k: value };
  });
  const { sink, added } = recordingSink();
  const refreshed: string[] = [];
  sink.refreshVolumes = (uid, volumes) => void refreshed.push(`${uid}:${volumes.cfg[0].content}`);
  const source = apiPodSource({
    api,
    nodeName: 'n1',
    log,
    poster: new PodStatusPoster(api, log),
    volumeSyncMs: 20,
  })(sink);
  await until('the pod', () => added.length === 1);
  failing = true;
  const reads = api.requests.length;
  await until('a failed read', () => api.requests.length > reads + 1);
  expect(refreshed.filter((r) => r !== 'u1:v1')).toEqual([]);
  failing = false;
  value = 'v2';
  await until('the new content', () => refreshed.includes('u1:v2'));
  source.close();
});

test('a pod still waiting for its configMap is not started by a label change, and starts with the new labels', async () => {
  let exists = false;
  const { api, pod: withVolume } = withConfigMapPod(() => {
    if (!exists) throw apiError(403, 'Forbidden');
    return { k: 'v' };
  });
  const { sink, added, updated } = recordingSink();
  const source = apiPodSource({ api, nodeName: 'n1', log, poster: new PodStatusPoster(api, log) })(sink);
  await source.synced;
  await until('a watch', () => api.watches.length === 1);
  const relabelled = { ...withVolume, metadata: { ...withVolume.metadata, labels: { tier: 'web' } } };
  api.watches[0].send('MODIFIED', relabelled);
  expect(updated).toEqual([]);
  exists = true;
  await until('the pod', () => added.length === 1);
  expect(added[0].pod?.metadata.labels).toEqual({ tier: 'web' });
  expect(added[0].apiVolumes?.cfg).toHaveLength(1);
  source.close();
});
