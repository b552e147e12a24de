// Localhost seccomp profiles as the kubelet sends them: the pod names one relative to the node's
// <root-dir>/seccomp, the runtime gets the absolute path, and a name that would leave the directory
// never becomes a request.
import { containerConfig, sandboxConfig } from './cri_config';
import { podSchema } from './pod_spec';

const SECCOMP_DIR = '/var/lib/nodelet/agent/seccomp';

function pod(profile: Record<string, unknown>) {
  return podSchema.safeParse({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'u1' },
    spec: {
      securityContext: { seccompProfile: profile },
      containers: [{ name: 'c', image: 'busybox', securityContext: { seccompProfile: profile } }],
    },
  });
}

describe('Localhost seccomp profiles', () => {
  it('reach the runtime as an absolute path under <root-dir>/seccomp, for the pod and its containers', () => {
    const parsed = pod({ type: 'Localhost', localhostProfile: 'profiles/audit.json' });
    if (!parsed.success) throw parsed.error;
    const p = parsed.data;
    const sandbox = sandboxConfig(p, 0, {
      podLogsDir: '/var/log/pods',
      seccompDir: SECCOMP_DIR,
      cgroupParent: '/kubepods',
      nodeName: 'n',
    });
    expect(sandbox.linux?.security_context?.seccomp).toEqual({
      profile_type: 'Localhost',
      localhost_ref: `${SECCOMP_DIR}/profiles/audit.json`,
    });
    const ctr = containerConfig(p, p.spec.containers[0], {
      qos: 'BestEffort',
      restartCount: 0,
      facts: { nodeName: 'n', hostIP: '127.0.0.1', podIPs: [], nodeCpuCores: 2, nodeMemoryBytes: 1 << 30 },
      mounts: [],
      memoryCapacity: 1 << 30,
      seccompDir: SECCOMP_DIR,
    });
    expect(ctr.linux?.security_context?.seccomp?.localhost_ref).toBe(`${SECCOMP_DIR}/profiles/audit.json`);
  });

  it.each([['../../etc/shadow'], ['/etc/seccomp.json'], ['a/../../b']])(
    "refuse a profile name that leaves the directory: '%s'",
    (name) => {
      const parsed = pod({ type: 'Localhost', localhostProfile: name });
      expect(parsed.success).toBe(false);
      expect(JSON.stringify(parsed.error?.issues)).toContain("must be a relative path without '..'");
    },
  );

  it('require a profile name', () => {
    expect(pod({ type: 'Localhost' }).success).toBe(false);
  });
});

describe('hostUsers: false', () => {
  const RANGE = { hostId: 3 * 65536, length: 65536 };
  const MAPPING = [{ container_id: 0, host_id: 3 * 65536, length: 65536 }];
  const parse = (hostUsers: boolean | undefined) => {
    const parsed = podSchema.safeParse({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default', uid: 'u1' },
      spec: {
        ...(hostUsers === undefined ? {} : { hostUsers }),
        containers: [{ name: 'c', image: 'busybox' }],
      },
    });
    if (!parsed.success) throw parsed.error;
    return parsed.data;
  };
  const configs = (hostUsers: boolean | undefined, userNamespace: typeof RANGE | undefined) => {
    const p = parse(hostUsers);
    const sandbox = sandboxConfig(p, 0, {
      podLogsDir: '/var/log/pods',
      seccompDir: SECCOMP_DIR,
      cgroupParent: '/kubepods',
      nodeName: 'n',
      userNamespace,
    });
    const ctr = containerConfig(p, p.spec.containers[0], {
      qos: 'BestEffort',
      restartCount: 0,
      facts: { nodeName: 'n', hostIP: '127.0.0.1', podIPs: [], nodeCpuCores: 2, nodeMemoryBytes: 1 << 30 },
      mounts: [
        { container_path: '/data', host_path: '/pods/u1/volumes/kubernetes.io~empty-dir/data' },
        { container_path: '/etc/hosts', host_path: '/pods/u1/etc-hosts' },
        { container_path: '/dev/termination-log', host_path: '/pods/u1/containers/c/0' },
      ],
      memoryCapacity: 1 << 30,
      seccompDir: SECCOMP_DIR,
      userNamespace,
    });
    return { sandbox, ctr };
  };

  it('gives the sandbox and the container the pod mapping, and every mount carries it', () => {
    const { sandbox, ctr } = configs(false, RANGE);
    const userns = { mode: 'POD', uids: MAPPING, gids: MAPPING };
    expect(sandbox.linux?.security_context?.namespace_options?.userns_options).toEqual(userns);
    expect(ctr.linux?.security_context?.namespace_options?.userns_options).toEqual(userns);
    expect(ctr.mounts).toHaveLength(3);
    for (const m of ctr.mounts ?? []) {
      expect(m.uidMappings).toEqual(MAPPING);
      expect(m.gidMappings).toEqual(MAPPING);
    }
  });

  it.each([[undefined], [true]])('leaves both out for hostUsers %s', (hostUsers) => {
    const { sandbox, ctr } = configs(hostUsers, undefined);
    expect(sandbox.linux?.security_context?.namespace_options?.userns_options).toBeUndefined();
    expect(ctr.linux?.security_context?.namespace_options?.userns_options).toBeUndefined();
    for (const m of ctr.mounts ?? []) {
      expect(m.uidMappings).toBeUndefined();
      expect(m.gidMappings).toBeUndefined();
    }
  });
});

describe('seLinuxOptions', () => {
  it("are accepted and reach the runtime, the container's own or else the pod's (the e2e EmptyDir specs set level s0)", () => {
    const parsed = podSchema.safeParse({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default', uid: 'u1' },
      spec: {
        securityContext: { seLinuxOptions: { level: 's0' } },
        containers: [
          { name: 'a', image: 'busybox' },
          { name: 'b', image: 'busybox', securityContext: { seLinuxOptions: { type: 'spc_t' } } },
        ],
      },
    });
    if (!parsed.success) throw parsed.error;
    const p = parsed.data;
    const sandbox = sandboxConfig(p, 0, {
      podLogsDir: '/var/log/pods',
      seccompDir: SECCOMP_DIR,
      cgroupParent: '/kubepods',
      nodeName: 'n',
    });
    expect(sandbox.linux?.security_context?.selinux_options).toEqual({ level: 's0' });
    const options = p.spec.containers.map(
      (c) =>
        containerConfig(p, c, {
          qos: 'BestEffort',
          restartCount: 0,
          facts: {
            nodeName: 'n',
            hostIP: '127.0.0.1',
            podIPs: [],
            nodeCpuCores: 2,
            nodeMemoryBytes: 1 << 30,
          },
          mounts: [],
          memoryCapacity: 1 << 30,
          seccompDir: SECCOMP_DIR,
        }).linux?.security_context?.selinux_options,
    );
    expect(options).toEqual([{ level: 's0' }, { type: 'spc_t' }]);
  });
});
