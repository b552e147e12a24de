// A promisified CRI client (RuntimeService + ImageService) with a deadline on every call. The agent
// only talks to the runtime through the CriRuntime interface, so unit tests drive it with a fake
// and the same code runs on containerd's socket and on nodelet's.
import * as grpc from '@grpc/grpc-js';
import { loadCri, MAX_MESSAGE_BYTES } from '../cri/proto';
import type { VersionRequest } from '../gen/runtime/v1/VersionRequest';
import type { VersionResponse__Output } from '../gen/runtime/v1/VersionResponse';
import type { StatusResponse__Output } from '../gen/runtime/v1/StatusResponse';
import type { RuntimeConfigResponse__Output } from '../gen/runtime/v1/RuntimeConfigResponse';
import type { RunPodSandboxRequest } from '../gen/runtime/v1/RunPodSandboxRequest';
import type { RunPodSandboxResponse__Output } from '../gen/runtime/v1/RunPodSandboxResponse';
import type { PodSandboxStatusResponse__Output } from '../gen/runtime/v1/PodSandboxStatusResponse';
import type { ListPodSandboxRequest } from '../gen/runtime/v1/ListPodSandboxRequest';
import type { ListPodSandboxResponse__Output } from '../gen/runtime/v1/ListPodSandboxResponse';
import type { CreateContainerRequest } from '../gen/runtime/v1/CreateContainerRequest';
import type { CreateContainerResponse__Output } from '../gen/runtime/v1/CreateContainerResponse';
import type { ListContainersRequest } from '../gen/runtime/v1/ListContainersRequest';
import type { ListContainersResponse__Output } from '../gen/runtime/v1/ListContainersResponse';
import type { ContainerStatusResponse__Output } from '../gen/runtime/v1/ContainerStatusResponse';
import type { ContainerStatsResponse__Output } from '../gen/runtime/v1/ContainerStatsResponse';
import type { ExecSyncRequest } from '../gen/runtime/v1/ExecSyncRequest';
import type { LinuxContainerResources } from '../gen/runtime/v1/LinuxContainerResources';
import type { ExecSyncResponse__Output } from '../gen/runtime/v1/ExecSyncResponse';
import type { ImageStatusResponse__Output } from '../gen/runtime/v1/ImageStatusResponse';
import type { PullImageRequest } from '../gen/runtime/v1/PullImageRequest';
import type { PullImageResponse__Output } from '../gen/runtime/v1/PullImageResponse';

/** What the agent asks of a CRI runtime: the calls a kubelet makes to run pods. */
export interface CriRuntime {
  version(req?: VersionRequest): Promise<VersionResponse__Output>;
  status(): Promise<StatusResponse__Output>;
  runtimeConfig(): Promise<RuntimeConfigResponse__Output>;
  runPodSandbox(req: RunPodSandboxRequest): Promise<RunPodSandboxResponse__Output>;
  stopPodSandbox(podSandboxId: string): Promise<void>;
  removePodSandbox(podSandboxId: string): Promise<void>;
  podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatusResponse__Output>;
  listPodSandbox(req?: ListPodSandboxRequest): Promise<ListPodSandboxResponse__Output>;
  createContainer(req: CreateContainerRequest): Promise<CreateContainerResponse__Output>;
  startContainer(containerId: string): Promise<void>;
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  listContainers(req?: ListContainersRequest): Promise<ListContainersResponse__Output>;
  containerStatus(containerId: string): Promise<ContainerStatusResponse__Output>;
  /** In-place resize of a running container's cgroup (pod_resize.ts). */
  updateContainerResources(containerId: string, linux: LinuxContainerResources): Promise<void>;
  containerStats(containerId: string): Promise<ContainerStatsResponse__Output>;
  execSync(req: ExecSyncRequest): Promise<ExecSyncResponse__Output>;
  imageStatus(image: string): Promise<ImageStatusResponse__Output>;
  pullImage(req: PullImageRequest): Promise<PullImageResponse__Output>;
}

export interface CriClientOptions {
  /** Deadline of ordinary calls (the kubelet's --runtime-request-timeout is 2 min). */
  timeoutMs?: number;
  /** Deadline of image pulls, which can take long. */
  pullTimeoutMs?: number;
}

type Callback<T> = (err: grpc.ServiceError | null, value?: T) => void;
type UnaryMethod = (req: unknown, options: grpc.CallOptions, cb: Callback<unknown>) => unknown;

/** The endpoint as grpc-js wants it: `unix:///run/x.sock` and a bare `/run/x.sock` both work. */
export function grpcTarget(endpoint: string): string {
  if (endpoint.startsWith('/')) return `unix://${endpoint}`;
  return endpoint;
}

export class CriClient implements CriRuntime {
  private readonly runtime: grpc.Client;
  private readonly images: grpc.Client;
  private readonly timeoutMs: number;
  private readonly pullTimeoutMs: number;

  constructor(endpoint: string, options: CriClientOptions = {}) {
    const { grpcType } = loadCri();
    const channelOptions = {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    };
    const target = grpcTarget(endpoint);
    const credentials = grpc.credentials.createInsecure();
    this.runtime = new grpcType.runtime.v1.RuntimeService(target, credentials, channelOptions);
    this.images = new grpcType.runtime.v1.ImageService(target, credentials, channelOptions);
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.pullTimeoutMs = options.pullTimeoutMs ?? 10 * 60_000;
  }

  close(): void {
    this.runtime.close();
    this.images.close();
  }

  /** One unary call with a deadline; the error keeps the gRPC code (err.code) for callers. */
  private call<T>(client: grpc.Client, method: string, req: unknown, timeoutMs = this.timeoutMs): Promise<T> {
    const fn = (client as unknown as Record<string, UnaryMethod>)[method];
    return new Promise<T>((resolve, reject) => {
      fn.call(client, req, { deadline: Date.now() + timeoutMs }, (err, value) => {
        if (err) {
          err.message = `Cannot call ${method}: ${err.details || err.message}`;
          reject(err);
        } else resolve(value as T);
      });
    });
  }

  version(req: VersionRequest = {}) {
    return this.call<VersionResponse__Output>(this.runtime, 'Version', req);
  }
  status() {
    return this.call<StatusResponse__Output>(this.runtime, 'Status', { verbose: false });
  }
  runtimeConfig() {
    return this.call<RuntimeConfigResponse__Output>(this.runtime, 'RuntimeConfig', {});
  }
  runPodSandbox(req: RunPodSandboxRequest) {
    return this.call<RunPodSandboxResponse__Output>(this.runtime, 'RunPodSandbox', req);
  }
  async stopPodSandbox(podSandboxId: string) {
    await this.call(this.runtime, 'StopPodSandbox', { pod_sandbox_id: podSandboxId });
  }
  async removePodSandbox(podSandboxId: string) {
    await this.call(this.runtime, 'RemovePodSandbox', { pod_sandbox_id: podSandboxId });
  }
  podSandboxStatus(podSandboxId: string) {
    return this.call<PodSandboxStatusResponse__Output>(this.runtime, 'PodSandboxStatus', {
      pod_sandbox_id: podSandboxId,
    });
  }
  listPodSandbox(req: ListPodSandboxRequest = {}) {
    return this.call<ListPodSandboxResponse__Output>(this.runtime, 'ListPodSandbox', req);
  }
  createContainer(req: CreateContainerRequest) {
    return this.call<CreateContainerResponse__Output>(this.runtime, 'CreateContainer', req);
  }
  async startContainer(containerId: string) {
    await this.call(this.runtime, 'StartContainer', { container_id: containerId });
  }
  async stopContainer(containerId: string, timeoutSeconds: number) {
    // The runtime waits up to `timeout` before SIGKILL: give the call that long plus our margin.
    const deadline = this.timeoutMs + timeoutSeconds * 1000;
    await this.call(
      this.runtime,
      'StopContainer',
      { container_id: containerId, timeout: timeoutSeconds },
      deadline,
    );
  }
  async removeContainer(containerId: string) {
    await this.call(this.runtime, 'RemoveContainer', { container_id: containerId });
  }
  listContainers(req: ListContainersRequest = {}) {
    return this.call<ListContainersResponse__Output>(this.runtime, 'ListContainers', req);
  }
  containerStatus(containerId: string) {
    return this.call<ContainerStatusResponse__Output>(this.runtime, 'ContainerStatus', {
      container_id: containerId,
    });
  }
  async updateContainerResources(containerId: string, linux: LinuxContainerResources) {
    await this.call(this.runtime, 'UpdateContainerResources', { container_id: containerId, linux });
  }
  containerStats(containerId: string) {
    return this.call<ContainerStatsResponse__Output>(this.runtime, 'ContainerStats', {
      container_id: containerId,
    });
  }
  execSync(req: ExecSyncRequest) {
    const timeoutS = Number(req.timeout ?? 0);
    return this.call<ExecSyncResponse__Output>(
      this.runtime,
      'ExecSync',
      req,
      this.timeoutMs + timeoutS * 1000,
    );
  }
  imageStatus(image: string) {
    return this.call<ImageStatusResponse__Output>(this.images, 'ImageStatus', { image: { image } });
  }
  pullImage(req: PullImageRequest) {
    return this.call<PullImageResponse__Output>(this.images, 'PullImage', req, this.pullTimeoutMs);
  }
}

/** True when a CRI call failed with the given gRPC status code (e.g. grpc.status.NOT_FOUND). */
export function hasGrpcCode(err: unknown, code: grpc.status): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
