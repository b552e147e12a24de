import { parseDuration, runAgentCommand, unsafeSysctlsFlag } from './agent';
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
