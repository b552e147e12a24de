import { readApiVolumes, resolveApiEnv, resolvePullAuths } from './pod_api_data';
import { apiError, FakeKubeApi } from './fake_api.testutil';
import type { KubeObject } from './kube_api';
import { ServiceAccountTokens } from './projected_volume';
import { nodeConditionsSchema, readApiObject, tokenRequestSchema } from './api_objects';

const pod = (spec: Record<string, unknown>): KubeObject => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
  spec: { containers: [], ...spec },
});

/** An API server whose objects have fields of the wrong shape. */
function malformed() {
  const fake = new FakeKubeApi();
  fake.handler = (req) => {
    if (req.path === '/api/v1/namespaces/ns/configmaps/cfg')
      return { metadata: { name: 'cfg' }, data: { a: 1 } };
    if (req.path === '/api/v1/namespaces/ns/secrets/s') return { metadata: { name: 's' }, data: ['x'] };
    if (req.path === '/api/v1/namespaces/ns/secrets/pull')
      return {
        metadata: { name: 'pull' },
        data: { '.dockerconfigjson': Buffer.from('{"auths":7}').toString('base64') },
      };
    if (req.path.endsWith('/serviceaccounts/default/token')) return { status: { expirationTimestamp: 'x' } };
    throw apiError(404, 'NotFound');
  };
  return fake;
}

test('a configMap whose data holds a number fails its volume, naming the key', async () => {
  const { failed } = await readApiVolumes(
    malformed(),
    pod({ volumes: [{ name: 'c', configMap: { name: 'cfg' } }] }),
    new ServiceAccountTokens(),
  );
  expect(failed.map((f) => (f.err as Error).message)).toEqual([
    "Cannot read configMap 'cfg': data.a: Expected string, received number",
  ]);
});

test('a secret whose data is a list fails the env that refers to it, naming the field', async () => {
  const env = [{ name: 'P', valueFrom: { secretKeyRef: { name: 's', key: 'p' } } }];
  await expect(resolveApiEnv(malformed(), pod({ containers: [{ name: 'c', env }] }))).rejects.toThrow(
    "Cannot read secret 's': data: Expected object, received array",
  );
});

test('a pull secret that is not a docker config is skipped, as the kubelet does', async () => {
  expect(await resolvePullAuths(malformed(), pod({ imagePullSecrets: [{ name: 'pull' }] }))).toEqual([]);
});

test('a TokenRequest answer without its token fails the projected volume, naming the field', async () => {
  const projected = { sources: [{ serviceAccountToken: { path: 'token' } }] };
  const { failed } = await readApiVolumes(
    malformed(),
    pod({ volumes: [{ name: 'p', projected }] }),
    new ServiceAccountTokens(),
  );
  expect((failed[0].err as Error).message).toBe(
    "Cannot read the token of service account 'default': status.token: Required",
  );
  expect(() => readApiObject(tokenRequestSchema, { status: { token: 5 } }, 'x')).toThrow(
    'Cannot read x: status.token: Expected string, received number',
  );
});

test("the node's conditions are read with defaults, and a wrong status is named", () => {
  expect(readApiObject(nodeConditionsSchema, [{ type: 'Ready', status: 'True' }], 'c')).toEqual([
    { type: 'Ready', status: 'True', reason: '', message: '', lastHeartbeatTime: '', lastTransitionTime: '' },
  ]);
  expect(() => readApiObject(nodeConditionsSchema, [{ type: 'Ready', status: 'yes' }], 'c')).toThrow(
    /Cannot read c: 0\.status: Invalid enum value/,
  );
});
