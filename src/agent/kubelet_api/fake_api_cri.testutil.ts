// A hand-written in-memory runtime for the kubelet API's unit tests: sandboxes, containers and stats
// that a test sets up, recorded streaming requests, and an injectable error per method.
import type { Container__Output } from '../../gen/runtime/v1/Container';
import type { ContainerStats__Output } from '../../gen/runtime/v1/ContainerStats';
import type { ContainerStatusResponse__Output } from '../../gen/runtime/v1/ContainerStatusResponse';
import type { MetricDescriptor__Output } from '../../gen/runtime/v1/MetricDescriptor';
import type { PodSandbox__Output } from '../../gen/runtime/v1/PodSandbox';
import type { PodSandboxMetrics__Output } from '../../gen/runtime/v1/PodSandboxMetrics';
import type { PodSandboxStats__Output } from '../../gen/runtime/v1/PodSandboxStats';
import type { KubeletApiCri } from './cri';

export const grpcError = (code: number, message: string) => Object.assign(new Error(message), { code });

const matches = (labels: Record<string, string>, want?: Record<string, string>) =>
  Object.entries(want ?? {}).every(([k, v]) => labels[k] === v);

export function sandbox(id: string, name: string, uid: string, createdAt = '1000000000'): PodSandbox__Output {
  return {
    id,
    metadata: { name, namespace: 'default', uid, attempt: 0 },
    state: 'SANDBOX_READY',
    created_at: createdAt,
    labels: {
      'io.kubernetes.pod.name': name,
      'io.kubernetes.pod.namespace': 'default',
      'io.kubernetes.pod.uid': uid,
    },
    annotations: {},
    runtime_handler: '',
  };
}

export function container(
  id: string,
  sandboxId: string,
  pod: PodSandbox__Output,
  name: string,
  restart = 0,
): Container__Output {
  return {
    id,
    pod_sandbox_id: sandboxId,
    metadata: { name, attempt: restart },
    image: { image: 'busybox', annotations: {}, user_specified_image: '', runtime_handler: '' },
    image_ref: 'sha256:abc',
    state: 'CONTAINER_RUNNING',
    created_at: String(2_000_000_000 + restart),
    labels: { ...pod.labels, 'io.kubernetes.container.name': name },
    annotations: { 'io.kubernetes.container.restartCount': String(restart) },
    image_id: '',
  } as unknown as Container__Output;
}

export class FakeApiCri implements KubeletApiCri {
  sandboxes: PodSandbox__Output[] = [];
  containers: Container__Output[] = [];
  logPaths = new Map<string, string>();
  podStats: PodSandboxStats__Output[] = [];
  containerStats: ContainerStats__Output[] = [];
  descriptors: MetricDescriptor__Output[] = [];
  podMetrics: PodSandboxMetrics__Output[] = [];
  readonly requests: { method: string; arg: unknown }[] = [];
  private readonly failures = new Map<string, Error>();
  streamUrl = 'http://127.0.0.1:1/stream/token';

  failWith(method: string, err: Error): void {
    this.failures.set(method, err);
  }

  private record(method: string, arg?: unknown): void {
    this.requests.push({ method, arg });
    const err = this.failures.get(method);
    if (err) throw err;
  }

  async listPodSandbox(labels?: Record<string, string>) {
    this.record('listPodSandbox', labels);
    return this.sandboxes.filter((s) => matches(s.labels, labels));
  }
  async listContainers(labels?: Record<string, string>) {
    this.record('listContainers', labels);
    return this.containers.filter((c) => matches(c.labels, labels));
  }
  async containerStatus(id: string) {
    this.record('containerStatus', id);
    const c = this.containers.find((x) => x.id === id);
    return {
      status: { id, state: c?.state, log_path: this.logPaths.get(id) ?? '' },
    } as unknown as ContainerStatusResponse__Output;
  }
  async checkpointContainer(containerId: string, location: string, timeoutSeconds: number) {
    this.record('checkpointContainer', { containerId, location, timeoutSeconds });
  }
  async exec(req: unknown) {
    this.record('exec', req);
    return this.streamUrl;
  }
  async attach(req: unknown) {
    this.record('attach', req);
    return this.streamUrl;
  }
  async portForward(podSandboxId: string, ports: number[]) {
    this.record('portForward', { podSandboxId, ports });
    return this.streamUrl;
  }
  async listPodSandboxStats() {
    this.record('listPodSandboxStats');
    return this.podStats;
  }
  async listContainerStats() {
    this.record('listContainerStats');
    return this.containerStats;
  }
  async listMetricDescriptors() {
    this.record('listMetricDescriptors');
    return this.descriptors;
  }
  async listPodSandboxMetrics() {
    this.record('listPodSandboxMetrics');
    return this.podMetrics;
  }
}
