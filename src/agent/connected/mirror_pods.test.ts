import pino from 'pino';
import { parseManifest } from '../manifest';
import { FakeKubeApi } from './fake_api.testutil';
import type { KubeObject } from './kube_api';
import { MirrorPods } from './mirror_pods';
import { PodStatusPoster } from './status_poster';

const log = pino({ level: 'silent' });
const staticPod = parseManifest(
  '/m/web.yaml',
  'apiVersion: v1\nkind: Pod\nmetadata: { name: web, labels: { app: web } }\nspec:\n  containers: [{ name: main, image: busybox }]\n',
  'n1',
);

function setup() {
  const api = new FakeKubeApi();
  api.handler = (req) =>
    req.method === 'POST'
      ? {
          ...(req.options.body as KubeObject),
          metadata: { ...(req.options.body as KubeObject).metadata, uid: 'mirror-uid' },
        }
      : {};
  const mirrors = new MirrorPods(
    api,
    () => ({ name: 'n1', uid: 'node-uid' }),
    new PodStatusPoster(api, log),
    log,
  );
  return { api, mirrors };
}

test('a static pod gets a mirror pod: its copy, annotated with its hash, owned by the Node, bound to it', async () => {
  const { api, mirrors } = setup();
  await mirrors.reconcile([staticPod]);
  const created = api.sent('POST', '/api/v1/namespaces/default/pods')[0].options.body as KubeObject;
  expect(created.metadata).toMatchObject({
    name: 'web-n1',
    namespace: 'default',
    labels: { app: 'web' },
    annotations: { 'kubernetes.io/config.mirror': staticPod.uid },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid', controller: true }],
  });
  expect(created.metadata.uid).toBeUndefined();
  expect(created.spec?.nodeName).toBe('n1');
  await mirrors.reconcile([staticPod]);
  expect(api.sent('POST')).toHaveLength(1);
});

test('a mirror pod that was deleted is created again; one without its static pod is deleted', async () => {
  const { api, mirrors } = setup();
  await mirrors.reconcile([staticPod]);
  mirrors.observe('mirror-uid', undefined);
  await mirrors.reconcile([staticPod]);
  expect(api.sent('POST')).toHaveLength(2);
  const stale: KubeObject = {
    metadata: {
      name: 'old-n1',
      namespace: 'default',
      uid: 'u9',
      annotations: { 'kubernetes.io/config.mirror': 'h' },
    },
  };
  mirrors.observe('u9', stale);
  await mirrors.reconcile([staticPod]);
  expect(api.sent('DELETE')).toMatchObject([
    {
      path: '/api/v1/namespaces/default/pods/old-n1',
      options: { body: { gracePeriodSeconds: 0, preconditions: { uid: 'u9' } } },
    },
  ]);
});
