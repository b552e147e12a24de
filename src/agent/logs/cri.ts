// The runtime calls of the log manager: the running containers, a container's status (its log path
// and the labels that name its link), and ReopenContainerLog, which the agent's pod-running
// interface does not need.
import * as grpc from '@grpc/grpc-js';
import { loadCri, MAX_MESSAGE_BYTES } from '../../cri/proto';
import type { Container__Output } from '../../gen/runtime/v1/Container';
import type { ContainerStatus__Output } from '../../gen/runtime/v1/ContainerStatus';
import { grpcTarget } from '../cri_client';

export interface ContainerLogRuntime {
  listContainers(state?: 'CONTAINER_RUNNING'): Promise<Container__Output[]>;
  /** The container's status; undefined when the runtime does not know it (NOT_FOUND). */
  containerStatus(containerId: string): Promise<ContainerStatus__Output | undefined>;
  reopenContainerLog(containerId: string): Promise<void>;
}

type Callback = (err: grpc.ServiceError | null, value?: unknown) => void;
type UnaryMethod = (req: unknown, options: grpc.CallOptions, cb: Callback) => unknown;

export class ContainerLogClient implements ContainerLogRuntime {
  private readonly runtime: grpc.Client;

  constructor(
    endpoint: string,
    private readonly timeoutMs = 120_000,
  ) {
    const { grpcType } = loadCri();
    const opts = { 'grpc.max_receive_message_length': MAX_MESSAGE_BYTES };
    const creds = grpc.credentials.createInsecure();
    this.runtime = new grpcType.runtime.v1.RuntimeService(grpcTarget(endpoint), creds, opts);
  }

  close(): void {
    this.runtime.close();
  }

  private call<T>(method: string, req: unknown): Promise<T> {
    const fn = (this.runtime as unknown as Record<string, UnaryMethod>)[method];
    return new Promise<T>((resolve, reject) => {
      fn.call(this.runtime, req, { deadline: Date.now() + this.timeoutMs }, (err, value) => {
        if (err)
          reject(Object.assign(err, { message: `Cannot call ${method}: ${err.details || err.message}` }));
        else resolve(value as T);
      });
    });
  }

  async listContainers(state?: 'CONTAINER_RUNNING') {
    const filter = state ? { state: { state } } : {};
    return (await this.call<{ containers: Container__Output[] }>('ListContainers', { filter })).containers;
  }
  async containerStatus(containerId: string) {
    try {
      const res = await this.call<{ status: ContainerStatus__Output | null }>('ContainerStatus', {
        container_id: containerId,
      });
      return res.status ?? undefined;
    } catch (err) {
      if ((err as grpc.ServiceError).code === grpc.status.NOT_FOUND) return undefined;
      throw err;
    }
  }
  async reopenContainerLog(containerId: string) {
    await this.call('ReopenContainerLog', { container_id: containerId });
  }
}
