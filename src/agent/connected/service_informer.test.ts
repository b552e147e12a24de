import pino from 'pino';
import { apiError, FakeKubeApi, until } from './fake_api.testutil';
import type { KubeObject } from './kube_api';
import { watchServices } from './service_informer';

const log = pino({ level: 'silent' });
const svc = (namespace: string, name: string, clusterIP: string, rv = '1'): KubeObject => ({
  metadata: { name, namespace, resourceVersion: rv },
  spec: { clusterIP, ports: [{ port: 80 }] },
});
const names = (i: ReturnType<typeof watchServices>) =>
  i
    .list()
    .map((s) => `${s.namespace}/${s.name}=${s.clusterIP}`)
    .sort();

test('the Services are listed without headless ones, then follow the watch', async () => {
  const api = new FakeKubeApi();
  api.handler = () => ({
    metadata: { resourceVersion: '10' },
    items: [svc('default', 'kubernetes', '10.0.0.1')],
  });
  const informer = watchServices(api, log, { initialRetryMs: 5 });
  expect(informer.synced()).toBe(false);
  await informer.waitSynced(5000);
  expect(informer.synced()).toBe(true);
  expect(api.sent('GET', '/api/v1/services')[0].options.query).toMatchObject({
    fieldSelector: 'spec.clusterIP!=None',
  });
  expect(names(informer)).toEqual(['default/kubernetes=10.0.0.1']);
  await until('a watch', () => api.watches.length === 1);
  api.watches[0].send('ADDED', svc('shop', 'redis', '10.0.0.42', '11'));
  api.watches[0].send('MODIFIED', svc('default', 'kubernetes', '10.0.0.2', '12'));
  expect(names(informer)).toEqual(['default/kubernetes=10.0.0.2', 'shop/redis=10.0.0.42']);
  api.watches[0].send('DELETED', svc('shop', 'redis', '10.0.0.42', '13'));
  expect(names(informer)).toEqual(['default/kubernetes=10.0.0.2']);
  informer.close();
});

test('waitSynced gives up after its timeout while the API refuses, and the list is tried again', async () => {
  const api = new FakeKubeApi();
  let refuse = true;
  api.handler = () => {
    if (refuse) throw apiError(403, 'Forbidden');
    return { metadata: { resourceVersion: '1' }, items: [] };
  };
  const informer = watchServices(api, log, { initialRetryMs: 5 });
  await informer.waitSynced(50);
  expect(informer.synced()).toBe(false);
  refuse = false;
  await informer.waitSynced(5000);
  expect(informer.synced()).toBe(true);
  informer.close();
});
