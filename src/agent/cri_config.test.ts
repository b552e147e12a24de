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
