import type { Pod } from './pod_spec';
import { dotted, SysctlAdmission } from './sysctl_admission';

const pod = (names: string[], spec: Partial<Pod['spec']> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p' },
  spec: {
    containers: [{ name: 'c', image: 'i' }],
    securityContext: { sysctls: names.map((name) => ({ name, value: '1' })) },
    ...spec,
  },
});

test('the kubelet safe sysctls pass without any flag; everything else is not allowlisted', () => {
  const a = new SysctlAdmission([], '6.1.0-13-amd64');
  for (const s of [
    'kernel.shm_rmid_forced',
    'net.ipv4.ip_local_port_range',
    'net.ipv4.tcp_wmem',
    'net/ipv4/tcp_rmem',
  ]) {
    expect(a.check(pod([s]))).toBeUndefined();
  }
  expect(a.check(pod(['kernel.msgmax']))).toBe('forbidden sysctl: "kernel.msgmax" not allowlisted');
  expect(a.check(pod(['vm.swappiness']))).toBe('forbidden sysctl: "vm.swappiness" not allowlisted');
  expect(a.check(pod(['net.core.somaxconn']))).toBe('forbidden sysctl: "net.core.somaxconn" not allowlisted');
});

test('safe sysctls the kernel does not namespace yet are dropped, as the kubelet drops them', () => {
  const old = new SysctlAdmission([], '4.4.0');
  expect(old.check(pod(['net.ipv4.tcp_keepalive_time']))).toContain('not allowlisted');
  expect(old.check(pod(['net.ipv4.ip_local_reserved_ports']))).toBeUndefined();
});

test('a sysctl of a namespace the pod shares with the host is refused, safe or allowed', () => {
  const a = new SysctlAdmission(['kernel.msg*', 'fs.mqueue.msg_max']);
  expect(a.check(pod(['net.ipv4.tcp_syncookies'], { hostNetwork: true }))).toBe(
    'forbidden sysctl: "net.ipv4.tcp_syncookies" not allowed with host net enabled',
  );
  expect(a.check(pod(['kernel.shm_rmid_forced'], { hostIPC: true }))).toBe(
    'forbidden sysctl: "kernel.shm_rmid_forced" not allowed with host ipc enabled',
  );
  expect(a.check(pod(['kernel.msgmax'], { hostIPC: true }))).toContain('not allowed with host ipc enabled');
  expect(a.check(pod(['kernel.msgmax'], { hostNetwork: true }))).toBeUndefined();
  expect(a.check(pod(['net.ipv4.tcp_syncookies'], { hostIPC: true }))).toBeUndefined();
});

test('--allowed-unsafe-sysctls takes names and prefix* patterns of namespaced sysctls only', () => {
  const a = new SysctlAdmission(['kernel.msg*', 'net.core.somaxconn']);
  expect(a.check(pod(['kernel.msgmax', 'kernel.msgmnb', 'net.core.somaxconn']))).toBeUndefined();
  expect(a.check(pod(['net.core.rmem_max']))).toContain('not allowlisted');
  expect(() => new SysctlAdmission(['vm.swappiness'])).toThrow(
    'the sysctl "vm.swappiness" are not known to be namespaced',
  );
  expect(() => new SysctlAdmission(['kernel.*'])).toThrow(
    'the sysctls "kernel.*" are not known to be namespaced',
  );
  expect(() => new SysctlAdmission(['Net.IPv4'])).toThrow('must have at most 253 characters and match regex');
});

test('slash-separated names read as dotted ones', () => {
  expect(dotted('net/ipv4/conf/eth0.100/forwarding')).toBe('net.ipv4.conf.eth0/100.forwarding');
  expect(dotted('net.ipv4.ip_forward')).toBe('net.ipv4.ip_forward');
});
