// The runtime's own series move when the runtime works: a pull (and each layer it unpacked), a pod
// network set up and torn down through CNI, a container start and the init it started from.
import type { TestCriClient } from '../../support/cri_client';
import { BUSYBOX, CriEnv, scrapeMetrics, startCriEnv, stopCriEnv } from '../../support/cri_env';

let env: CriEnv | undefined;
let cri: TestCriClient;

jest.setTimeout(180_000);

beforeAll(async () => {
  env = await startCriEnv({ args: ['--metrics-address', '127.0.0.1:0'] });
  cri = env.cri;
});

afterAll(async () => {
  await stopCriEnv(env);
});

/** The value of one sample line, e.g. `nodelet_image_pull_duration_seconds_count`. */
function sample(body: string, series: string): number {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

test('a pull, a CNI pod and a container start are counted with their durations', async () => {
  const config = { metadata: { name: 'counted', namespace: 'metrics', uid: 'uid-counted', attempt: 0 } };
  const { pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
    'RunPodSandbox',
    { config },
    60_000,
  );
  const { container_id: id } = await cri.runtime<{ container_id: string }>(
    'CreateContainer',
    {
      pod_sandbox_id: pod,
      config: { metadata: { name: 'once' }, image: { image: BUSYBOX }, command: ['true'] },
      sandbox_config: config,
    },
    60_000,
  );
  await cri.runtime('StartContainer', { container_id: id }, 60_000);
  await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod }, 60_000);

  const body = await scrapeMetrics(env!.daemon);
  expect(sample(body, 'nodelet_image_pull_duration_seconds_count')).toBe(1);
  expect(sample(body, 'nodelet_image_pull_bytes_total')).toBeGreaterThan(0);
  expect(sample(body, 'nodelet_layer_unpack_duration_seconds_count{compression="gzip"}')).toBeGreaterThan(0);
  expect(sample(body, 'nodelet_cni_operation_duration_seconds_count{operation="setup"}')).toBe(1);
  expect(sample(body, 'nodelet_cni_operation_duration_seconds_count{operation="teardown"}')).toBe(1);
  expect(sample(body, 'nodelet_container_start_duration_seconds_count')).toBe(1);
  expect(body).not.toMatch(/^nodelet_container_start_failures_total\{/m);
});

test('a pull that fails is counted by its reason', async () => {
  await expect(
    cri.image('PullImage', { image: { image: 'registry.k8s.io/nodelet/absent:1' } }, 60_000),
  ).rejects.toThrow();
  const body = await scrapeMetrics(env!.daemon);
  expect(body).toMatch(/^nodelet_image_pull_failures_total\{reason="[^"]+"\} 1$/m);
});
