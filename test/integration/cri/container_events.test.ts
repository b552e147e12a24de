// GetContainerEvents against a real daemon: what a kubelet with EventedPLEG sees of a pod's life,
// including an exit that only the monitor saw (no RPC asked for it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadCri } from '../../../src/cri/proto';
import type { ContainerEventResponse__Output } from '../../../src/gen/runtime/v1/ContainerEventResponse';
import type { TestCriClient } from '../../support/cri_client';
import type { TestDaemon } from '../../support/daemon';
import { BUSYBOX, CriEnv, startCriEnv, stopCriEnv } from '../../support/cri_env';

const IMAGE = BUSYBOX;
let env: CriEnv | undefined;
let daemon: TestDaemon;
let cri: TestCriClient;
let logs: string;

jest.setTimeout(180_000);

beforeAll(async () => {
  env = await startCriEnv();
  ({ daemon, cri } = env);
  logs = fs.mkdtempSync(path.join(os.tmpdir(), 'nodelet-evlogs-'));
});

afterAll(async () => {
  await stopCriEnv(env);
  fs.rmSync(logs, { recursive: true, force: true });
});

/** A GetContainerEvents stream whose events can be awaited one by one. */
function subscribe(endpoint: string) {
  const { grpcType } = loadCri();
  const client = new grpcType.runtime.v1.RuntimeService(endpoint, grpc.credentials.createInsecure());
  const stream = client.GetContainerEvents({}) as grpc.ClientReadableStream<ContainerEventResponse__Output>;
  const seen: ContainerEventResponse__Output[] = [];
  let wake: () => void = () => undefined;
  let ended: grpc.ServiceError | undefined;
  stream.on('data', (e: ContainerEventResponse__Output) => {
    seen.push(e);
    wake();
  });
  stream.on('error', (err: grpc.ServiceError) => {
    ended = err;
    wake();
  });
  return {
    seen,
    /** Waits for an event of this id and type; fails if the stream ends first. */
    async waitFor(id: string, type: string): Promise<ContainerEventResponse__Output> {
      for (;;) {
        const hit = seen.find((e) => e.container_id === id && e.container_event_type === type);
        if (hit) return hit;
        if (ended) throw ended;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    close() {
      stream.cancel();
      client.close();
    },
  };
}

describe('container events', () => {
  test('a pod and its container are told from creation to deletion, with the exit the monitor saw', async () => {
    const events = subscribe(daemon.endpoint);
    try {
      const podConfig = {
        metadata: { name: 'ev', namespace: 'events', uid: 'uid-ev', attempt: 0 },
        log_directory: logs,
      };
      const { pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
        'RunPodSandbox',
        { config: podConfig },
        60_000,
      );
      const podStarted = await events.waitFor(pod, 'CONTAINER_STARTED_EVENT');
      expect(podStarted.pod_sandbox_status?.metadata?.uid).toBe('uid-ev');
      expect(podStarted.pod_sandbox_status?.network?.ip).toMatch(/^10\./);

      const { container_id: id } = await cri.runtime<{ container_id: string }>(
        'CreateContainer',
        {
          pod_sandbox_id: pod,
          config: {
            metadata: { name: 'ev' },
            image: { image: IMAGE },
            command: ['sh', '-c', 'sleep 1; exit 3'],
          },
          sandbox_config: podConfig,
        },
        60_000,
      );
      await events.waitFor(id, 'CONTAINER_CREATED_EVENT');
      await cri.runtime('StartContainer', { container_id: id }, 60_000);
      await events.waitFor(id, 'CONTAINER_STARTED_EVENT');

      // Nobody calls StopContainer: the workload exits by itself and the monitor reports it.
      const stopped = await events.waitFor(id, 'CONTAINER_STOPPED_EVENT');
      expect(stopped.pod_sandbox_status?.id).toBe(pod);
      expect(stopped.containers_statuses).toEqual([
        expect.objectContaining({ id, state: 'CONTAINER_EXITED', exit_code: 3, reason: 'Error' }),
      ]);
      expect(BigInt(stopped.created_at)).toBeGreaterThan(0n);

      await cri.runtime('RemoveContainer', { container_id: id }, 60_000);
      const deleted = await events.waitFor(id, 'CONTAINER_DELETED_EVENT');
      expect(deleted.containers_statuses).toEqual([]);
      await cri.runtime('StopPodSandbox', { pod_sandbox_id: pod }, 60_000);
      await events.waitFor(pod, 'CONTAINER_STOPPED_EVENT');
      await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod }, 60_000);
      const podDeleted = await events.waitFor(pod, 'CONTAINER_DELETED_EVENT');
      expect(podDeleted.pod_sandbox_status?.state).toBe('SANDBOX_NOTREADY');

      const order = events.seen
        .filter((e) => e.container_id === id)
        .map((e) => e.container_event_type.replace(/^CONTAINER_|_EVENT$/g, ''));
      expect(order).toEqual(['CREATED', 'STARTED', 'STOPPED', 'DELETED']);
    } finally {
      events.close();
    }
  });

  test('every subscriber gets the same events', async () => {
    const a = subscribe(daemon.endpoint);
    const b = subscribe(daemon.endpoint);
    try {
      // Both streams are open once the server has answered them: give them one round trip.
      await cri.runtime('Version', {});
      const { pod_sandbox_id: pod } = await cri.runtime<{ pod_sandbox_id: string }>(
        'RunPodSandbox',
        { config: { metadata: { name: 'two', namespace: 'events', uid: 'uid-two', attempt: 0 } } },
        60_000,
      );
      await a.waitFor(pod, 'CONTAINER_STARTED_EVENT');
      await b.waitFor(pod, 'CONTAINER_STARTED_EVENT');
      await cri.runtime('RemovePodSandbox', { pod_sandbox_id: pod }, 60_000);
      await a.waitFor(pod, 'CONTAINER_DELETED_EVENT');
      await b.waitFor(pod, 'CONTAINER_DELETED_EVENT');
    } finally {
      a.close();
      b.close();
    }
  });
});
