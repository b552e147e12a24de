// The agent's own Prometheus metrics, named as the kubelet's (pkg/kubelet/metrics/metrics.go), in a
// registry of its own (never prom-client's global one): CRI operations timed by wrapping the
// runtime client, pod start durations from the pods' status, running pods and containers counted
// from the runtime at scrape time. Pod worker and PLEG relist durations are fed by the pod workers
// (the agent's `metrics` option, a PodLoopMetrics) through observePodWorker() and observeRelist().
// The probers' series (/metrics/probes) have a registry of their own: see ProbeMetrics.
import client from 'prom-client';
import type { CriRuntime } from './cri_client';
import { CONFIG_SEEN_ANNOTATION, type DesiredPod } from './manifest';
import type { PodStatusView } from './pod_status';

export interface RuntimeCounts {
  /** Pods with a ready sandbox. */
  runningPods: number;
  /** Containers by CRI state, in the kubelet's words: created, running, exited, unknown. */
  containers: Record<string, number>;
}

/** The kubelet's SyncPodType: a pod's first sync, the first after a spec change, any other, its termination. */
export type PodWorkerOperation = 'create' | 'update' | 'sync' | 'kill';

/** What the pod loops report; the part of AgentMetrics a pod worker needs. */
export interface PodLoopMetrics {
  observePodWorker(operation: PodWorkerOperation, seconds: number): void;
  /** One look at the runtime (the kubelet's PLEG relist; here each worker observes its own pod). */
  observeRelist(seconds: number): void;
}

export interface AgentMetrics extends PodLoopMetrics {
  registry: client.Registry;
  /** The same runtime, with each call counted and timed as kubelet_runtime_operations_*. */
  instrument<T extends object>(cri: T): T;
  /** Watches the pods' status and observes each pod's start once; returns the stop function. */
  watchPodStarts(
    pods: () => Map<string, { desired: DesiredPod; status: PodStatusView | undefined }>,
    intervalMs?: number,
  ): () => void;
}

/** runPodSandbox -> run_podsandbox, listContainers -> list_containers: the kubelet's operation_type. */
export function operationType(method: string): string {
  return method
    .replace(/([pP])odSandbox/g, '$1odsandbox')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

export function createAgentMetrics(runtimeCounts?: () => Promise<RuntimeCounts>): AgentMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const operations = new client.Counter({
    name: 'kubelet_runtime_operations_total',
    help: 'Cumulative number of runtime operations by operation type.',
    labelNames: ['operation_type'],
    registers,
  });
  const operationErrors = new client.Counter({
    name: 'kubelet_runtime_operations_errors_total',
    help: 'Cumulative number of runtime operation errors by operation type.',
    labelNames: ['operation_type'],
    registers,
  });
  const operationDuration = new client.Histogram({
    name: 'kubelet_runtime_operations_duration_seconds',
    help: 'Duration in seconds of runtime operations. Broken down by operation type.',
    labelNames: ['operation_type'],
    buckets: client.exponentialBuckets(0.005, 2.5, 14),
    registers,
  });
  const podStart = new client.Histogram({
    name: 'kubelet_pod_start_duration_seconds',
    help: 'Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run',
    buckets: [
      0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700,
      3600,
    ],
    registers,
  });
  const podWorker = new client.Histogram({
    name: 'kubelet_pod_worker_duration_seconds',
    help: 'Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync',
    labelNames: ['operation_type'],
    registers,
  });
  const relist = new client.Histogram({
    name: 'kubelet_pleg_relist_duration_seconds',
    help: 'Duration in seconds for relisting pods in PLEG.',
    registers,
  });
  if (runtimeCounts) registerRuntimeGauges(registry, runtimeCounts);

  return {
    registry,
    instrument<T extends object>(cri: T): T {
      return new Proxy(cri, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'close') return value;
          const op = operationType(prop);
          return async (...args: unknown[]) => {
            const end = operationDuration.startTimer({ operation_type: op });
            operations.inc({ operation_type: op });
            try {
              return await value.apply(target, args);
            } catch (err) {
              operationErrors.inc({ operation_type: op });
              throw err;
            } finally {
              end();
            }
          };
        },
      });
    },
    observePodWorker: (operation, seconds) => podWorker.observe({ operation_type: operation }, seconds),
    observeRelist: (seconds) => relist.observe(seconds),
    watchPodStarts(pods, intervalMs = 1000) {
      const firstSeen = new Map<string, number>();
      const started = new Set<string>();
      const check = () => {
        const now = Date.now();
        const current = pods();
        for (const [uid, { desired, status }] of current) {
          const seenAt = Date.parse(desired.pod?.metadata.annotations?.[CONFIG_SEEN_ANNOTATION] ?? '');
          if (!firstSeen.has(uid)) firstSeen.set(uid, Number.isNaN(seenAt) ? now : seenAt);
          if (started.has(uid) || status?.phase !== 'Running') continue;
          started.add(uid);
          podStart.observe(Math.max(0, (now - firstSeen.get(uid)!) / 1000));
        }
        for (const uid of firstSeen.keys()) {
          if (current.has(uid)) continue;
          firstSeen.delete(uid);
          started.delete(uid);
        }
      };
      const timer = setInterval(check, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

function registerRuntimeGauges(registry: client.Registry, counts: () => Promise<RuntimeCounts>): void {
  // One runtime listing per scrape serves both gauges.
  let pending: Promise<RuntimeCounts> | undefined;
  const read = () => {
    pending ??= counts().finally(() => setTimeout(() => (pending = undefined), 0));
    return pending;
  };
  new client.Gauge({
    name: 'kubelet_running_pods',
    help: 'Number of pods that have a running pod sandbox',
    registers: [registry],
    async collect() {
      this.set((await read()).runningPods);
    },
  });
  new client.Gauge({
    name: 'kubelet_running_containers',
    help: 'Number of containers currently running',
    labelNames: ['container_state'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [state, n] of Object.entries((await read()).containers))
        this.set({ container_state: state }, n);
    },
  });
}

/** Counts from the runtime's lists, for createAgentMetrics(). */
export async function countRuntime(
  cri: Pick<CriRuntime, 'listPodSandbox' | 'listContainers'>,
): Promise<RuntimeCounts> {
  const [{ items }, { containers }] = await Promise.all([cri.listPodSandbox(), cri.listContainers()]);
  const byState: Record<string, number> = { created: 0, running: 0, exited: 0, unknown: 0 };
  for (const c of containers) {
    const state = c.state.replace(/^CONTAINER_/, '').toLowerCase();
    byState[state in byState ? state : 'unknown']++;
  }
  return { runningPods: items.filter((s) => s.state === 'SANDBOX_READY').length, containers: byState };
}

export type ProbeType = 'Liveness' | 'Readiness' | 'Startup';
export type ProbeResult = 'successful' | 'failed' | 'unknown';

/** Whose probe a series counts: the kubelet's labels, the pod's UID among them. */
export interface ProbeSeries {
  probeType: ProbeType;
  container: string;
  pod: string;
  namespace: string;
  podUid: string;
}

const PROBE_RESULTS: ProbeResult[] = ['successful', 'failed', 'unknown'];

/**
 * The kubelet's prober metrics (pkg/kubelet/prober/prober_manager.go), served on /metrics/probes
 * from a registry of their own as the kubelet does: prober_probe_total by result and
 * prober_probe_duration_seconds, which, as the kubelet's, times successful and unknown results
 * only. Series live as long as their pod: a container restart keeps counting on the same series.
 */
export class ProbeMetrics {
  readonly registry = new client.Registry();
  private readonly total: client.Counter<string>;
  private readonly duration: client.Histogram<string>;
  /** The series of each pod, by pod UID then by series key, so a gone pod's can be deleted. */
  private readonly byPod = new Map<string, Map<string, ProbeSeries>>();

  constructor() {
    const registers = [this.registry];
    this.total = new client.Counter({
      name: 'prober_probe_total',
      help: 'Cumulative number of a liveness, readiness or startup probe for a container by result.',
      labelNames: ['probe_type', 'result', 'container', 'pod', 'namespace', 'pod_uid'],
      registers,
    });
    // prom-client's default buckets are Prometheus' DefBuckets, the kubelet's for this histogram.
    this.duration = new client.Histogram({
      name: 'prober_probe_duration_seconds',
      help: 'Duration in seconds for a probe response.',
      labelNames: ['probe_type', 'container', 'pod', 'namespace'],
      registers,
    });
    // The kubelet registers its process start time beside the probe series.
    new client.Gauge({
      name: 'process_start_time_seconds',
      help: 'Start time of the process since unix epoch in seconds.',
      registers,
    }).set(Math.floor(Date.now() / 1000 - process.uptime()));
  }

  record(series: ProbeSeries, result: ProbeResult, seconds: number): void {
    const { probeType, container, pod, namespace, podUid } = series;
    const labels = { probe_type: probeType, container, pod, namespace };
    this.total.inc({ probe_type: probeType, result, container, pod, namespace, pod_uid: podUid });
    if (result !== 'failed') this.duration.observe(labels, seconds);
    let mine = this.byPod.get(podUid);
    if (!mine) this.byPod.set(podUid, (mine = new Map()));
    mine.set(`${probeType}/${container}`, series);
  }

  /** Deletes a gone pod's series, as the kubelet does when its probe workers stop. */
  forgetPod(podUid: string): void {
    for (const s of this.byPod.get(podUid)?.values() ?? []) {
      const labels = { probe_type: s.probeType, container: s.container, pod: s.pod, namespace: s.namespace };
      for (const result of PROBE_RESULTS) this.total.remove({ ...labels, result, pod_uid: podUid });
      this.duration.remove(labels);
    }
    this.byPod.delete(podUid);
  }

  /** Deletes the series of every pod that `live` does not have. */
  retainPods(live: { has(uid: string): boolean }): void {
    for (const uid of [...this.byPod.keys()]) if (!live.has(uid)) this.forgetPod(uid);
  }

  /** Every `intervalMs`, deletes the series of pods the agent no longer has; returns the stop function. */
  followPods(pods: () => { has(uid: string): boolean }, intervalMs = 1000): () => void {
    const timer = setInterval(() => this.retainPods(pods()), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}

/**
 * The agent's one set of prober series, as the kubelet's are package variables: the probers record
 * into it unless given another (tests), and the kubelet API serves its registry.
 */
export const proberMetrics = new ProbeMetrics();
