import { apiError, FakeKubeApi, until } from './fake_api.testutil';
import type { KubeObject } from './kube_api';
import { listWatch } from './list_watch';

const pod = (uid: string, rv: string): KubeObject => ({ metadata: { name: uid, uid, resourceVersion: rv } });

function start(api: FakeKubeApi) {
  const lists: string[][] = [];
  const events: string[] = [];
  const errors: unknown[] = [];
  const lw = listWatch(
    api,
    '/api/v1/pods',
    {
      onList: (items) => lists.push(items.map((i) => i.metadata.uid!)),
      onEvent: (type, o) => events.push(`${type} ${o.metadata.uid}`),
      onError: (err) => errors.push(err),
    },
    { query: { fieldSelector: 'spec.nodeName=n1' }, initialRetryMs: 5 },
  );
  return { lw, lists, events, errors };
}

test('the watch starts from the list and resumes from the last version after the server ends it', async () => {
  const api = new FakeKubeApi();
  api.handler = () => ({ metadata: { resourceVersion: '10' }, items: [pod('a', '9')] });
  const { lw, lists, events } = start(api);
  await lw.synced;
  expect(lists).toEqual([['a']]);
  await until('a watch', () => api.watches.length === 1);
  expect(api.watches[0].query).toMatchObject({ resourceVersion: '10', fieldSelector: 'spec.nodeName=n1' });
  api.watches[0].send('ADDED', pod('b', '11'));
  api.watches[0].send('BOOKMARK', pod('', '15'));
  api.watches[0].end();
  await until('a second watch', () => api.watches.length === 2);
  expect(api.watches[1].query.resourceVersion).toBe('15');
  expect(events).toEqual(['ADDED b']);
  expect(api.sent('GET')).toHaveLength(1);
  lw.close();
});

test('410 Gone, as an event or as the answer, makes the watch list again', async () => {
  const api = new FakeKubeApi();
  let rv = 10;
  api.handler = () => ({ metadata: { resourceVersion: String(++rv) }, items: [] });
  const { lw, lists } = start(api);
  await until('a watch', () => api.watches.length === 1);
  api.watches[0].send('ERROR', {
    code: 410,
    reason: 'Expired',
    metadata: { name: '' },
  } as unknown as KubeObject);
  await until('a second watch', () => api.watches.length === 2);
  api.watches[1].end(apiError(410, 'Gone'));
  await until('a third watch', () => api.watches.length === 3);
  expect(lists).toHaveLength(3);
  expect(api.watches[2].query.resourceVersion).toBe('13');
  lw.close();
});

test('a failed list or watch is reported and tried again rather than ending the watch', async () => {
  const api = new FakeKubeApi();
  let calls = 0;
  api.handler = () => {
    if (++calls === 1) throw new Error('connect ECONNREFUSED');
    return { metadata: { resourceVersion: '1' }, items: [] };
  };
  const { lw, errors } = start(api);
  await lw.synced;
  await until('a watch', () => api.watches.length === 1);
  api.watches[0].end(new Error('socket hang up'));
  await until('a new watch', () => api.watches.length === 2);
  expect(errors.map(String)).toEqual(['Error: connect ECONNREFUSED', 'Error: socket hang up']);
  expect(api.watches[1].query.resourceVersion).toBe('1');
  lw.close();
});
