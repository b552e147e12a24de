import { FakeKubeApi } from './fake_api.testutil';
import type { KubeObject } from './kube_api';
import { projectedFiles, ServiceAccountTokens } from './projected_volume';

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
  const files = await projectedFiles(
    api,
    pod,
    {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
      ],
    },
    new ServiceAccountTokens(),
  );
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
    projectedFiles(
      new FakeKubeApi(),
      pod,
      {
        sources: [{ downwardAPI: { items: [{ path: 'ip', fieldRef: { fieldPath: 'status.podIP' } }] } }],
      },
      new ServiceAccountTokens(),
    ),
  ).rejects.toThrow("fieldRef 'status.podIP' in a projected volume is not supported");
});

test('a token is reused until 80% of its life has passed, then requested again; a gone pod forgets it', async () => {
  const api = new FakeKubeApi();
  let issued = 0;
  api.handler = () => ({
    status: { token: `t${++issued}`, expirationTimestamp: new Date(now + 1000_000).toISOString() },
  });
  let now = Date.parse('2026-11-23T00:00:00Z');
  const tokens = new ServiceAccountTokens(() => now);
  const source = { serviceAccountToken: { expirationSeconds: 1000, path: 'token' } };
  const read = async () =>
    (await projectedFiles(api, pod, { sources: [source] }, tokens))[0].content.toString();
  expect(await read()).toBe('t1');
  now += 799_000;
  expect(await read()).toBe('t1');
  now += 2_000;
  expect(await read()).toBe('t2');
  tokens.forget('u1');
  expect(await read()).toBe('t3');
});
