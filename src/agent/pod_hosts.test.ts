import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerHostsMounts, managedHostsContent, nodeHostsContent } from './pod_hosts';
import { podSchema, type Pod, type PodSpec } from './pod_spec';

const LOCAL = [
  '# Kubernetes-managed hosts file.',
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'fe00::0\tip6-mcastprefix',
  'fe00::1\tip6-allnodes',
  'fe00::2\tip6-allrouters',
];

test.each<[string, Parameters<typeof managedHostsContent>[0], string[]]>([
  [
    'the pod IP under its host name',
    { podIPs: ['10.1.0.5'], hostname: 'web', domain: '', aliases: [] },
    ['10.1.0.5\tweb'],
  ],
  [
    'the FQDN first when the pod has a subdomain, for every pod IP',
    { podIPs: ['10.1.0.5', 'fd00::5'], hostname: 'db-0', domain: 'db.shop.svc.cluster.local', aliases: [] },
    ['10.1.0.5\tdb-0.db.shop.svc.cluster.local\tdb-0', 'fd00::5\tdb-0.db.shop.svc.cluster.local\tdb-0'],
  ],
  [
    'hostAliases after a blank line and their header, one line per IP',
    {
      podIPs: ['10.1.0.5'],
      hostname: 'web',
      domain: '',
      aliases: [
        { ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] },
        { ip: '10.1.2.3', hostnames: ['foo.remote'] },
      ],
    },
    [
      '10.1.0.5\tweb',
      '',
      '# Entries added by HostAliases.',
      '127.0.0.1\tfoo.local\tbar.local',
      '10.1.2.3\tfoo.remote',
    ],
  ],
])('managed hosts file: %s', (_name, opts, tail) => {
  expect(managedHostsContent(opts)).toBe([...LOCAL, ...tail].join('\n') + '\n');
});

test('a host-network pod gets the node hosts file with its aliases after it', () => {
  expect(nodeHostsContent('127.0.0.1 localhost\n', [{ ip: '10.1.2.3', hostnames: ['x'] }])).toBe(
    '# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n\n# Entries added by HostAliases.\n10.1.2.3\tx\n',
  );
});

describe('the /etc/hosts mount', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-hosts-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  function pod(spec: Partial<PodSpec>): Pod {
    return podSchema.parse({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'shop', uid: 'u1' },
      spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
    });
  }

  test('is written to <pod dir>/etc-hosts once the pod has an IP, and mounted read-write', () => {
    const p = pod({ subdomain: 'svc1', hostAliases: [{ ip: '10.9.9.9', hostnames: ['alias.example'] }] });
    expect(
      containerHostsMounts(p, p.spec.containers[0], { podDir: tmp, podIPs: [], clusterDomain: 'c.local' }),
    ).toEqual([]);
    const [mount] = containerHostsMounts(p, p.spec.containers[0], {
      podDir: tmp,
      podIPs: ['10.1.0.5'],
      clusterDomain: 'c.local',
    });
    expect(mount).toEqual({
      container_path: '/etc/hosts',
      host_path: path.join(tmp, 'etc-hosts'),
      readonly: false,
      selinux_relabel: true,
    });
    const content = fs.readFileSync(mount.host_path!, 'utf8');
    expect(content).toContain('10.1.0.5\tweb.svc1.shop.svc.c.local\tweb\n');
    expect(content).toContain('10.9.9.9\talias.example\n');
    expect(fs.statSync(mount.host_path!).mode & 0o777).toBe(0o644);
  });

  test('is not made for a container that mounts a volume at /etc/hosts', () => {
    const p = pod({
      volumes: [{ name: 'h', emptyDir: {} }],
      containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'h', mountPath: '/etc/hosts' }] }],
    });
    expect(
      containerHostsMounts(p, p.spec.containers[0], { podDir: tmp, podIPs: ['10.1.0.5'], clusterDomain: '' }),
    ).toEqual([]);
  });
});
