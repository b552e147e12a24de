import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DnsSettings, kernelHostname, parseResolvConf, podDnsConfig, podHostnameAndDomain } from './pod_dns';
import { parseManifest } from './manifest';
import { podSchema, type Pod, type PodSpec } from './pod_spec';

let tmp: string;
let hostResolv: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-dns-'));
  hostResolv = path.join(tmp, 'resolv.conf');
  fs.writeFileSync(
    hostResolv,
    '# the host\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch old.example\nsearch example.com. corp.example\noptions ndots:1 edns0\n',
  );
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function pod(spec: Partial<PodSpec>, name = 'web', namespace = 'shop'): Pod {
  const parsed = podSchema.safeParse({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid: 'u1' },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
  });
  if (!parsed.success) throw parsed.error;
  return parsed.data;
}

const cluster = (): DnsSettings => ({
  clusterDNS: ['10.96.0.10'],
  clusterDomain: 'cluster.local',
  resolvConf: hostResolv,
});
const hostOnly = (): DnsSettings => ({
  clusterDNS: [],
  clusterDomain: 'cluster.local',
  resolvConf: hostResolv,
});
const HOST = {
  servers: ['192.0.2.53', '192.0.2.54'],
  searches: ['example.com', 'corp.example'],
  options: ['ndots:1', 'edns0'],
};
const CLUSTER = {
  servers: ['10.96.0.10'],
  searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'example.com', 'corp.example'],
  options: ['ndots:5'],
};

test('the host resolv.conf is read as the kubelet reads it: last search line, no trailing dots, no comments', () => {
  expect(parseResolvConf(fs.readFileSync(hostResolv, 'utf8'))).toEqual(HOST);
});

test.each<[string, Partial<PodSpec>, () => DnsSettings, object, string[]]>([
  ['ClusterFirst is the default', {}, cluster, CLUSTER, []],
  ['ClusterFirst', { dnsPolicy: 'ClusterFirst' }, cluster, CLUSTER, []],
  [
    'ClusterFirst on the host network gives the host resolver',
    { dnsPolicy: 'ClusterFirst', hostNetwork: true },
    cluster,
    HOST,
    [],
  ],
  [
    'ClusterFirstWithHostNet on the host network',
    { dnsPolicy: 'ClusterFirstWithHostNet', hostNetwork: true },
    cluster,
    CLUSTER,
    [],
  ],
  ['Default', { dnsPolicy: 'Default' }, cluster, HOST, []],
  ['ClusterFirst without cluster DNS falls back to Default', {}, hostOnly, HOST, ['MissingClusterDNS']],
  [
    'None takes dnsConfig alone',
    {
      dnsPolicy: 'None',
      dnsConfig: {
        nameservers: ['1.1.1.1'],
        searches: ['a.example'],
        options: [{ name: 'ndots', value: '2' }],
      },
    },
    cluster,
    { servers: ['1.1.1.1'], searches: ['a.example'], options: ['ndots:2'] },
    [],
  ],
  [
    'dnsConfig is merged: duplicates dropped, options replaced by name',
    {
      dnsConfig: {
        nameservers: ['10.96.0.10', '192.0.2.1'],
        searches: ['cluster.local', 'extra.example'],
        options: [{ name: 'ndots', value: '2' }, { name: 'single-request' }],
      },
    },
    cluster,
    {
      servers: ['10.96.0.10', '192.0.2.1'],
      searches: [...CLUSTER.searches, 'extra.example'],
      options: ['ndots:2', 'single-request'],
    },
    [],
  ],
  [
    'more than 3 nameservers are cut, with a warning',
    { dnsPolicy: 'Default', dnsConfig: { nameservers: ['192.0.2.1', '192.0.2.2'] } },
    cluster,
    { ...HOST, servers: ['192.0.2.53', '192.0.2.54', '192.0.2.1'] },
    ['DNSConfigForming'],
  ],
  [
    'Default without a resolver file is the local nameserver',
    { dnsPolicy: 'Default' },
    () => ({ ...cluster(), resolvConf: '' }),
    { servers: ['127.0.0.1'], searches: ['.'], options: [] },
    [],
  ],
])('%s', (_name, spec, settings, expected, warnings) => {
  const { config, warnings: got } = podDnsConfig(pod(spec), settings());
  expect(config).toEqual(expected);
  expect(got.map((w) => w.reason)).toEqual(warnings);
});

test('a search list past 32 domains or 2048 characters is cut from its end, with the applied line in the warning', () => {
  const many = Array.from({ length: 40 }, (_, i) => `d${i}.example`);
  const settings = { clusterDNS: [], clusterDomain: '', resolvConf: '' };
  const cut = podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['192.0.2.1'] } }), settings);
  expect(cut.config.searches).toEqual([]);
  // The host's file may hold what the API would refuse in dnsConfig.
  fs.writeFileSync(path.join(tmp, 'long.conf'), `nameserver 192.0.2.1\nsearch ${many.join(' ')}\n`);
  const long = podDnsConfig(pod({ dnsPolicy: 'Default' }), {
    ...settings,
    resolvConf: path.join(tmp, 'long.conf'),
  });
  expect(long.config.searches).toEqual(many.slice(0, 32));
  expect(long.warnings[0].message).toContain(`the applied search line is: ${many.slice(0, 32).join(' ')}`);
  const wide = Array.from(
    { length: 20 },
    (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(120)}.example`,
  );
  fs.writeFileSync(path.join(tmp, 'wide.conf'), `search ${wide.join(' ')}\n`);
  const cutWide = podDnsConfig(pod({ dnsPolicy: 'Default' }), {
    ...settings,
    resolvConf: path.join(tmp, 'wide.conf'),
  });
  expect(cutWide.config.searches.join(' ').length).toBeLessThanOrEqual(2048);
  expect(cutWide.config.searches).toEqual(wide.slice(0, cutWide.config.searches.length));
  expect(cutWide.warnings.map((w) => w.reason)).toEqual(['DNSConfigForming']);
});

test.each<[string, Partial<PodSpec>, string, { hostname: string; domain: string }, string]>([
  ['the pod name', {}, 'web', { hostname: 'web', domain: '' }, 'web'],
  ['spec.hostname', { hostname: 'db-0' }, 'web', { hostname: 'db-0', domain: '' }, 'db-0'],
  [
    'a subdomain gives the FQDN, the kernel keeps the short name',
    { hostname: 'db-0', subdomain: 'db' },
    'web',
    { hostname: 'db-0', domain: 'db.shop.svc.cluster.local' },
    'db-0',
  ],
  [
    'setHostnameAsFQDN names the kernel by the FQDN',
    { hostname: 'db-0', subdomain: 'db', setHostnameAsFQDN: true },
    'web',
    { hostname: 'db-0', domain: 'db.shop.svc.cluster.local' },
    'db-0.db.shop.svc.cluster.local',
  ],
  [
    'a long pod name is cut to 63 characters without a trailing dash',
    {},
    `${'a'.repeat(62)}-bcd`,
    { hostname: 'a'.repeat(62), domain: '' },
    'a'.repeat(62),
  ],
])('host name: %s', (_name, spec, name, names, kernel) => {
  const p = pod(spec, name);
  expect(podHostnameAndDomain(p, 'cluster.local')).toEqual(names);
  expect(kernelHostname(p, 'cluster.local')).toBe(kernel);
});

test('an FQDN longer than the kernel takes refuses the sandbox, as the kubelet does', () => {
  const p = pod({ hostname: 'h'.repeat(40), subdomain: 's'.repeat(10), setHostnameAsFQDN: true });
  expect(() => kernelHostname(p, 'cluster.local')).toThrow(
    /FQDN .* is too long \(64 characters is the max, 74/,
  );
});

test.each<[string, Partial<PodSpec> | Record<string, unknown>, string]>([
  [
    'an unknown dnsPolicy',
    { dnsPolicy: 'Cluster' },
    'spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"',
  ],
  [
    'None without dnsConfig',
    { dnsPolicy: 'None' },
    'spec.dnsConfig: Required value: must provide `dnsConfig`',
  ],
  [
    'None without nameservers',
    { dnsPolicy: 'None', dnsConfig: { searches: ['a.example'] } },
    'spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver',
  ],
  [
    'four nameservers',
    { dnsConfig: { nameservers: ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'] } },
    'spec.dnsConfig.nameservers: must not have more than 3 nameservers',
  ],
  [
    'a nameserver that is not an IP',
    { dnsConfig: { nameservers: ['dns.example'] } },
    'spec.dnsConfig.nameservers.0: must be a valid IP address',
  ],
  [
    '33 search paths',
    { dnsConfig: { searches: Array.from({ length: 33 }, (_, i) => `d${i}.example`) } },
    'spec.dnsConfig.searches: must not have more than 32 search paths',
  ],
  [
    'a search list over 2048 characters',
    {
      dnsConfig: {
        searches: Array.from(
          { length: 12 },
          (_, i) => `d${i}.${'x'.repeat(60)}.${'y'.repeat(60)}.${'z'.repeat(60)}`,
        ),
      },
    },
    'spec.dnsConfig.searches: must not have more than 2048 characters (including spaces) in the search list',
  ],
  [
    'an option without a name',
    { dnsConfig: { options: [{ value: '2' }] } },
    'spec.dnsConfig.options.0.name: Option.Name must not be empty',
  ],
  [
    'a hostAlias IP that is not one',
    { hostAliases: [{ ip: 'x', hostnames: ['a'] }] },
    'spec.hostAliases.0.ip: must be a valid IP address',
  ],
  ['a hostname that is not a DNS label', { hostname: 'Web_1' }, 'spec.hostname: a lowercase RFC 1123 label'],
  ['a subdomain that is not a DNS label', { subdomain: 'a.b' }, 'spec.subdomain: a lowercase RFC 1123 label'],
])('validation refuses %s, naming the field', (_name, spec, message) => {
  const parsed = parseManifest(
    '/m/p.yaml',
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'i' }], ...spec },
    }),
    'n',
  );
  expect(parsed.error).toContain(message);
});

test('validation takes the relaxed search domains and dnsConfig options with values', () => {
  const parsed = parseManifest(
    '/m/p.yaml',
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        containers: [{ name: 'c', image: 'i' }],
        dnsConfig: {
          searches: ['.', '_srv.example.', 'a.example'],
          options: [{ name: 'ndots', value: '2' }],
        },
        hostAliases: [{ ip: 'fd00::1', hostnames: ['a.example'] }],
        enableServiceLinks: false,
        setHostnameAsFQDN: true,
      },
    }),
    'n',
  );
  expect(parsed.error).toBeUndefined();
});

test('the MissingClusterDNS warning names the pod as the kubelet does', () => {
  const { warnings } = podDnsConfig(pod({}), hostOnly());
  expect(warnings[0].message).toBe(
    'pod: "web_shop(u1)". kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.',
  );
});
