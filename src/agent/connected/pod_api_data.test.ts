import { readApiVolumes, resolveApiVolumes, resolvePullAuths } from './pod_api_data';
import { apiError, FakeKubeApi } from './fake_api.testutil';
import type { KubeObject } from './kube_api';
import { ServiceAccountTokens } from './projected_volume';

const tokens = new ServiceAccountTokens();

const podWith = (volumes: unknown[]): KubeObject => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
  spec: { volumes, containers: [] },
});

function api() {
  const fake = new FakeKubeApi();
  fake.handler = (req) => {
    if (req.path === '/api/v1/namespaces/ns/configmaps/cfg')
      return {
        metadata: { name: 'cfg' },
        data: { 'a.conf': 'A', 'b.conf': 'B' },
        binaryData: { bin: 'AAE=' },
      };
    if (req.path === '/api/v1/namespaces/ns/secrets/s')
      return { metadata: { name: 's' }, data: { password: Buffer.from('hunter2').toString('base64') } };
    throw apiError(404, 'NotFound');
  };
  return fake;
}

const text = (files: { path: string; content: Buffer; mode: number }[]) =>
  files.map((f) => [f.path, f.content.toString('hex'), f.mode.toString(8)]);

test('every key of a configMap becomes a file, binary data included, with the default mode', async () => {
  const vols = await resolveApiVolumes(api(), podWith([{ name: 'c', configMap: { name: 'cfg' } }]), tokens);
  expect(text(vols.c)).toEqual([
    ['a.conf', Buffer.from('A').toString('hex'), '644'],
    ['b.conf', Buffer.from('B').toString('hex'), '644'],
    ['bin', '0001', '644'],
  ]);
});

test('items pick keys and paths, modes come from the item or defaultMode, secrets are decoded', async () => {
  const vols = await resolveApiVolumes(
    api(),
    podWith([
      {
        name: 'c',
        configMap: { name: 'cfg', defaultMode: 0o600, items: [{ key: 'a.conf', path: 'conf/a' }] },
      },
      { name: 's', secret: { secretName: 's', items: [{ key: 'password', path: 'pw', mode: 0o400 }] } },
    ]),
    tokens,
  );
  expect(text(vols.c)).toEqual([['conf/a', Buffer.from('A').toString('hex'), '600']]);
  expect(vols.s[0].content.toString()).toBe('hunter2');
  expect(vols.s[0].mode).toBe(0o400);
});

test('a missing optional source is an empty volume; a missing required one is an error', async () => {
  const vols = await resolveApiVolumes(
    api(),
    podWith([{ name: 'o', configMap: { name: 'none', optional: true } }]),
    tokens,
  );
  expect(vols.o).toEqual([]);
  await expect(
    resolveApiVolumes(api(), podWith([{ name: 'r', secret: { secretName: 'none' } }]), tokens),
  ).rejects.toThrow('404');
});

test('imagePullSecrets give their registry credentials; a missing secret is skipped', async () => {
  const fake = new FakeKubeApi();
  const config = { auths: { 'registry.example.com': { username: 'u', password: 'p' } } };
  fake.handler = (req) => {
    if (req.path === '/api/v1/namespaces/ns/secrets/pull')
      return {
        metadata: { name: 'pull' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') },
      };
    throw apiError(404, 'NotFound');
  };
  const pod: KubeObject = {
    metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
    spec: { imagePullSecrets: [{ name: 'gone' }, { name: 'pull' }], containers: [] },
  };
  expect(await resolvePullAuths(fake, pod)).toEqual([
    { server: 'registry.example.com', username: 'u', password: 'p', auth: undefined },
  ]);
});

test('read one at a time, the volumes that can be read are, and the others say why', async () => {
  const { volumes, failed } = await readApiVolumes(
    api(),
    podWith([
      { name: 'c', configMap: { name: 'cfg' } },
      { name: 'gone', secret: { secretName: 'none' } },
    ]),
    tokens,
  );
  expect(Object.keys(volumes)).toEqual(['c']);
  expect(failed.map((f) => f.name)).toEqual(['gone']);
});
