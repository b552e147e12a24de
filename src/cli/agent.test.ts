import { dnsFlags, parseDuration, podCgroupFlags, runAgentCommand, unsafeSysctlsFlag } from './agent';
import { CliUsageError } from './usage';

test('durations take the kubelet flag forms', () => {
  expect(parseDuration('20s')).toBe(20_000);
  expect(parseDuration('500ms')).toBe(500);
  expect(parseDuration('1m')).toBe(60_000);
  expect(() => parseDuration('20')).toThrow(CliUsageError);
});

test('connected mode refuses a pods capacity that is not a positive integer', async () => {
  await expect(runAgentCommand(['--kubeconfig', '/k', '--max-pods', '0'])).rejects.toThrow(
    'Cannot read --max-pods=0: expected a positive integer',
  );
});

test('the agent needs a manifest directory or a kubeconfig', async () => {
  await expect(runAgentCommand([])).rejects.toThrow(CliUsageError);
  await expect(runAgentCommand(['--pod-manifest-path', '/m', '--cgroup-driver', 'other'])).rejects.toThrow(
    "unknown cgroup driver 'other'",
  );
});

test('--allowed-unsafe-sysctls takes comma-separated namespaced patterns and refuses the others', () => {
  expect(unsafeSysctlsFlag('kernel.msg*, net.core.somaxconn')).toEqual(['kernel.msg*', 'net.core.somaxconn']);
  expect(unsafeSysctlsFlag(undefined)).toEqual([]);
  expect(() => unsafeSysctlsFlag('vm.swappiness')).toThrow(
    'Cannot use --allowed-unsafe-sysctls=vm.swappiness: the sysctl "vm.swappiness" are not known to be namespaced',
  );
});

test('--cluster-dns is repeatable and comma-separated, refuses what is not an IP; --cluster-domain loses a trailing dot', () => {
  expect(
    dnsFlags({ 'cluster-dns': ['10.96.0.10,fd00::a', ' 10.96.0.11 '], 'cluster-domain': 'cluster.local.' }),
  ).toEqual({
    clusterDNS: ['10.96.0.10', 'fd00::a', '10.96.0.11'],
    clusterDomain: 'cluster.local',
    resolvConf: '/etc/resolv.conf',
  });
  expect(dnsFlags({ 'resolv-conf': '' })).toEqual({ clusterDNS: [], clusterDomain: '', resolvConf: '' });
  expect(() => dnsFlags({ 'cluster-dns': ['dns.example'] })).toThrow(
    'Cannot use --cluster-dns=dns.example: not an IP address',
  );
});

test('the pod cgroup flags take the kubelet forms and refuse what the agent cannot enforce', () => {
  expect(podCgroupFlags({})).toEqual({ enforceNodeAllocatable: undefined, podPidsLimit: undefined });
  expect(podCgroupFlags({ 'enforce-node-allocatable': 'pods', 'pod-max-pids': '-1' })).toEqual({
    enforceNodeAllocatable: ['pods'],
    podPidsLimit: -1,
  });
  expect(() => podCgroupFlags({ 'enforce-node-allocatable': 'pods,kube-reserved' })).toThrow(CliUsageError);
  expect(() => podCgroupFlags({ 'pod-max-pids': '-2' })).toThrow(
    'Cannot read --pod-max-pids=-2: expected a whole number, -1 for no limit',
  );
});
