// StopContainer right after StartContainer, as critest does with `top`: the workload is its PID
// namespace's init, which the kernel spares every signal it has no handler for. A stop signal sent
// before the handler is installed is lost; the stop sends it again once the handler is there, so the
// workload ends gracefully (its own exit code) instead of being killed at the end of the grace period.
import { BUSYBOX, CriEnv, startCriEnv, stopCriEnv } from '../../support/cri_env';

let env: CriEnv | undefined;

jest.setTimeout(180_000);

beforeAll(async () => {
  env = await startCriEnv();
});

afterAll(async () => {
  await stopCriEnv(env);
});

test('a stop sent before the workload handles SIGTERM reaches it once it does', async () => {
  const { cri } = env as CriEnv;
  const podConfig = { metadata: { name: 'stopearly', namespace: 'stop', uid: 'uid-stopearly', attempt: 0 } };
  const { pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config: podConfig },
    60_000,
  );
  // The handler comes a second after the start, long after StopContainer has sent SIGTERM.
  const { container_id: id } = await cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: pod,
      config: {
        metadata: { name: 'stopearly' },
        image: { image: BUSYBOX },
        command: ['sh', '-c', 'sleep 1; trap "exit 7" TERM; while :; do sleep 0.1; done'],
      },
      sandbox_config: podConfig,
    },
    60_000,
  );
  await cri.runtime('StartContainer', { container_id: id }, 60_000);
  await cri.runtime('StopContainer', { container_id: id, timeout: 60 }, 120_000);
  const { status } = await cri.runtime<{ status: { state: string; exit_code: number } }>('ContainerStatus', {
    container_id: id,
  });
  expect(status.state).toBe('CONTAINER_EXITED');
  expect(status.exit_code).toBe(7); // its own handler ran: not 137 from the SIGKILL after 60 s
});
