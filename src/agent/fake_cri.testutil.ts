// A hand-written in-memory CRI runtime for the agent's unit tests: it records every call, lets a test
// inject an error into the next call of a method, and lets a test end a container with an exit code.
import type { CriRuntime } from './cri_client';
import type { ContainerStatus__Output } from '../gen/runtime/v1/ContainerStatus';
import type { CreateContainerRequest } from '../gen/runtime/v1/CreateContainerRequest';
import type { ExecSyncRequest } from '../gen/runtime/v1/ExecSyncRequest';
import type { ListContainersRequest } from '../gen/runtime/v1/ListContainersRequest';
import type { LinuxContainerResources } from '../gen/runtime/v1/LinuxContainerResources';
import type { ListPodSandboxRequest } from '../gen/runtime/v1/ListPodSandboxRequest';
import type { RunPodSandboxRequest } from '../gen/runtime/v1/RunPodSandboxRequest';

interface FakeSandbox {
  id: string;
  ready: boolean;
  createdAt: bigint;
  config: NonNullable<RunPodSandboxRequest['config']>;
}

interface FakeContainer {
  id: string;
  sandboxId: string;
  state: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED';
  createdAt: bigint;
  startedAt: bigint;
  finishedAt: bigint;
  exitCode: number;
  config: NonNullable<CreateContainerRequest['config']>;
}

export class FakeCri implements CriRuntime {
  readonly calls: { method: string; arg?: unknown }[] = [];
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly containers = new Map<string, FakeContainer>();
  private readonly failures = new Map<string, Error>();
  private seq = 0;
  private clock = 1_000_000_000n;
  /** Images that ImageStatus reports as absent (until pulled). */
  readonly missingImages = new Set<string>();
  /** Where CRI log files would be (a test writes them); ContainerStatus.log_path is empty without it. */
  logDir = '';
  /** Answers ExecSync; by default every command succeeds. */
  exec: (req: ExecSyncRequest) => number = () => 0;
  /** Memory usage ContainerStats reports, by container id (0 when not set). */
  readonly memoryUsage = new Map<string, number>();

  /** The next call of `method` fails with `err`. */
  failNext(method: string, err: Error): void {
    this.failures.set(method, err);
  }

  /** Ends a running container as the kernel would, with an exit code. */
  exitContainer(id: string, exitCode: number): void {
    const c = this.containers.get(id)!;
    c.state = 'CONTAINER_EXITED';
    c.exitCode = exitCode;
    c.finishedAt = this.tick();
  }

  running(name: string): FakeContainer[] {
    return [...this.containers.values()].filter(
      (c) => c.config.metadata?.name === name && c.state === 'CONTAINER_RUNNING',
    );
  }

  countCalls(method: string): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  private tick(): bigint {
    // Real nanoseconds, so back-off arithmetic (from Date.now()) sees sensible times.
    this.clock = BigInt(Date.now()) * 1_000_000n + BigInt(this.seq);
    return this.clock;
  }

  private record(method: string, arg?: unknown): void {
    this.calls.push({ method, arg });
    const err = this.failures.get(method);
    if (err) {
      this.failures.delete(method);
      throw err;
    }
  }

  private matches(
    labels: Record<string, string>,
    filter?: { label_selector?: Record<string, string> } | null,
  ): boolean {
    return Object.entries(filter?.label_selector ?? {}).every(([k, v]) => labels[k] === v);
  }

  async version() {
    this.record('version');
    return { version: '0.1.0', runtime_name: 'fake', runtime_version: '1', runtime_api_version: 'v1' };
  }
  async status() {
    this.record('status');
    return { status: { conditions: [] }, info: {}, runtime_handlers: [], features: null } as never;
  }
  async runtimeConfig(): Promise<never> {
    this.record('runtimeConfig');
    throw Object.assign(new Error('unknown method RuntimeConfig'), { code: 12 });
  }
  async runPodSandbox(req: RunPodSandboxRequest) {
    this.record('runPodSandbox', req);
    const id = `sb${++this.seq}`;
    this.sandboxes.set(id, { id, ready: true, createdAt: this.tick(), config: req.config! });
    return { pod_sandbox_id: id };
  }
  async stopPodSandbox(id: string) {
    this.record('stopPodSandbox', id);
    const s = this.sandboxes.get(id);
    if (!s) return;
    s.ready = false;
    for (const c of this.containers.values())
      if (c.sandboxId === id && c.state === 'CONTAINER_RUNNING') this.exitContainer(c.id, 137);
  }
  async removePodSandbox(id: string) {
    this.record('removePodSandbox', id);
    this.sandboxes.delete(id);
    for (const c of [...this.containers.values()]) if (c.sandboxId === id) this.containers.delete(c.id);
  }
  async podSandboxStatus(id: string) {
    this.record('podSandboxStatus', id);
    const ip = `10.0.0.${this.sandboxes.get(id) ? 2 : 0}`;
    return {
      status: { id, network: { ip, additional_ips: [] } },
      info: {},
      containers_statuses: [],
      timestamp: '0',
    } as never;
  }
  async listPodSandbox(req: ListPodSandboxRequest = {}) {
    this.record('listPodSandbox', req);
    const items = [...this.sandboxes.values()]
      .filter((s) => this.matches(s.config.labels ?? {}, req.filter))
      .map((s) => ({
        id: s.id,
        metadata: { ...s.config.metadata, attempt: s.config.metadata?.attempt ?? 0 },
        state: s.ready ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY',
        created_at: String(s.createdAt),
        labels: s.config.labels ?? {},
        annotations: s.config.annotations ?? {},
        runtime_handler: '',
      }));
    return { items } as never;
  }
  async createContainer(req: CreateContainerRequest) {
    this.record('createContainer', req);
    const id = `c${++this.seq}`;
    const now = this.tick();
    this.containers.set(id, {
      id,
      sandboxId: req.pod_sandbox_id!,
      state: 'CONTAINER_CREATED',
      createdAt: now,
      startedAt: 0n,
      finishedAt: 0n,
      exitCode: 0,
      config: req.config!,
    });
    return { container_id: id };
  }
  async startContainer(id: string) {
    this.record('startContainer', id);
    const c = this.containers.get(id)!;
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = this.tick();
  }
  async stopContainer(id: string, timeout: number) {
    this.record('stopContainer', { id, timeout });
    const c = this.containers.get(id);
    if (c?.state === 'CONTAINER_RUNNING') this.exitContainer(id, 137);
  }
  async removeContainer(id: string) {
    this.record('removeContainer', id);
    this.containers.delete(id);
  }
  async listContainers(req: ListContainersRequest = {}) {
    this.record('listContainers', req);
    const containers = [...this.containers.values()]
      .filter((c) => this.matches(c.config.labels ?? {}, req.filter))
      .map((c) => ({
        id: c.id,
        pod_sandbox_id: c.sandboxId,
        metadata: { name: c.config.metadata?.name ?? '', attempt: c.config.metadata?.attempt ?? 0 },
        state: c.state,
        created_at: String(c.createdAt),
        labels: c.config.labels ?? {},
        annotations: c.config.annotations ?? {},
      }));
    return { containers } as never;
  }
  async containerStatus(id: string) {
    this.record('containerStatus', id);
    const c = this.containers.get(id);
    if (!c) throw Object.assign(new Error(`no container ${id}`), { code: 5 });
    const status: Partial<ContainerStatus__Output> = {
      id,
      metadata: { name: c.config.metadata?.name ?? '', attempt: c.config.metadata?.attempt ?? 0 },
      state: c.state,
      created_at: String(c.createdAt),
      started_at: String(c.startedAt),
      finished_at: String(c.finishedAt),
      exit_code: c.exitCode,
      image: {
        image: String(c.config.image?.image),
        annotations: {},
        user_specified_image: '',
        runtime_handler: '',
        image_ref: '',
      },
      image_ref: `sha256:${String(c.config.image?.image).length}`,
      reason: c.state === 'CONTAINER_EXITED' ? (c.exitCode === 0 ? 'Completed' : 'Error') : '',
      message: '',
      labels: c.config.labels ?? {},
      annotations: c.config.annotations ?? {},
      mounts: (c.config.mounts ?? []).map((m) => ({
        container_path: m.container_path ?? '',
        host_path: m.host_path ?? '',
        readonly: m.readonly ?? false,
      })) as ContainerStatus__Output['mounts'],
      log_path: this.logDir ? `${this.logDir}/${c.config.log_path}` : '',
    };
    return { status: status as ContainerStatus__Output, info: {} };
  }
  async updateContainerResources(id: string, linux: LinuxContainerResources) {
    this.record('updateContainerResources', { id, linux });
    const c = this.containers.get(id);
    if (!c) throw Object.assign(new Error(`no container ${id}`), { code: 5 });
    c.config.linux = { ...c.config.linux, resources: linux };
  }
  async containerStats(id: string) {
    this.record('containerStats', id);
    const usage = { value: String(this.memoryUsage.get(id) ?? 0) };
    return { stats: { memory: { usage_bytes: usage, working_set_bytes: usage } } } as never;
  }
  async execSync(req: ExecSyncRequest) {
    this.record('execSync', req);
    return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exit_code: this.exec(req) };
  }
  async imageStatus(image: string) {
    this.record('imageStatus', image);
    if (this.missingImages.has(image)) return { image: null, info: {} } as never;
    return { image: { id: `sha256:${image.length}` }, info: {} } as never;
  }
  async pullImage(req: { image?: { image?: string } | null }) {
    this.record('pullImage', req);
    this.missingImages.delete(String(req.image?.image));
    return { image_ref: `sha256:${req.image?.image?.length}` };
  }
}
