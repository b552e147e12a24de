import { resolveEnv } from './env';
import type { Pod } from './pod_spec';
import {
  podServiceEnv,
  serviceEnvMap,
  ServiceEnvSource,
  ServiceInfo,
  SERVICES_NOT_SYNCED,
} from './service_env';

const kubernetes: ServiceInfo = {
  namespace: 'default',
  name: 'kubernetes',
  clusterIP: '10.96.0.1',
  ports: [{ name: 'https', port: 443, protocol: 'TCP' }],
};
const MASTER = {
  KUBERNETES_SERVICE_HOST: '10.96.0.1',
  KUBERNETES_SERVICE_PORT: '443',
  KUBERNETES_SERVICE_PORT_HTTPS: '443',
  KUBERNETES_PORT: 'tcp://10.96.0.1:443',
  KUBERNETES_PORT_443_TCP: 'tcp://10.96.0.1:443',
  KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
  KUBERNETES_PORT_443_TCP_PORT: '443',
  KUBERNETES_PORT_443_TCP_ADDR: '10.96.0.1',
};
const redis: ServiceInfo = {
  namespace: 'shop',
  name: 'redis-primary',
  clusterIP: '10.96.3.4',
  ports: [{ port: 6379 }, { name: 'metrics', port: 9121, protocol: 'UDP' }],
};
const REDIS = {
  REDIS_PRIMARY_SERVICE_HOST: '10.96.3.4',
  REDIS_PRIMARY_SERVICE_PORT: '6379',
  REDIS_PRIMARY_SERVICE_PORT_METRICS: '9121',
  REDIS_PRIMARY_PORT: 'tcp://10.96.3.4:6379',
  REDIS_PRIMARY_PORT_6379_TCP: 'tcp://10.96.3.4:6379',
  REDIS_PRIMARY_PORT_6379_TCP_PROTO: 'tcp',
  REDIS_PRIMARY_PORT_6379_TCP_PORT: '6379',
  REDIS_PRIMARY_PORT_6379_TCP_ADDR: '10.96.3.4',
  REDIS_PRIMARY_PORT_9121_UDP: 'udp://10.96.3.4:9121',
  REDIS_PRIMARY_PORT_9121_UDP_PROTO: 'udp',
  REDIS_PRIMARY_PORT_9121_UDP_PORT: '9121',
  REDIS_PRIMARY_PORT_9121_UDP_ADDR: '10.96.3.4',
};
const headless: ServiceInfo = { namespace: 'shop', name: 'peers', clusterIP: 'None', ports: [{ port: 80 }] };
const external: ServiceInfo = { namespace: 'shop', name: 'ext', clusterIP: '', ports: [{ port: 80 }] };
const elsewhere: ServiceInfo = { ...redis, namespace: 'other', name: 'cache' };
const shadow: ServiceInfo = {
  namespace: 'shop',
  name: 'kubernetes',
  clusterIP: '10.96.9.9',
  ports: [{ port: 8443 }],
};
const v6: ServiceInfo = { namespace: 'shop', name: 'v6', clusterIP: 'fd00::10', ports: [{ port: 80 }] };

test.each<[string, ServiceInfo[], string, boolean, Record<string, string>]>([
  ['the master Service always', [kubernetes, redis], 'shop', false, MASTER],
  [
    'the namespace Services with enableServiceLinks',
    [kubernetes, redis, elsewhere],
    'shop',
    true,
    { ...MASTER, ...REDIS },
  ],
  ['no headless nor ExternalName Services', [kubernetes, headless, external], 'shop', true, MASTER],
  [
    'a namespace Service named like the master one replaces it',
    [kubernetes, shadow],
    'shop',
    true,
    {
      KUBERNETES_SERVICE_HOST: '10.96.9.9',
      KUBERNETES_SERVICE_PORT: '8443',
      KUBERNETES_PORT: 'tcp://10.96.9.9:8443',
      KUBERNETES_PORT_8443_TCP: 'tcp://10.96.9.9:8443',
      KUBERNETES_PORT_8443_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_8443_TCP_PORT: '8443',
      KUBERNETES_PORT_8443_TCP_ADDR: '10.96.9.9',
    },
  ],
  ['but not without enableServiceLinks', [shadow, kubernetes], 'shop', false, MASTER],
  [
    'an IPv6 cluster IP in brackets in URLs',
    [v6],
    'shop',
    true,
    {
      V6_SERVICE_HOST: 'fd00::10',
      V6_SERVICE_PORT: '80',
      V6_PORT: 'tcp://[fd00::10]:80',
      V6_PORT_80_TCP: 'tcp://[fd00::10]:80',
      V6_PORT_80_TCP_PROTO: 'tcp',
      V6_PORT_80_TCP_PORT: '80',
      V6_PORT_80_TCP_ADDR: 'fd00::10',
    },
  ],
])('Service variables: %s', (_name, services, ns, links, expected) => {
  expect(Object.fromEntries(serviceEnvMap(services, ns, links))).toEqual(expected);
});

test("the container's own variables win over Service ones, and may refer to them", () => {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'shop', uid: 'u1' },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'busybox',
          env: [
            { name: 'KUBERNETES_SERVICE_HOST', value: 'override' },
            { name: 'URL', value: 'redis://$(REDIS_PRIMARY_SERVICE_HOST):$(REDIS_PRIMARY_SERVICE_PORT)' },
          ],
        },
      ],
    },
  };
  const facts = { nodeName: 'n', hostIP: '192.0.2.1', podIPs: [], nodeCpuCores: 1, nodeMemoryBytes: 1 };
  const env = resolveEnv(pod, pod.spec.containers[0], {
    ...facts,
    serviceEnv: serviceEnvMap([kubernetes, redis], 'shop', true),
  });
  const keys = env.map((kv) => kv.key);
  expect(keys.slice(0, 2)).toEqual(['KUBERNETES_SERVICE_HOST', 'URL']);
  const byKey = Object.fromEntries(env.map((kv) => [kv.key, kv.value]));
  expect(byKey).toMatchObject({
    KUBERNETES_SERVICE_HOST: 'override',
    URL: 'redis://10.96.3.4:6379',
    KUBERNETES_SERVICE_PORT: '443',
  });
  expect(keys.filter((k) => k === 'KUBERNETES_SERVICE_HOST')).toHaveLength(1);
});

describe('podServiceEnv', () => {
  const source = (synced: boolean): ServiceEnvSource & { waited: number[] } => {
    const waited: number[] = [];
    return {
      waited,
      synced: () => synced,
      waitSynced: async (ms) => void waited.push(ms),
      list: () => [kubernetes],
    };
  };

  test('gives nothing without a source (standalone mode)', async () => {
    expect(await podServiceEnv(undefined, { namespace: 'shop', fromApi: true })).toEqual(new Map());
  });

  test('refuses an API pod while the Services were never listed, after waiting for them', async () => {
    const s = source(false);
    await expect(podServiceEnv(s, { namespace: 'shop', fromApi: true })).rejects.toMatchObject({
      message: SERVICES_NOT_SYNCED,
      reason: 'CreateContainerConfigError',
    });
    expect(s.waited).toHaveLength(1);
  });

  test('does not hold a static pod back', async () => {
    const s = source(false);
    expect(
      (await podServiceEnv(s, { namespace: 'shop', fromApi: false })).get('KUBERNETES_SERVICE_HOST'),
    ).toBe('10.96.0.1');
    expect(s.waited).toEqual([]);
  });
});
