import { admitResize } from './admission';
import { allocationOf, podWithAllocation, resizeRequested, type Requirements } from './allocation';
import { containerHash } from './labels';
import type { ObservedContainer } from './observed';
import {
  appliedAfter,
  computeResizeActions,
  memoryDecreaseError,
  memoryLimitDecreases,
  resizeEventMessage,
  resizeInProgress,
  updateRequirements,
} from './pod_resize';
import type { Container, Pod } from './pod_spec';

type Policy = 'NotRequired' | 'RestartContainer';

function ctr(name: string, resources: Requirements, cpu?: Policy, memory?: Policy): Container {
  const resizePolicy = [
    ...(cpu ? [{ resourceName: 'cpu' as const, restartPolicy: cpu }] : []),
    ...(memory ? [{ resourceName: 'memory' as const, restartPolicy: memory }] : []),
  ];
  return { name, image: 'busybox', resources, ...(resizePolicy.length ? { resizePolicy } : {}) };
}

function pod(...containers: Container[]): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'u', generation: 2 },
    spec: { containers },
  };
}

const running = (...names: string[]) =>
  new Map(
    names.map((name, i) => [
      name,
      { id: `id-${name}`, name, state: 'running', restartCount: i } as unknown as ObservedContainer,
    ]),
  );
const applied = (entries: Record<string, Requirements>) =>
  Object.fromEntries(Object.entries(entries).map(([n, r]) => [n, { containerId: `id-${n}`, resources: r }]));

const small = { requests: { cpu: '100m', memory: '20Mi' }, limits: { cpu: '100m', memory: '20Mi' } };
const big = { requests: { cpu: '200m', memory: '40Mi' }, limits: { cpu: '200m', memory: '40Mi' } };

test('the container hash leaves resources and the resize policy out, as the kubelet’s', () => {
  expect(containerHash(ctr('c', small, 'RestartContainer'))).toBe(containerHash(ctr('c', big)));
  expect(containerHash(ctr('c', small))).not.toBe(containerHash({ ...ctr('c', small), image: 'other' }));
});

test('a resize with no policy updates the running container in place, memory and cpu', () => {
  const p = pod(ctr('c1', big));
  const plan = computeResizeActions(p, running('c1'), applied({ c1: small }));
  expect(plan.restart).toEqual([]);
  expect(plan.update.memory.map((u) => u.name)).toEqual(['c1']);
  expect(plan.update.cpu.map((u) => u.name)).toEqual(['c1']);
  expect(updateRequirements(plan.update.memory[0], 'memory')).toEqual({
    requests: { cpu: '100m', memory: String(40 * 2 ** 20) },
    limits: { cpu: '100m', memory: String(40 * 2 ** 20) },
  });
});

test('decreases are applied before increases within a resource', () => {
  const p = pod(ctr('up', big), ctr('down', small));
  const plan = computeResizeActions(p, running('up', 'down'), applied({ up: small, down: big }));
  expect(plan.update.cpu.map((u) => u.name)).toEqual(['down', 'up']);
  expect(plan.update.memory.map((u) => u.name)).toEqual(['down', 'up']);
});

test('RestartContainer restarts the container only when its own resource changed', () => {
  const cpuOnly = {
    ...small,
    requests: { ...small.requests, cpu: '300m' },
    limits: { ...small.limits, cpu: '300m' },
  };
  // memory policy RestartContainer, but only cpu changed: in place
  let plan = computeResizeActions(
    pod(ctr('c', cpuOnly, 'NotRequired', 'RestartContainer')),
    running('c'),
    applied({ c: small }),
  );
  expect(plan.restart).toEqual([]);
  expect(plan.update.cpu.map((u) => u.name)).toEqual(['c']);
  expect(plan.update.memory).toEqual([]);
  // cpu policy RestartContainer and cpu changed: restart, no update
  plan = computeResizeActions(
    pod(ctr('c', cpuOnly, 'RestartContainer')),
    running('c'),
    applied({ c: small }),
  );
  expect(plan.restart.map((r) => r.name)).toEqual(['c']);
  expect(plan.update).toEqual({ memory: [], cpu: [] });
});

test('equal quantities in other spellings are no resize', () => {
  const same = {
    requests: { cpu: '0.1', memory: `${20 * 2 ** 20}` },
    limits: { cpu: '100m', memory: '20Mi' },
  };
  const p = pod(ctr('c', same));
  expect(computeResizeActions(p, running('c'), applied({ c: small }))).toEqual({
    restart: [],
    update: { memory: [], cpu: [] },
  });
  expect(resizeInProgress(p, running('c'), applied({ c: small }))).toBe(false);
});

test('a container not running is not resized: it starts with the allocation', () => {
  const p = pod(ctr('c', big));
  expect(computeResizeActions(p, new Map(), applied({ c: small }))).toEqual({
    restart: [],
    update: { memory: [], cpu: [] },
  });
  expect(resizeInProgress(p, new Map(), applied({ c: small }))).toBe(false);
});

test('a running container with no record of what was applied is updated in place, never restarted', () => {
  const p = pod(ctr('c', big, 'RestartContainer', 'RestartContainer'));
  const plan = computeResizeActions(p, running('c'), {});
  expect(plan.restart).toEqual([]);
  expect(plan.update.cpu.map((u) => u.name)).toEqual(['c']);
  expect(resizeInProgress(p, running('c'), {})).toBe(true);
  // a record of another (older) container of the same name counts as none
  const stale = { c: { containerId: 'old', resources: big } };
  expect(resizeInProgress(p, running('c'), stale)).toBe(true);
});

test('what is applied after one resource’s update keeps the other resource as it was', () => {
  expect(appliedAfter(small, big, 'memory')).toEqual({
    requests: { cpu: '100m', memory: '40Mi' },
    limits: { cpu: '100m', memory: '40Mi' },
  });
  // a limit added by the resize
  expect(
    appliedAfter(
      { requests: { cpu: '100m' } },
      { requests: { cpu: '200m' }, limits: { cpu: '300m' } },
      'cpu',
    ),
  ).toEqual({
    requests: { cpu: '200m' },
    limits: { cpu: '300m' },
  });
});

test('a memory limit lowered below the container’s usage is refused with the kubelet’s message', () => {
  const p = pod(ctr('c', small));
  const plan = computeResizeActions(p, running('c'), applied({ c: big }));
  const decreases = memoryLimitDecreases(plan.update.memory);
  expect(decreases.map((u) => u.name)).toEqual(['c']);
  expect(memoryDecreaseError(decreases, new Map([['id-c', 30 * 2 ** 20]]))).toBe(
    `cannot decrease memory limits: attempting to set container "c" memory limit (${20 * 2 ** 20}) below current usage (${30 * 2 ** 20})`,
  );
  expect(memoryDecreaseError(decreases, new Map([['id-c', 10 * 2 ** 20]]))).toBeUndefined();
  // an increase is never checked
  expect(
    memoryLimitDecreases(
      computeResizeActions(pod(ctr('c', big)), running('c'), applied({ c: small })).update.memory,
    ),
  ).toEqual([]);
});

test('a resize is requested while the spec differs from the allocation, and the pod runs with the allocation', () => {
  const spec = pod(ctr('c', big));
  const allocated = allocationOf(pod(ctr('c', small)));
  expect(resizeRequested(spec, allocated)).toBe(true);
  expect(resizeRequested(spec, allocationOf(spec))).toBe(false);
  const running = podWithAllocation(spec, allocated);
  expect(running.spec.containers[0].resources).toEqual(small);
  // regular init containers are not resizable: they keep their spec
  const withInit = { ...spec, spec: { ...spec.spec, initContainers: [ctr('init', big)] } };
  expect(Object.keys(allocationOf(withInit))).toEqual(['c']);
});

test('the resize events carry the resources as JSON with the generation, as the kubelet’s', () => {
  const p = pod(
    ctr('c1', { requests: { memory: '20Mi', cpu: '100m' }, limits: { cpu: '100m' } }),
    ctr('c2', {}),
  );
  expect(resizeEventMessage('Pod resize started', p, 2)).toBe(
    'Pod resize started: {"containers":[{"name":"c1","resources":{"limits":{"cpu":"100m"},"requests":{"cpu":"100m","memory":"20Mi"}}},{"name":"c2","resources":{}}],"generation":2}',
  );
  expect(resizeEventMessage('Pod resize Deferred', pod(ctr('c', {})), 3, 'no room')).toBe(
    'Pod resize Deferred: {"containers":[{"name":"c","resources":{}}],"generation":3,"error":"no room"}',
  );
});

describe('resize admission', () => {
  const allocatable = { cpu: 2000, memory: 4 * 2 ** 30, ephemeralStorage: 10 * 2 ** 30, pods: 110 };
  const withCpu = (cpu: string) => pod(ctr('c', { requests: { cpu }, limits: { cpu } }));

  test('a resize that fits beside the other pods is admitted', () => {
    expect(admitResize(withCpu('1'), [withCpu('500m')], allocatable)).toBeUndefined();
  });

  test('a resize that fits only once other pods leave is Deferred with the predicate’s message', () => {
    expect(admitResize(withCpu('1500m'), [withCpu('1')], allocatable)).toEqual({
      reason: 'Deferred',
      message: "Node didn't have enough resource: cpu, requested: 1500, used: 1000, capacity: 2000",
    });
  });

  test('a resize beyond the node’s allocatable is Infeasible', () => {
    expect(admitResize(withCpu('3'), [], allocatable)).toEqual({
      reason: 'Infeasible',
      message: "Node didn't have enough capacity: cpu, requested: 3000, capacity: 2000",
    });
  });
});
