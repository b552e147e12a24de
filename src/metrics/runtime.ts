// Every instrument of the runtime itself, defined once with stable names, help and labels. The
// other parts receive a RuntimeMetrics from the composition root and call its small recording
// functions; none of them touches prom-client. Names are part of the dashboards' and alerts'
// contract (manifests/monitoring): rename nothing.
import client from 'prom-client';
import type { RpcObserver } from '../cri/rpc';
import { TextCollector, writeCadvisorMetrics } from './cadvisor';
import type { ContainerStatsSource } from './container_sample';
import { rpcMetrics } from './rpc';
import { reasonLabel } from './reason';
import { WorkloadSource, workloadGauges } from './workload';

/** Seconds: from sub-millisecond (a pooled init) to minutes (a large pull). */
const SHORT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const LONG_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export type InitSource = 'cold' | 'pool';
/** Container log records dropped so far (by the node's monitor, since it started), and their bytes. */
interface LogDrops {
  lines: number;
  bytes: number;
}
export type LogDropSource = () => Promise<LogDrops>;
export type CniOperation = 'setup' | 'teardown';

export interface RuntimeMetrics {
  /** Passed to the CRI server: per-RPC latency and counts by method and code, in-flight requests. */
  rpc: RpcObserver;
  /** Pods and containers by state are read from this at each scrape (the CRI stores implement it). */
  setWorkload(source: WorkloadSource): void;
  /** The cached container samples the cAdvisor-style metrics are written from (the CRI layer sets it). */
  setContainerStats(source: ContainerStatsSource): void;
  /** The monitor's count of container log lines it could not write, read at each scrape. */
  setLogDrops(source: LogDropSource): void;
  /** Pass to startMetricsServer's `collectors`: the cAdvisor-style container metrics, empty until a source is set. */
  containerMetrics: TextCollector;
  containerStart: {
    /** A StartContainer that succeeded, with its latency from request to running. */
    succeeded(seconds: number): void;
    /** A StartContainer that failed; reason is an error (its kind or errno is used) or a short word. */
    failed(reason: unknown): void;
  };
  imagePull: {
    observe(pull: { seconds: number; bytes: number }): void;
    failed(reason: unknown): void;
  };
  layerUnpack: { observe(seconds: number, compression: 'gzip' | 'zstd' | 'none'): void };
  cni: {
    observe(operation: CniOperation, seconds: number): void;
    failed(operation: CniOperation, reason: unknown): void;
  };
  /** From spawn to "ready for the spec" (cold) or from taking a pooled init to ready (pool). */
  initStart: { observe(source: InitSource, seconds: number): void };
  monitor: {
    /** The node's monitor process died and a new one took over. */
    restarted(): void;
    /** Running containers taken back under management (daemon start, monitor restart). */
    adopted(containers: number): void;
  };
  recovery: {
    /** Something that belonged to no record was undone at start (kind: 'network', 'mount', …). */
    swept(kind: string): void;
  };
}

export function createRuntimeMetrics(registry: client.Registry): RuntimeMetrics {
  const registers = [registry];
  const workload = workloadGauges(registry);
  let containerStats: ContainerStatsSource | undefined;

  const startDuration = new client.Histogram({
    name: 'nodelet_container_start_duration_seconds',
    help: 'Latency of successful container starts, from StartContainer to a running process.',
    buckets: SHORT_BUCKETS,
    registers,
  });
  const startFailures = new client.Counter({
    name: 'nodelet_container_start_failures_total',
    help: 'Container starts that failed, by reason.',
    labelNames: ['reason'],
    registers,
  });
  const pullDuration = new client.Histogram({
    name: 'nodelet_image_pull_duration_seconds',
    help: 'Duration of successful image pulls, from request to an unpacked image.',
    buckets: LONG_BUCKETS,
    registers,
  });
  const pullBytes = new client.Counter({
    name: 'nodelet_image_pull_bytes_total',
    help: 'Bytes downloaded from registries by image pulls.',
    registers,
  });
  const pullFailures = new client.Counter({
    name: 'nodelet_image_pull_failures_total',
    help: 'Image pulls that failed, by reason.',
    labelNames: ['reason'],
    registers,
  });
  const unpackDuration = new client.Histogram({
    name: 'nodelet_layer_unpack_duration_seconds',
    help: 'Time to unpack one image layer into a snapshot, by compression.',
    labelNames: ['compression'],
    buckets: SHORT_BUCKETS,
    registers,
  });
  const cniDuration = new client.Histogram({
    name: 'nodelet_cni_operation_duration_seconds',
    help: 'Duration of successful pod network setup (CNI ADD) and teardown (CNI DEL).',
    labelNames: ['operation'],
    buckets: SHORT_BUCKETS,
    registers,
  });
  const cniFailures = new client.Counter({
    name: 'nodelet_cni_operation_failures_total',
    help: 'Pod network setups and teardowns that failed, by operation and reason.',
    labelNames: ['operation', 'reason'],
    registers,
  });
  const initStart = new client.Histogram({
    name: 'nodelet_init_start_duration_seconds',
    help: 'Time until a container init is ready for its spec, started cold or taken from the pool.',
    labelNames: ['source'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers,
  });
  const monitorRestarts = new client.Counter({
    name: 'nodelet_monitor_restarts_total',
    help: 'Times the node monitor process died and a new one took over the running containers.',
    registers,
  });
  const adoptions = new client.Counter({
    name: 'nodelet_monitor_adopted_containers_total',
    help: 'Running containers taken back under management, at daemon start or after a monitor restart.',
    registers,
  });

  const swept = new client.Counter({
    name: 'nodelet_recovery_swept_total',
    help: 'Things that belonged to no record (networks, mounts, cgroups, …), undone when the daemon started.',
    labelNames: ['kind'],
    registers,
  });
  // Read from the monitor at scrape time; a monitor that cannot answer leaves the last values.
  let logDrops: LogDropSource | undefined;
  const readDrops = async () => (logDrops ? logDrops().catch(() => undefined) : undefined);
  const dropCounter = (name: string, help: string, pick: (drops: LogDrops) => number) =>
    new client.Counter({
      name,
      help,
      registers,
      async collect() {
        const drops = await readDrops();
        if (!drops) return;
        this.reset();
        this.inc(pick(drops));
      },
    });
  dropCounter(
    'nodelet_container_log_lines_dropped_total',
    'Container log lines (CRI log records) the monitor could not write to their log file, e.g. on a full disk; counted since the monitor started.',
    (drops) => drops.lines,
  );
  dropCounter(
    'nodelet_container_log_bytes_dropped_total',
    'Bytes of the container log lines the monitor could not write; counted since the monitor started.',
    (drops) => drops.bytes,
  );

  return {
    rpc: rpcMetrics(registry),
    setLogDrops: (source) => {
      logDrops = source;
    },
    setWorkload: (source) => workload.setSource(source),
    setContainerStats: (source) => {
      containerStats = source;
    },
    containerMetrics: () => (containerStats ? writeCadvisorMetrics(containerStats.list()) : Buffer.alloc(0)),
    containerStart: {
      succeeded: (seconds) => startDuration.observe(seconds),
      failed: (reason) => startFailures.inc({ reason: reasonLabel(reason) }),
    },
    imagePull: {
      observe: ({ seconds, bytes }) => {
        pullDuration.observe(seconds);
        if (bytes > 0) pullBytes.inc(bytes);
      },
      failed: (reason) => pullFailures.inc({ reason: reasonLabel(reason) }),
    },
    layerUnpack: { observe: (seconds, compression) => unpackDuration.observe({ compression }, seconds) },
    cni: {
      observe: (operation, seconds) => cniDuration.observe({ operation }, seconds),
      failed: (operation, reason) => cniFailures.inc({ operation, reason: reasonLabel(reason) }),
    },
    initStart: { observe: (source, seconds) => initStart.observe({ source }, seconds) },
    monitor: {
      restarted: () => monitorRestarts.inc(),
      adopted: (containers) => {
        if (containers > 0) adoptions.inc(containers);
      },
    },
    recovery: { swept: (kind) => swept.inc({ kind }) },
  };
}

/** Seconds since a process.hrtime.bigint() reading: `const t = process.hrtime.bigint(); … secondsSince(t)`. */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}
