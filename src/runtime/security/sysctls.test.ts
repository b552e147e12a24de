import { normalizeSysctlName, validateSysctls } from './sysctls';

const privateNs = { hostNetwork: false, hostIpc: false };

describe('validateSysctls', () => {
  it('accepts IPC and network sysctls when the pod owns those namespaces', () => {
    const sysctls = { 'kernel.shm_rmid_forced': '1', 'fs.mqueue.msg_max': '100', 'net.ipv4.ip_forward': '1' };
    expect(validateSysctls(sysctls, privateNs)).toEqual(sysctls);
  });

  it('refuses sysctls that are not namespaced', () => {
    expect(() => validateSysctls({ 'vm.swappiness': '1' }, privateNs)).toThrow(
      "Cannot set sysctl 'vm.swappiness': it is not namespaced",
    );
    expect(() => validateSysctls({ 'kernel.hostname': 'x' }, privateNs)).toThrow(/not namespaced/);
  });

  it('refuses network sysctls in the host network namespace and IPC ones in the host IPC namespace', () => {
    expect(() =>
      validateSysctls({ 'net.core.somaxconn': '1024' }, { hostNetwork: true, hostIpc: false }),
    ).toThrow(/host network namespace/);
    expect(() => validateSysctls({ 'kernel.msgmax': '1' }, { hostNetwork: false, hostIpc: true })).toThrow(
      /host IPC namespace/,
    );
  });

  it('refuses names that would walk out of /proc/sys', () => {
    expect(() => validateSysctls({ 'net...x': '1' }, privateNs)).toThrow(/not a valid sysctl name/);
    expect(() => validateSysctls({ 'net.ipv4/../../x': '1' }, privateNs)).toThrow(/not a valid sysctl name/);
  });

  it('reads slash-separated names the way Kubernetes does', () => {
    expect(normalizeSysctlName('net/ipv4/conf/eth0.100/forwarding')).toBe(
      'net.ipv4.conf.eth0/100.forwarding',
    );
    expect(normalizeSysctlName('net.ipv4.ip_forward')).toBe('net.ipv4.ip_forward');
  });
});
