import pino from 'pino';
import { EventRecorder } from './event_recorder';
import { FakeKubeApi } from './fake_api.testutil';

const pod = { namespace: 'ns', name: 'web', uid: 'u1' };

test('an event is created about the pod and its container, from the kubelet of this node', async () => {
  const api = new FakeKubeApi();
  await new EventRecorder(api, 'n1', pino({ level: 'silent' })).record(pod, {
    type: 'Normal',
    reason: 'Started',
    message: 'Started container main',
    container: 'main',
  });
  expect(api.requests[0]).toMatchObject({
    method: 'POST',
    path: '/api/v1/namespaces/ns/events',
    options: {
      body: {
        involvedObject: { kind: 'Pod', name: 'web', uid: 'u1', fieldPath: 'spec.containers{main}' },
        reason: 'Started',
        type: 'Normal',
        source: { component: 'kubelet', host: 'n1' },
        count: 1,
      },
    },
  });
});

test('the same event again is counted on the first one; after ten minutes it is a new one', async () => {
  const api = new FakeKubeApi();
  const rec = new EventRecorder(api, 'n1', pino({ level: 'silent' }));
  const ev = { type: 'Warning' as const, reason: 'Failed', message: 'pull failed', container: 'main' };
  const t0 = new Date('2026-11-23T00:00:00Z');
  await rec.record(pod, ev, t0);
  await rec.record(pod, ev, new Date(t0.getTime() + 60_000));
  await rec.record(pod, ev, new Date(t0.getTime() + 20 * 60_000));
  expect(api.requests.map((r) => r.method)).toEqual(['POST', 'PATCH', 'POST']);
  const name = (api.requests[0].options.body as { metadata: { name: string } }).metadata.name;
  expect(api.requests[1]).toMatchObject({
    path: `/api/v1/namespaces/ns/events/${name}`,
    options: { body: { count: 2, lastTimestamp: '2026-11-23T00:01:00Z' } },
  });
});
