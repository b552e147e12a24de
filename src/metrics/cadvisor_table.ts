// The one table of cAdvisor-named container metrics: name, help, type, extra label keys and how
// each value is read from a sample. The Prometheus writer (cadvisor.ts) and the CRI
// ListMetricDescriptors / ListPodSandboxMetrics data (cri_metrics.ts) both read this table, so the
// two can never disagree. Names and label keys are cAdvisor's, as the kubelet's /metrics/cadvisor
// shows them, so existing dashboards and alerts work unchanged; critest expects these names.
import type { ContainerStatsSample, InterfaceSample, PsiTotals } from './container_sample';

export type MetricKind = 'counter' | 'gauge';

/** The label keys of every container series, in the order their values are written. */
export const BASE_LABEL_KEYS = ['container', 'id', 'image', 'name', 'namespace', 'pod'] as const;

export interface LabelledValue {
  /** Values of the metric's extraLabels, in order. */
  labels: string[];
  value: number;
}

export interface CadvisorMetric {
  name: string;
  help: string;
  type: MetricKind;
  extraLabels: string[];
  /** Metrics without extra labels: one value, or undefined when the sample lacks it. */
  value?: (s: ContainerStatsSample) => number | undefined;
  /** Metrics with extra labels: one value per label combination. */
  series?: (s: ContainerStatsSample) => LabelledValue[] | undefined;
}

const NS = 1e9;
const seconds = (ns: number | undefined) => (ns === undefined ? undefined : ns / NS);
const one = (
  type: MetricKind,
  name: string,
  help: string,
  value: CadvisorMetric['value'],
): CadvisorMetric => ({
  name,
  help,
  type,
  extraLabels: [],
  value,
});
const many = (
  type: MetricKind,
  name: string,
  help: string,
  extraLabels: string[],
  series: CadvisorMetric['series'],
): CadvisorMetric => ({ name, help, type, extraLabels, series });

function perInterface(name: string, help: string, pick: (i: InterfaceSample) => number | undefined) {
  return many('counter', name, help, ['interface'], (s) =>
    s.network?.flatMap((i) => {
      const value = pick(i);
      return value === undefined ? [] : [{ labels: [i.name], value }];
    }),
  );
}

function pressure(resource: 'cpu' | 'memory' | 'io', kind: 'waiting' | 'stalled'): CadvisorMetric {
  // PSI "some" is time some tasks waited; "full" is time all tasks were stalled.
  const pick = (p: PsiTotals | undefined) => (kind === 'waiting' ? p?.someTotalUs : p?.fullTotalUs);
  const help = `Total time duration ${kind === 'waiting' ? 'tasks in the container have waited' : 'no tasks in the container could make progress'} due to ${resource} congestion.`;
  return one('counter', `container_pressure_${resource}_${kind}_seconds_total`, help, (s) => {
    const us = pick(s.psi?.[resource]);
    return us === undefined ? undefined : us / 1e6;
  });
}

function fsDevice(pick: (fs: NonNullable<ContainerStatsSample['fs']>) => number | undefined) {
  return (s: ContainerStatsSample) => {
    const value = s.fs ? pick(s.fs) : undefined;
    return value === undefined || !s.fs ? undefined : [{ labels: [s.fs.device], value }];
  };
}

function perDevice(
  pick: (d: NonNullable<ContainerStatsSample['blockDevices']>[number]) => number | undefined,
) {
  return (s: ContainerStatsSample) =>
    s.blockDevices?.flatMap((d) => {
      const value = pick(d);
      return value === undefined ? [] : [{ labels: [d.device], value }];
    });
}

export const CADVISOR_METRICS: readonly CadvisorMetric[] = [
  // CPU
  many(
    'counter',
    'container_cpu_usage_seconds_total',
    'Cumulative cpu time consumed in seconds.',
    ['cpu'],
    (s) => (s.cpu ? [{ labels: ['total'], value: s.cpu.usageNs / NS }] : undefined),
  ),
  one('counter', 'container_cpu_user_seconds_total', 'Cumulative user cpu time consumed in seconds.', (s) =>
    seconds(s.cpu?.userNs),
  ),
  one(
    'counter',
    'container_cpu_system_seconds_total',
    'Cumulative system cpu time consumed in seconds.',
    (s) => seconds(s.cpu?.systemNs),
  ),
  one(
    'counter',
    'container_cpu_cfs_periods_total',
    'Number of elapsed enforcement period intervals.',
    (s) => s.cpu?.periods,
  ),
  one(
    'counter',
    'container_cpu_cfs_throttled_periods_total',
    'Number of throttled period intervals.',
    (s) => s.cpu?.throttledPeriods,
  ),
  one(
    'counter',
    'container_cpu_cfs_throttled_seconds_total',
    'Total time duration the container has been throttled.',
    (s) => seconds(s.cpu?.throttledNs),
  ),
  one(
    'gauge',
    'container_cpu_load_average_10s',
    'Value of container cpu load average over the last 10 seconds.',
    (s) => s.cpu?.loadAverage10s,
  ),
  // Memory
  one(
    'gauge',
    'container_memory_usage_bytes',
    'Current memory usage in bytes, including all memory regardless of when it was accessed.',
    (s) => s.memory?.usageBytes,
  ),
  one(
    'gauge',
    'container_memory_working_set_bytes',
    'Current working set in bytes.',
    (s) => s.memory?.workingSetBytes,
  ),
  one('gauge', 'container_memory_rss', 'Size of RSS in bytes.', (s) => s.memory?.rssBytes),
  one(
    'gauge',
    'container_memory_cache',
    'Number of bytes of page cache memory.',
    (s) => s.memory?.cacheBytes,
  ),
  one(
    'gauge',
    'container_memory_mapped_file',
    'Size of memory mapped files in bytes.',
    (s) => s.memory?.mappedFileBytes,
  ),
  one(
    'gauge',
    'container_memory_kernel_usage',
    'Size of kernel memory allocated in bytes.',
    (s) => s.memory?.kernelBytes,
  ),
  one(
    'gauge',
    'container_memory_max_usage_bytes',
    'Maximum memory usage recorded in bytes.',
    (s) => s.memory?.maxUsageBytes,
  ),
  one('gauge', 'container_memory_swap', 'Container swap usage in bytes.', (s) => s.memory?.swapUsageBytes),
  one('counter', 'container_memory_failcnt', 'Number of memory usage hits limits.', (s) => s.memory?.failcnt),
  many(
    'counter',
    'container_memory_failures_total',
    'Cumulative count of memory allocation failures.',
    ['failure_type', 'scope'],
    (s) => {
      const m = s.memory;
      if (m?.pageFaults === undefined || m.majorPageFaults === undefined) return undefined;
      return [
        { labels: ['pgfault', 'container'], value: m.pageFaults },
        { labels: ['pgmajfault', 'container'], value: m.majorPageFaults },
      ];
    },
  ),
  many('gauge', 'container_hugetlb_usage_bytes', 'Current hugepage usage in bytes.', ['pagesize'], (s) =>
    s.hugetlb?.map((h) => ({ labels: [h.pageSize], value: h.usageBytes })),
  ),
  many(
    'gauge',
    'container_hugetlb_max_usage_bytes',
    'Maximum hugepage usage recorded in bytes.',
    ['pagesize'],
    (s) =>
      s.hugetlb?.flatMap((h) =>
        h.maxUsageBytes === undefined ? [] : [{ labels: [h.pageSize], value: h.maxUsageBytes }],
      ),
  ),
  one(
    'counter',
    'container_oom_events_total',
    'Count of out of memory events observed for the container.',
    (s) => s.oomEvents,
  ),
  // Processes
  one(
    'gauge',
    'container_processes',
    'Number of processes running inside the container.',
    (s) => s.processes,
  ),
  one('gauge', 'container_threads', 'Number of threads running inside the container.', (s) => s.threads),
  one(
    'gauge',
    'container_threads_max',
    'Maximum number of threads allowed inside the container, 0 if unlimited.',
    (s) => (s.threads === undefined ? undefined : (s.threadsMax ?? 0)),
  ),
  one(
    'gauge',
    'container_file_descriptors',
    'Number of open file descriptors for the container.',
    (s) => s.fileDescriptors,
  ),
  one('gauge', 'container_sockets', 'Number of open sockets for the container.', (s) => s.sockets),
  many('gauge', 'container_tasks_state', 'Number of tasks in given state.', ['state'], (s) =>
    s.tasks ? Object.entries(s.tasks).map(([state, value]) => ({ labels: [state], value })) : undefined,
  ),
  many(
    'gauge',
    'container_ulimits_soft',
    'Soft ulimit values for the container root process. Unlimited if -1, except priority and nice.',
    ['ulimit'],
    (s) =>
      s.ulimitsSoft
        ? Object.entries(s.ulimitsSoft).map(([ulimit, value]) => ({ labels: [ulimit], value }))
        : undefined,
  ),
  // Filesystem and block I/O
  many(
    'gauge',
    'container_fs_usage_bytes',
    'Number of bytes that are consumed by the container on this filesystem.',
    ['device'],
    fsDevice((f) => f.usageBytes),
  ),
  many(
    'gauge',
    'container_fs_limit_bytes',
    'Number of bytes that can be consumed by the container on this filesystem.',
    ['device'],
    fsDevice((f) => f.limitBytes),
  ),
  many(
    'gauge',
    'container_fs_inodes_free',
    'Number of available Inodes.',
    ['device'],
    fsDevice((f) => f.inodesFree),
  ),
  many(
    'gauge',
    'container_fs_inodes_total',
    'Number of Inodes.',
    ['device'],
    fsDevice((f) => f.inodesTotal),
  ),
  many(
    'counter',
    'container_fs_reads_bytes_total',
    'Cumulative count of bytes read.',
    ['device'],
    perDevice((d) => d.readBytes),
  ),
  many(
    'counter',
    'container_fs_reads_total',
    'Cumulative count of reads completed.',
    ['device'],
    perDevice((d) => d.readOps),
  ),
  many(
    'counter',
    'container_fs_writes_bytes_total',
    'Cumulative count of bytes written.',
    ['device'],
    perDevice((d) => d.writeBytes),
  ),
  many(
    'counter',
    'container_fs_writes_total',
    'Cumulative count of writes completed.',
    ['device'],
    perDevice((d) => d.writeOps),
  ),
  many(
    'counter',
    'container_blkio_device_usage_total',
    'Blkio device bytes usage.',
    ['device', 'major', 'minor', 'operation'],
    (s) =>
      s.blockDevices?.flatMap((d) =>
        d.major === undefined || d.minor === undefined
          ? []
          : [
              { labels: [d.device, String(d.major), String(d.minor), 'Read'], value: d.readBytes },
              { labels: [d.device, String(d.major), String(d.minor), 'Write'], value: d.writeBytes },
            ],
      ),
  ),
  // Network (the pod's interfaces)
  perInterface(
    'container_network_receive_bytes_total',
    'Cumulative count of bytes received.',
    (i) => i.rxBytes,
  ),
  perInterface(
    'container_network_receive_packets_total',
    'Cumulative count of packets received.',
    (i) => i.rxPackets,
  ),
  perInterface(
    'container_network_receive_errors_total',
    'Cumulative count of errors encountered while receiving.',
    (i) => i.rxErrors,
  ),
  perInterface(
    'container_network_receive_packets_dropped_total',
    'Cumulative count of packets dropped while receiving.',
    (i) => i.rxDropped,
  ),
  perInterface(
    'container_network_transmit_bytes_total',
    'Cumulative count of bytes transmitted.',
    (i) => i.txBytes,
  ),
  perInterface(
    'container_network_transmit_packets_total',
    'Cumulative count of packets transmitted.',
    (i) => i.txPackets,
  ),
  perInterface(
    'container_network_transmit_errors_total',
    'Cumulative count of errors encountered while transmitting.',
    (i) => i.txErrors,
  ),
  perInterface(
    'container_network_transmit_packets_dropped_total',
    'Cumulative count of packets dropped while transmitting.',
    (i) => i.txDropped,
  ),
  // Pressure stall information (cgroup v2 only)
  pressure('cpu', 'waiting'),
  pressure('cpu', 'stalled'),
  pressure('memory', 'waiting'),
  pressure('memory', 'stalled'),
  pressure('io', 'waiting'),
  pressure('io', 'stalled'),
  // Spec: cAdvisor writes 0 for an unset limit, and dashboards rely on that (limit > 0 filters).
  one('gauge', 'container_spec_cpu_period', 'CPU period of the container.', (s) =>
    s.spec ? (s.spec.cpuPeriod ?? 0) : undefined,
  ),
  one('gauge', 'container_spec_cpu_quota', 'CPU quota of the container.', (s) =>
    s.spec ? (s.spec.cpuQuota ?? 0) : undefined,
  ),
  one('gauge', 'container_spec_cpu_shares', 'CPU share of the container.', (s) =>
    s.spec ? (s.spec.cpuShares ?? 0) : undefined,
  ),
  one('gauge', 'container_spec_memory_limit_bytes', 'Memory limit for the container.', (s) =>
    s.spec ? (s.spec.memoryLimitBytes ?? 0) : undefined,
  ),
  one(
    'gauge',
    'container_spec_memory_reservation_limit_bytes',
    'Memory reservation limit for the container.',
    (s) => (s.spec ? (s.spec.memoryReservationBytes ?? 0) : undefined),
  ),
  one('gauge', 'container_spec_memory_swap_limit_bytes', 'Memory swap limit for the container.', (s) =>
    s.spec ? (s.spec.memorySwapLimitBytes ?? 0) : undefined,
  ),
  // Lifetime
  one(
    'gauge',
    'container_start_time_seconds',
    'Start time of the container since unix epoch in seconds.',
    (s) => s.startTimeSeconds,
  ),
  one(
    'gauge',
    'container_last_seen',
    'Last time a container was seen by the exporter.',
    (s) => Number(s.timestampNs / 1_000_000n) / 1000,
  ),
];
