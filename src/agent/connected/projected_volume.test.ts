import { FakeKubeApi } from './fake_api.testutil';
import type { KubeObject } from './kube_api';
import { projectedFiles } from './projected_volume';

const pod: KubeObject = {
  metadata: { name: 'web', namespace: 'ns', uid: 'u1', labels: { app: 'web' } },
  spec: { serviceAccountName: 'robot', containers: [] },
};

test('a kube-api-access volume gets a token bound to the pod, the CA configMap key and the namespace', async () => {
  const api = new FakeKubeApi();
  api.handler = (req) => {
    if (req.path.endsWith('/serviceaccounts/robot/token')) return { status: { token: 'header.payload.sig' } };
    if (req.path === '/api/v1/namespaces/ns/configmaps/kube-root-ca.crt')
      return { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'PEM' } };
    throw new Error(`unexpected ${req.method} ${req.path}`);
  };
  const files = await projectedFiles(api, pod, {
    defaultMode: 0o644,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
    ],
  });
  expect(files.map((f) => [f.path, f.content.toString(), f.mode])).toEqual([
    ['token', 'header.payload.sig', 0o644],
    ['ca.crt', 'PEM', 0o644],
    ['namespace', 'ns', 0o644],
  ]);
  expect(api.sent('POST')[0].options.body).toMatchObject({
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', name: 'web', uid: 'u1' } },
  });
});

test('a projected downwardAPI field that needs the running pod is refused with its path', async () => {
  await expect(
    projectedFiles(new FakeKubeApi(), pod, {
      sources: [{ downwardAPI: { items: [{ path: 'ip', fieldRef: { fieldPath: 'status.podIP' } }] } }],
    }),
  ).rejects.toThrow("fieldRef 'status.podIP' in a projected volume is not supported");
});
