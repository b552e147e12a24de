// The CRI calls the kubelet API makes beyond those that run pods: streaming URLs (Exec, Attach,
// PortForward), stats for /stats/summary and the runtime's own metrics for /metrics/cadvisor. A
// separate client so the pod-running interface (../cri_client.ts) stays as small as a pod worker needs.
import * as grpc from '@grpc/grpc-js';
import { loadCri, MAX_MESSAGE_BYTES } from '../../cri/proto';
import { grpcTarget } from '../cri_client';
import type { ContainerStats__Output } from '../../gen/runtime/v1/ContainerStats';
import type { ContainerStatusResponse__Output } from '../../gen/runtime/v1/ContainerStatusResponse';
import type { Container__Output } from '../../gen/runtime/v1/Container';
import type { ExecRequest } from '../../gen/runtime/v1/ExecRequest';
import type { AttachRequest } from '../../gen/runtime/v1/AttachRequest';
import type { PodSandbox__Output } from '../../gen/runtime/v1/PodSandbox';
import type { PodSandboxStats__Output } from '../../gen/runtime/v1/PodSandboxStats';
import type { PodSandboxMetrics__Output } from '../../gen/runtime/v1/PodSandboxMetrics';
import type { MetricDescriptor__Output } from '../../gen/runtime/v1/MetricDescriptor';

/** What the kubelet API asks of the runtime. The grpc client below and the unit tests' fake implement it. */
export interface KubeletApiCri {
  listPodSandbox(labels?: Record<string, string>): Promise<PodSandbox__Output[]>;
  listContainers(labels?: Record<string, string>): Promise<Container__Output[]>;
  containerStatus(containerId: string): Promise<ContainerStatusResponse__Output>;
  exec(req: ExecRequest): Promise<string>;
  attach(req: AttachRequest): Promise<string>;
  portForward(podSandboxId: string, ports: number[]): Promise<string>;
  listPodSandboxStats(): Promise<PodSandboxStats__Output[]>;
  listContainerStats(): Promise<ContainerStats__Output[]>;
  listMetricDescriptors(): Promise<MetricDescriptor__Output[]>;
  listPodSandboxMetrics(): Promise<PodSandboxMetrics__Output[]>;
  /** CRI CheckpointContainer: the runtime writes the archive at `location`. */
  checkpointContainer(containerId: string, location: string, timeoutSeconds: number): Promise<void>;
}

type Callback = (err: grpc.ServiceError | null, value?: unknown) => void;
type UnaryMethod = (req: unknown, options: grpc.CallOptions, cb: Callback) => unknown;

export class GrpcKubeletApiCri implements KubeletApiCri {
  private readonly client: grpc.Client;

  constructor(
    endpoint: string,
    private readonly timeoutMs = 120_000,
  ) {
    const { grpcType } = loadCri();
    this.client = new grpcType.runtime.v1.RuntimeService(
      grpcTarget(endpoint),
      grpc.credentials.createInsecure(),
      {
        'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
        'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      },
    );
  }

  close(): void {
    this.client.close();
  }

  private call<T>(method: string, req: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    const fn = (this.client as unknown as Record<string, UnaryMethod>)[method];
    return new Promise<T>((resolve, reject) => {
      fn.call(this.client, req, { deadline: Date.now() + timeoutMs }, (err, value) => {
        if (err) {
          err.message = `Cannot call ${method}: ${err.details || err.message}`;
          reject(err);
        } else resolve(value as T);
      });
    });
  }

  async listPodSandbox(labels?: Record<string, string>) {
    const filter = labels ? { label_selector: labels } : undefined;
    return (await this.call<{ items: PodSandbox__Output[] }>('ListPodSandbox', { filter })).items;
  }
  async listContainers(labels?: Record<string, string>) {
    const filter = labels ? { label_selector: labels } : undefined;
    return (await this.call<{ containers: Container__Output[] }>('ListContainers', { filter })).containers;
  }
  containerStatus(containerId: string) {
    return this.call<ContainerStatusResponse__Output>('ContainerStatus', { container_id: containerId });
  }
  async exec(req: ExecRequest) {
    return (await this.call<{ url: string }>('Exec', req)).url;
  }
  async attach(req: AttachRequest) {
    return (await this.call<{ url: string }>('Attach', req)).url;
  }
  async portForward(podSandboxId: string, ports: number[]) {
    return (await this.call<{ url: string }>('PortForward', { pod_sandbox_id: podSandboxId, port: ports }))
      .url;
  }
  async listPodSandboxStats() {
    return (await this.call<{ stats: PodSandboxStats__Output[] }>('ListPodSandboxStats', {})).stats;
  }
  async listContainerStats() {
    return (await this.call<{ stats: ContainerStats__Output[] }>('ListContainerStats', {})).stats;
  }
  async listMetricDescriptors() {
    return (await this.call<{ descriptors: MetricDescriptor__Output[] }>('ListMetricDescriptors', {}))
      .descriptors;
  }
  async checkpointContainer(containerId: string, location: string, timeoutSeconds: number) {
    // The runtime gets the whole timeout; the call waits a little longer for its answer.
    const req = { container_id: containerId, location, timeout: timeoutSeconds };
    await this.call('CheckpointContainer', req, (timeoutSeconds + 30) * 1000);
  }
  async listPodSandboxMetrics() {
    return (await this.call<{ pod_metrics: PodSandboxMetrics__Output[] }>('ListPodSandboxMetrics', {}))
      .pod_metrics;
  }
}
