// The numbers of the kubelet's own tests (pkg/kubelet/cm/helpers_linux_test.go) and a few pods
// worked out by hand from ResourceConfigForPod and resource.PodLimits.
import type { Container, Pod } from '../pod_spec';
import {
  burstableCpuShares,
  enforcesPodsAllocatable,
  milliCpuToQuota,
  milliCpuToShares,
  nodeAllocatableConfig,
  podLimits,
  resourceConfigForPod,
} from './resource_config';

type Res = { requests?: Record<string, string>; limits?: Record<string, string> };
const c = (name: string, resources?: Res, extra: Partial<Container> = {}): Container => ({
  name,
  image: 'busybox',
  ...(resources && { resources }),
  ...extra,
});
const pod = (containers: Container[], spec: Record<string, unknown> = {}): Pod =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', uid: 'u-1' },
    spec: { containers, ...spec },
  }) as Pod;
const both = (cpu: string, memory: string): Res => ({
  requests: { cpu, memory },
  limits: { cpu, memory },
});
const Mi = 2 ** 20;

test('milliCpuToShares gives the kernel minimum for zero and tiny requests and 1024 per core', () => {
  expect(milliCpuToShares(0)).toBe(2);
  expect(milliCpuToShares(1)).toBe(2);
  expect(milliCpuToShares(3)).toBe(3);
  expect(milliCpuToShares(100)).toBe(102);
  expect(milliCpuToShares(500)).toBe(512);
  expect(milliCpuToShares(1000)).toBe(1024);
  expect(milliCpuToShares(1_000_000)).toBe(262144);
});

test('milliCpuToQuota spreads the limit over the period and never goes below 1 ms', () => {
  expect(milliCpuToQuota(0)).toBe(0);
  expect(milliCpuToQuota(5)).toBe(1000);
  expect(milliCpuToQuota(10)).toBe(1000);
  expect(milliCpuToQuota(200)).toBe(20000);
  expect(milliCpuToQuota(1500)).toBe(150000);
  expect(milliCpuToQuota(200, 50_000)).toBe(10000);
});

test('a BestEffort pod gets the minimum shares and nothing else', () => {
  expect(resourceConfigForPod(pod([c('a')]))).toEqual({ cpuShares: 2 });
});

test('a Burstable pod without limits gets shares from its requests only', () => {
  const p = pod([c('a', { requests: { cpu: '100m', memory: '100Mi' } })]);
  expect(resourceConfigForPod(p)).toEqual({ cpuShares: 102 });
});

test('a Burstable pod whose every container has limits gets quota, period and the memory limit', () => {
  const p = pod([
    c('a', { requests: { cpu: '100m', memory: '100Mi' }, limits: { cpu: '200m', memory: '200Mi' } }),
  ]);
  expect(resourceConfigForPod(p)).toEqual({
    cpuShares: 102,
    cpuQuota: 20000,
    cpuPeriod: 100000,
    memoryLimit: 200 * Mi,
  });
});

test('one container without limits leaves a Burstable pod without quota and memory limit', () => {
  const p = pod([
    c('a', { requests: { cpu: '100m', memory: '100Mi' }, limits: { cpu: '200m', memory: '200Mi' } }),
    c('b', { requests: { cpu: '100m', memory: '100Mi' } }),
  ]);
  expect(resourceConfigForPod(p)).toEqual({ cpuShares: 204 });
});

test('cpu and memory limits are declared each on their own', () => {
  const p = pod([
    c('a', { requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '200Mi' } }),
    c('b', { requests: { cpu: '100m' }, limits: { memory: '100Mi' } }),
  ]);
  expect(resourceConfigForPod(p)).toEqual({ cpuShares: 204, memoryLimit: 300 * Mi });
});

test('a Guaranteed pod gets shares, quota, period and memory limit from its sums', () => {
  const p = pod([c('a', both('100m', '100Mi')), c('b', both('250m', '28Mi'))]);
  expect(resourceConfigForPod(p)).toEqual({
    cpuShares: 358,
    cpuQuota: 35000,
    cpuPeriod: 100000,
    memoryLimit: 128 * Mi,
  });
});

test('a Guaranteed pod with CFS quota off gets an unlimited quota; another period scales the quota', () => {
  const p = pod([c('a', both('100m', '100Mi'))]);
  expect(resourceConfigForPod(p, { enforceCpuLimits: false }).cpuQuota).toBe(-1);
  expect(resourceConfigForPod(p, { cpuPeriodUs: 50_000 })).toMatchObject({
    cpuQuota: 5000,
    cpuPeriod: 50000,
  });
});

test('a larger init container sets the pod limits; one without a cpu limit leaves the pod without quota', () => {
  const big = pod([c('a', both('100m', '100Mi'))], {
    initContainers: [c('init', both('500m', '300Mi'))],
  });
  expect(resourceConfigForPod(big)).toEqual({
    cpuShares: 512,
    cpuQuota: 50000,
    cpuPeriod: 100000,
    memoryLimit: 300 * Mi,
  });
  const noCpu = pod([c('a', both('100m', '100Mi'))], {
    initContainers: [c('init', { requests: { memory: '10Mi' }, limits: { memory: '10Mi' } })],
  });
  expect(resourceConfigForPod(noCpu)).toEqual({ cpuShares: 102, memoryLimit: 100 * Mi });
});

test('an init container is counted with the sidecars started before it, as the kubelet counts it', () => {
  // The regular init container has no cpu limit, but its use includes the sidecar's cpu limit.
  const p = pod([c('a', { limits: { cpu: '100m', memory: '100Mi' } })], {
    initContainers: [
      c('sidecar', { limits: { cpu: '200m', memory: '50Mi' } }, { restartPolicy: 'Always' }),
      c('init', { limits: { memory: '400Mi' } }),
    ],
  });
  expect(podLimits(p)).toEqual({ cpu: 300, memory: 450 * Mi, cpuDeclared: true, memoryDeclared: true });
  expect(resourceConfigForPod(p)).toMatchObject({ cpuQuota: 30000, memoryLimit: 450 * Mi });
});

test('the pod overhead is added to the requests and to the limits there are', () => {
  const p = pod([c('a', both('100m', '100Mi'))], { overhead: { cpu: '50m', memory: '20Mi' } });
  expect(resourceConfigForPod(p)).toEqual({
    cpuShares: 153,
    cpuQuota: 15000,
    cpuPeriod: 100000,
    memoryLimit: 120 * Mi,
  });
  const noLimits = pod([c('a', { requests: { cpu: '100m' } })], { overhead: { cpu: '50m', memory: '20Mi' } });
  expect(resourceConfigForPod(noLimits)).toEqual({ cpuShares: 153 });
});

test('podPidsLimit above 0 limits every pod cgroup, BestEffort ones too', () => {
  expect(resourceConfigForPod(pod([c('a')]), { podPidsLimit: 1024 })).toEqual({
    cpuShares: 2,
    pidsLimit: 1024,
  });
  expect(resourceConfigForPod(pod([c('a')]), { podPidsLimit: -1 })).toEqual({ cpuShares: 2 });
});

test('the burstable shares are the summed cpu requests of the Burstable pods only', () => {
  const pods = [
    pod([c('a', { requests: { cpu: '250m' } })]),
    pod([c('a', { requests: { cpu: '500m', memory: '1Mi' } }), c('b', { requests: { memory: '1Mi' } })]),
    pod([c('a', both('1', '1Gi'))]),
    pod([c('a')]),
  ];
  expect(burstableCpuShares(pods)).toBe(768);
  expect(burstableCpuShares([])).toBe(2);
});

test('kubepods gets allocatable when pods are enforced, the capacity otherwise', () => {
  const capacity = { cpu: 2000, memory: 8 * 1024 * Mi, pids: 32768 };
  const reserved = { cpu: 500, memory: 1024 * Mi, pid: 1000 };
  expect(nodeAllocatableConfig(capacity, reserved, true)).toEqual({
    cpuShares: 1536,
    memoryLimit: 7 * 1024 * Mi,
    pidsLimit: 31768,
  });
  expect(nodeAllocatableConfig(capacity, reserved, false)).toEqual({
    cpuShares: 2048,
    memoryLimit: 8 * 1024 * Mi,
    pidsLimit: 32768,
  });
});

test('enforceNodeAllocatable takes pods or none and refuses the reserved cgroups by name', () => {
  expect(enforcesPodsAllocatable(undefined)).toBe(true);
  expect(enforcesPodsAllocatable(['pods'])).toBe(true);
  expect(enforcesPodsAllocatable(['none'])).toBe(false);
  expect(enforcesPodsAllocatable([])).toBe(false);
  expect(() => enforcesPodsAllocatable(['pods', 'system-reserved'])).toThrow(
    /'system-reserved': the agent manages no system-reserved or kube-reserved cgroup/,
  );
  expect(() => enforcesPodsAllocatable(['pod'])).toThrow(/'pod': expected one of/);
  expect(() => enforcesPodsAllocatable(['none', 'pods'])).toThrow(/'none' may not be given with others/);
});
