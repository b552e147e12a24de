import { parseDuration, runAgentCommand } from './agent';
import { CliUsageError } from './usage';

test('durations take the kubelet flag forms', () => {
  expect(parseDuration('20s')).toBe(20_000);
  expect(parseDuration('500ms')).toBe(500);
  expect(parseDuration('1m')).toBe(60_000);
  expect(() => parseDuration('20')).toThrow(CliUsageError);
});

test('--kubeconfig says that connected mode is not implemented yet', async () => {
  await expect(runAgentCommand(['--kubeconfig', '/k', '--pod-manifest-path', '/m'])).rejects.toThrow(
    'Cannot start the agent with --kubeconfig: connected mode is not implemented yet',
  );
});

test('standalone mode needs a manifest directory', async () => {
  await expect(runAgentCommand([])).rejects.toThrow(CliUsageError);
  await expect(runAgentCommand(['--pod-manifest-path', '/m', '--cgroup-driver', 'other'])).rejects.toThrow(
    "unknown cgroup driver 'other'",
  );
});
