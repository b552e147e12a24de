// The Stream* RPCs and UpdatePodSandboxResources against a real daemon (CheckpointContainer: checkpoint.test.ts).
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadCri } from '../../../src/cri/proto';
import type { TestCriClient } from '../../support/cri_client';
import type { TestDaemon } from '../../support/daemon';
import { BUSYBOX, CriEnv, startCriEnv, stopCriEnv } from '../../support/cri_env';

const IMAGE = BUSYBOX;
let env: CriEnv | undefined;
let daemon: TestDaemon;
let cri: TestCriClient;
let podId: string;
let containerId: string;

jest.setTimeout(180_000);

beforeAll(async () => {
  env = await startCriEnv();
  ({ daemon, cri } = env);
  const config = { metadata: { name: 'streams', namespace: 'rpcs', uid: 'uid-streams', attempt: 0 } };
  podId = (await cri.runtime<{ pod_sandbox_id: string }>('RunPodSandbox', { config }, 60_000)).pod_sandbox_id;
  containerId = (
    await cri.runtime<{ container_id: string }>(
      'CreateContainer',
      {
        pod_sandbox_id: podId,
        config: { metadata: { name: 'sleep' }, image: { image: IMAGE }, command: ['sleep', '3600'] },
        sandbox_config: config,
      },
      60_000,
    )
  ).container_id;
  await cri.runtime('StartContainer', { container_id: containerId }, 60_000);
});

afterAll(async () => {
  await stopCriEnv(env);
});

/** Every message of a server stream, or its error. */
function readStream<T>(
  service: 'RuntimeService' | 'ImageService',
  method: string,
  req: object,
): Promise<T[]> {
  const { grpcType } = loadCri();
  const client = new grpcType.runtime.v1[service](daemon.endpoint, grpc.credentials.createInsecure());
  const stream = (client as unknown as Record<string, (r: object) => grpc.ClientReadableStream<T>>)[
    method
  ].call(client, req);
  const got: T[] = [];
  return new Promise<T[]>((resolve, reject) => {
    stream.on('data', (m: T) => got.push(m));
    stream.on('error', reject);
    stream.on('end', () => resolve(got));
  }).finally(() => client.close());
}

describe('Stream* RPCs', () => {
  test('StreamPodSandboxes and StreamContainers send what the lists answer, with the same filter', async () => {
    const pods = await readStream<{ pod_sandboxes: { id: string }[] }>(
      'RuntimeService',
      'StreamPodSandboxes',
      {
        filter: { id: podId },
      },
    );
    expect(pods.flatMap((m) => m.pod_sandboxes.map((p) => p.id))).toEqual([podId]);
    const containers = await readStream<{ containers: { id: string; state: string }[] }>(
      'RuntimeService',
      'StreamContainers',
      { filter: { pod_sandbox_id: podId } },
    );
    expect(containers.flatMap((m) => m.containers)).toEqual([
      expect.objectContaining({ id: containerId, state: 'CONTAINER_RUNNING' }),
    ]);
    const none = await readStream('RuntimeService', 'StreamContainers', { filter: { id: 'no-such-id' } });
    expect(none).toEqual([]);
  });

  test('StreamContainerStats and StreamImages answer too', async () => {
    const stats = await readStream<{ container_stats: { attributes: { id: string } }[] }>(
      'RuntimeService',
      'StreamContainerStats',
      {},
    );
    expect(stats.flatMap((m) => m.container_stats.map((s) => s.attributes.id))).toContain(containerId);
    const images = await readStream<{ images: { repo_tags: string[] }[] }>(
      'ImageService',
      'StreamImages',
      {},
    );
    expect(images.flatMap((m) => m.images.flatMap((i) => i.repo_tags))).toContain(IMAGE);
  });
});

describe('UpdatePodSandboxResources', () => {
  test('sets the limits of a pod cgroup nodelet made: the containers’ totals plus the overhead', async () => {
    await cri.runtime('UpdatePodSandboxResources', {
      pod_sandbox_id: podId,
      resources: { memory_limit_in_bytes: String(256 << 20), cpu_shares: '512' },
      overhead: { memory_limit_in_bytes: String(1 << 20), cpu_shares: '2' },
    });
    const { info } = await cri.runtime<{ info: { info: string } }>('PodSandboxStatus', {
      pod_sandbox_id: podId,
      verbose: true,
    });
    const { cgroupParent } = JSON.parse(info.info) as { cgroupParent: string };
    const memory = path.join('/sys/fs/cgroup/memory', cgroupParent, 'memory.limit_in_bytes');
    const cpu = path.join('/sys/fs/cgroup/cpu', cgroupParent, 'cpu.shares');
    expect(fs.readFileSync(memory, 'utf8').trim()).toBe(String(257 << 20));
    expect(fs.readFileSync(cpu, 'utf8').trim()).toBe('514');
  });

  test('is refused for an unknown pod', async () => {
    await expect(
      cri.runtime('UpdatePodSandboxResources', { pod_sandbox_id: 'no-such-pod', resources: {} }),
    ).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });
});
