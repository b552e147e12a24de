import pino from 'pino';
import type { PodStatusView } from '../pod_status';
import { apiError, FakeKubeApi, until } from './fake_api.testutil';
import { PodStatusPoster, statusPatch, strategicStatus } from './status_poster';

const log = pino({ level: 'silent' });
const status = (phase: PodStatusView['phase'], extra: Partial<PodStatusView> = {}): PodStatusView => ({
  phase,
  conditions: [],
  hostIP: '127.0.0.1',
  podIPs: [],
  initContainerStatuses: [],
  containerStatuses: [],
  ...extra,
});

test('a status is posted as a strategic merge patch of pods/status carrying the pod UID, once per change', async () => {
  const api = new FakeKubeApi();
  const poster = new PodStatusPoster(api, log);
  poster.track('u1', { namespace: 'ns', name: 'web', uid: 'u1' });
  poster.update('u1', status('Pending'));
  await poster.flush();
  poster.update('u1', status('Pending'));
  await poster.flush();
  poster.update('u1', status('Running'));
  await poster.flush();
  const patches = api.sent('PATCH');
  expect(patches.map((p) => (p.options.body as { status: { phase: string } }).status.phase)).toEqual([
    'Pending',
    'Running',
  ]);
  expect(patches[0]).toMatchObject({
    path: '/api/v1/namespaces/ns/pods/web/status',
    options: { contentType: 'application/strategic-merge-patch+json', body: { metadata: { uid: 'u1' } } },
  });
  poster.stop();
});

test('a field the status no longer has is removed with null, as a merge patch needs', () => {
  expect(statusPatch({ phase: 'Pending', reason: 'X', podIP: '10.0.0.2' }, { phase: 'Running' })).toEqual({
    phase: 'Running',
    reason: null,
    podIP: null,
  });
});

test('a status the server refused for a passing reason is posted again later', async () => {
  const api = new FakeKubeApi();
  let fail = true;
  api.handler = () => {
    if (fail) throw apiError(503);
    return {};
  };
  const poster = new PodStatusPoster(api, log, { retryMs: 20 });
  poster.track('u1', { namespace: 'ns', name: 'web', uid: 'u1' });
  poster.update('u1', status('Running'));
  await poster.flush();
  fail = false;
  await until('the retry', () => api.sent('PATCH').length === 2);
  poster.stop();
});

test('statuses of pods with no API object to go to (a static pod without its mirror yet) wait for one', async () => {
  const api = new FakeKubeApi();
  const poster = new PodStatusPoster(api, log);
  poster.update('static', status('Running'));
  await poster.flush();
  expect(api.sent('PATCH')).toHaveLength(0);
  poster.track('static', { namespace: 'default', name: 'web-n1', uid: 'mirror-uid' });
  await until('the post', () => api.sent('PATCH').length === 1);
  expect(api.sent('PATCH')[0].path).toBe('/api/v1/namespaces/default/pods/web-n1/status');
  poster.stop();
});

test('the patch sends only the kubelet conditions, clears their stale fields, and replaces the IP lists', () => {
  const body = strategicStatus({
    phase: 'Running',
    conditions: [
      { type: 'DisruptionTarget', status: 'True', lastTransitionTime: 't' },
      { type: 'Ready', status: 'True', lastTransitionTime: 't' },
      { type: 'ContainersReady', status: 'False', lastTransitionTime: 't', reason: 'R', message: 'M' },
    ],
    podIPs: [{ ip: '10.0.0.3' }],
    hostIPs: [],
  });
  expect(body).toEqual({
    phase: 'Running',
    conditions: [
      { type: 'Ready', status: 'True', lastTransitionTime: 't', reason: null, message: null },
      { type: 'ContainersReady', status: 'False', lastTransitionTime: 't', reason: 'R', message: 'M' },
    ],
    podIPs: [{ $patch: 'replace' }, { ip: '10.0.0.3' }],
    hostIPs: null,
  });
});

test('a kubelet condition gone since the last post (a finished resize) is deleted by its type', () => {
  const resize = {
    type: 'PodResizeInProgress',
    status: 'True',
    lastTransitionTime: 't',
    observedGeneration: 2,
  };
  const ready = { type: 'Ready', status: 'True', lastTransitionTime: 't' };
  const before = {
    conditions: [ready, resize, { type: 'DisruptionTarget', status: 'True', lastTransitionTime: 't' }],
  };
  const body = strategicStatus({ conditions: [ready] }, before);
  expect(body.conditions).toEqual([
    { ...ready, reason: null, message: null },
    { type: 'PodResizeInProgress', $patch: 'delete' },
  ]);
});
