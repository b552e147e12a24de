// A small promise-based CRI client for tests: any RPC by name, with a deadline.
import * as grpc from '@grpc/grpc-js';
import { loadCri, MAX_MESSAGE_BYTES } from '../../src/cri/proto';

export interface TestCriClient {
  runtime<T = Record<string, unknown>>(method: string, request?: object, timeoutMs?: number): Promise<T>;
  image<T = Record<string, unknown>>(method: string, request?: object, timeoutMs?: number): Promise<T>;
  close(): void;
}

export function criClient(endpoint: string): TestCriClient {
  const { grpcType } = loadCri();
  const opts = { 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES };
  const creds = grpc.credentials.createInsecure();
  const runtime = new grpcType.runtime.v1.RuntimeService(endpoint, creds, opts);
  const image = new grpcType.runtime.v1.ImageService(endpoint, creds, opts);
  const call =
    (client: grpc.Client) =>
    <T>(method: string, request: object = {}, timeoutMs = 10000): Promise<T> =>
      new Promise((resolve, reject) => {
        const fn = (client as unknown as Record<string, unknown>)[method];
        if (typeof fn !== 'function') return reject(new Error(`no such RPC ${method}`));
        fn.call(
          client,
          request,
          { deadline: Date.now() + timeoutMs },
          (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res)),
        );
      });
  return {
    runtime: call(runtime),
    image: call(image),
    close: () => {
      runtime.close();
      image.close();
    },
  };
}

/**
 * Stops and removes every pod sandbox of the runtime at `endpoint`, carrying on past failures: what
 * a failed test left running goes through CRI before its daemon stops.
 */
export async function removeAllPods(endpoint: string): Promise<void> {
  const cri = criClient(endpoint);
  try {
    const { items } = await cri
      .runtime<{ items: { id: string }[] }>('ListPodSandbox', {})
      .catch(() => ({ items: [] }));
    for (const { id } of items) {
      await cri.runtime('StopPodSandbox', { pod_sandbox_id: id }, 60_000).catch(() => undefined);
      await cri.runtime('RemovePodSandbox', { pod_sandbox_id: id }, 60_000).catch(() => undefined);
    }
  } finally {
    cri.close();
  }
}
