import { expandCommand, expandVars, resolveEnv } from './env';
import type { Container, Pod } from './pod_spec';

const facts = {
  nodeName: 'node1',
  hostIP: '192.0.2.1',
  podIPs: ['10.0.0.5'],
  nodeCpuCores: 2,
  nodeMemoryBytes: 4 * 2 ** 30,
};

function podWith(c: Partial<Container>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-node1', namespace: 'default', uid: 'u1', labels: { app: 'web' } },
    spec: { containers: [{ name: 'main', image: 'busybox', ...c }] },
  };
}

const envOf = (pod: Pod) =>
  Object.fromEntries(resolveEnv(pod, pod.spec.containers[0], facts).map((kv) => [kv.key, kv.value]));

test('literal values can refer to variables defined before them', () => {
  const pod = podWith({
    env: [
      { name: 'A', value: 'one' },
      { name: 'B', value: '$(A)-two-$(LATER)' },
      { name: 'LATER', value: 'x' },
      { name: 'C', value: '$$(A)' },
    ],
  });
  expect(envOf(pod)).toEqual({ A: 'one', B: 'one-two-$(LATER)', LATER: 'x', C: '$(A)' });
});

test('fieldRef gives the pod its own name, namespace, labels and addresses', () => {
  const pod = podWith({
    env: [
      { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
      { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    ],
  });
  expect(envOf(pod)).toEqual({
    NAME: 'web-node1',
    NS: 'default',
    APP: 'web',
    IP: '10.0.0.5',
    HOST: '192.0.2.1',
    NODE: 'node1',
  });
});

test('resourceFieldRef rounds up by the divisor and falls back to the node for an unset limit', () => {
  const pod = podWith({
    resources: { limits: { memory: '64Mi', cpu: '250m' } },
    env: [
      { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
      { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
    ],
  });
  expect(envOf(pod)).toEqual({ MEM_MI: '64', CPU: '1', CPU_M: '250' });
  const unset = podWith({
    env: [{ name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } }],
  });
  expect(envOf(unset)).toEqual({ CPU: '2' });
});

test('an unsupported field path is an error that names it', () => {
  const pod = podWith({ env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }] });
  expect(() => envOf(pod)).toThrow("Cannot resolve fieldRef 'spec.bogus'");
});

test('command and args expand $(VAR) from the environment', () => {
  const c: Container = { name: 'c', image: 'i', command: ['echo', '$(A)'], args: ['$(B)', '$(NOPE)'] };
  expect(
    expandCommand(c, [
      { key: 'A', value: '1' },
      { key: 'B', value: '2' },
    ]),
  ).toEqual({ command: ['echo', '1'], args: ['2', '$(NOPE)'] });
  expect(expandVars('a$$b', new Map())).toBe('a$b');
});

test('envFrom comes first with its prefix, then env keys of ConfigMaps and Secrets override it', () => {
  const pod = podWith({
    envFrom: [{ configMapRef: { name: 'cfg' } }, { prefix: 'S_', secretRef: { name: 'sec' } }],
    env: [
      { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } },
      { name: 'PW', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
      { name: 'GONE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope', optional: true } } },
    ],
  });
  const apiEnv = {
    configMaps: { cfg: { mode: 'fast', 'a=b': 'x', level: '3' } },
    secrets: { sec: { password: 'hunter2' } },
  };
  const env = Object.fromEntries(
    resolveEnv(pod, pod.spec.containers[0], { ...facts, apiEnv }).map((kv) => [kv.key, kv.value]),
  );
  expect(env).toEqual({ mode: 'fast', level: '3', S_password: 'hunter2', MODE: 'fast', PW: 'hunter2' });
});

test('a required key that is missing names the object and the key', () => {
  const pod = podWith({ env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }] });
  expect(() =>
    resolveEnv(pod, pod.spec.containers[0], { ...facts, apiEnv: { configMaps: { cfg: {} }, secrets: {} } }),
  ).toThrow("Cannot resolve env 'X': configMap 'cfg' has no key 'k'");
});

test('an expansion that outgrows what exec accepts stops before it is built, naming what grew', () => {
  expect(expandVars('$(A)$(A)', new Map([['A', 'xyz']]), 6)).toBe('xyzxyz');
  expect(expandVars('$(A)$(A)!', new Map([['A', 'xyz']]), 6)).toBeUndefined();
  // Each var is eight of the one before: the fourth would be 512 KB.
  const env = [{ name: 'V0', value: 'x'.repeat(1000) }];
  for (let i = 1; i <= 30; i++) env.push({ name: `V${i}`, value: `$(V${i - 1})`.repeat(8) });
  expect(() => envOf(podWith({ env }))).toThrow(
    'env "V3" of container "main" expands beyond 131072 bytes, more than exec accepts',
  );
  const c: Container = { name: 'c', image: 'i', args: Array(30).fill('$(S)') };
  const s = [{ key: 'S', value: 'y'.repeat(100_000) }];
  expect(() => expandCommand(c, s)).toThrow(
    'the environment and args of container "c" expand beyond 2097152 bytes, more than exec accepts',
  );
  expect(() => expandCommand({ ...c, args: ['$(S)$(S)'] }, s)).toThrow(
    'command or arg "$(S)$(S)" of container "c" expands beyond 131072 bytes',
  );
  expect(expandCommand({ ...c, args: Array(10).fill('$(S)') }, s).args).toHaveLength(10);
});

test('an envFrom prefix may make names that are not shell names, as the kubelet sets them', () => {
  const pod = podWith({
    envFrom: [
      { prefix: 'p-', configMapRef: { name: 'cfg' } },
      { prefix: '1-', secretRef: { name: 'sec' } },
    ],
  });
  const apiEnv = { configMaps: { cfg: { 'data-1': 'value-1' } }, secrets: { sec: { 'data-1': 'value-1' } } };
  const env = Object.fromEntries(
    resolveEnv(pod, pod.spec.containers[0], { ...facts, apiEnv }).map((kv) => [kv.key, kv.value]),
  );
  expect(env).toEqual({ 'p-data-1': 'value-1', '1-data-1': 'value-1' });
});

test('resourceFieldRef reads the divisor "0" the API server sends for an unset one as 1, in whole millicores', () => {
  const pod = podWith({
    resources: { limits: { cpu: '1250m', memory: '64Mi' }, requests: { cpu: '250m', memory: '32Mi' } },
    env: [
      { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '0' } } },
      { name: 'MEMORY_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '0' } } },
      { name: 'CPU_REQUEST', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '0' } } },
      {
        name: 'MEMORY_REQUEST',
        valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: 0 } },
      },
      { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
      { name: 'CPU_100M', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '100m' } } },
    ],
  });
  expect(envOf(pod)).toEqual({
    CPU_LIMIT: '2',
    MEMORY_LIMIT: '67108864',
    CPU_REQUEST: '1',
    MEMORY_REQUEST: '33554432',
    CPU_M: '1250',
    CPU_100M: '13',
  });
  // No limits: the node's allocatable stands in for them.
  const unset = podWith({
    env: [
      { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '0' } } },
      { name: 'MEMORY_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '0' } } },
    ],
  });
  expect(envOf(unset)).toEqual({ CPU_LIMIT: '2', MEMORY_LIMIT: String(4 * 2 ** 30) });
});
