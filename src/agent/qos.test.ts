import type { Container, Pod } from './pod_spec';
import { containerResources, oomScoreAdj, podCgroupParent, qosClass } from './qos';

const pod = (...containers: Partial<Container>[]): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', uid: 'u-1' },
  spec: { containers: containers.map((c, i) => ({ name: `c${i}`, image: 'busybox', ...c })) },
});

test('a pod without requests or limits is BestEffort', () => {
  expect(qosClass(pod({}))).toBe('BestEffort');
});

test('a pod whose every container has equal cpu and memory requests and limits is Guaranteed', () => {
  const r = { requests: { cpu: '500m', memory: '64Mi' }, limits: { cpu: '0.5', memory: '67108864' } };
  expect(qosClass(pod({ resources: r }, { resources: { limits: { cpu: 1, memory: '1Gi' } } }))).toBe(
    'Guaranteed',
  );
});

test('a pod with requests below its limits is Burstable', () => {
  expect(qosClass(pod({ resources: { requests: { memory: '64Mi' }, limits: { memory: '128Mi' } } }))).toBe(
    'Burstable',
  );
  expect(qosClass(pod({ resources: { limits: { cpu: 1, memory: '1Gi' } } }, {}))).toBe('Burstable');
});

test('cgroupfs parents follow the kubelet layout below the cgroup root', () => {
  expect(podCgroupParent('u-1', 'Guaranteed', { driver: 'cgroupfs' })).toBe('/kubepods/podu-1');
  expect(podCgroupParent('u-1', 'Burstable', { driver: 'cgroupfs' })).toBe('/kubepods/burstable/podu-1');
  expect(podCgroupParent('u-1', 'BestEffort', { driver: 'cgroupfs', cgroupRoot: '/test' })).toBe(
    '/test/kubepods/besteffort/podu-1',
  );
});

test('systemd parents are slice names with the UID dashes escaped', () => {
  expect(podCgroupParent('a-b', 'Burstable', { driver: 'systemd' })).toBe('kubepods-burstable-poda_b.slice');
});

test('cpu requests become shares, cpu limits a quota per 100 ms period, memory limits a byte limit', () => {
  const c = {
    name: 'c',
    image: 'i',
    resources: { requests: { cpu: '250m' }, limits: { cpu: '1500m', memory: '128Mi' } },
  };
  expect(containerResources(c, 'Burstable', 2 ** 30)).toMatchObject({
    cpu_shares: 256,
    cpu_period: 100_000,
    cpu_quota: 150_000,
    memory_limit_in_bytes: 128 * 2 ** 20,
  });
  expect(containerResources({ name: 'c', image: 'i' }, 'BestEffort', 2 ** 30)).toMatchObject({
    cpu_shares: 2,
    oom_score_adj: 1000,
  });
});

test('OOM scores favour Guaranteed pods and scale Burstable ones by their memory request', () => {
  expect(oomScoreAdj('Guaranteed', 0, 1000)).toBe(-997);
  expect(oomScoreAdj('BestEffort', 0, 1000)).toBe(1000);
  expect(oomScoreAdj('Burstable', 500, 1000)).toBe(500);
  expect(oomScoreAdj('Burstable', 1000, 1000)).toBe(2);
  expect(oomScoreAdj('Burstable', 0, 1000)).toBe(999);
});
