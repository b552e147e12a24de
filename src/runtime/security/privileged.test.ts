import type { ContainerSpec } from '../spec';
import { hostDevices, makePrivileged } from './privileged';

const spec = (): ContainerSpec => ({
  id: 'c1',
  root: { path: '/tmp/root', readonly: false },
  process: {
    terminal: false,
    args: ['sh'],
    env: [],
    cwd: '/',
    user: { uid: 0, gid: 0, additionalGids: [] },
    noNewPrivileges: false,
    rlimits: [],
  },
  mounts: [
    { destination: '/sys', source: 'sysfs', type: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/data', source: '/host/data', type: 'bind', options: ['rbind', 'ro'] },
  ],
  linux: {
    namespaces: [],
    sysctl: {},
    maskedPaths: ['/proc/kcore'],
    readonlyPaths: ['/proc/sys'],
    devices: [{ path: '/dev/null', type: 'c', major: 1, minor: 3 }],
    seccomp: { defaultAction: 'SCMP_ACT_ERRNO', architectures: [], syscalls: [] },
  },
});

describe('privileged containers', () => {
  it('see the host’s device nodes, such as /dev/null and /dev/zero, but not /dev/pts', () => {
    const devices = hostDevices();
    expect(devices).toContainEqual(
      expect.objectContaining({ path: '/dev/null', type: 'c', major: 1, minor: 3 }),
    );
    expect(devices).toContainEqual(
      expect.objectContaining({ path: '/dev/zero', type: 'c', major: 1, minor: 5 }),
    );
    expect(devices.some((d) => d.path.startsWith('/dev/pts/'))).toBe(false);
  });

  it('lose masking, read-only /sys and seccomp, and keep other read-only mounts', () => {
    const out = makePrivileged(spec());
    expect(out.linux.maskedPaths).toEqual([]);
    expect(out.linux.readonlyPaths).toEqual([]);
    expect(out.linux.seccomp).toBeUndefined();
    expect(out.mounts[0].options).toEqual(['nosuid', 'noexec', 'nodev']);
    expect(out.mounts[1].options).toEqual(['rbind', 'ro']);
    expect(out.linux.devices.filter((d) => d.path === '/dev/null')).toHaveLength(1);
  });
});
