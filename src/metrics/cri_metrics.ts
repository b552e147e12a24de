// The data of the CRI metrics RPCs, from the same table and the same cached samples as /metrics:
// ListMetricDescriptors (name, help, label keys) and ListPodSandboxMetrics (values per pod and per
// container). The kubelet turns these back into Prometheus series as they are, so the label values
// of each metric follow its descriptor's label keys exactly, and their counts always match.
import type { MetricDescriptor } from '../gen/runtime/v1/MetricDescriptor';
import type { Metric } from '../gen/runtime/v1/Metric';
import type { PodSandboxMetrics } from '../gen/runtime/v1/PodSandboxMetrics';
import { BASE_LABEL_KEYS, CADVISOR_METRICS } from './cadvisor_table';
import { baseLabelValues } from './cadvisor';
import type { ContainerStatsEntry } from './container_sample';

export function listMetricDescriptors(): MetricDescriptor[] {
  return CADVISOR_METRICS.map((m) => ({
    name: m.name,
    help: m.help,
    label_keys: [...BASE_LABEL_KEYS, ...m.extraLabels],
  }));
}

// CRI values are uint64: fractions are dropped, as CRI-O does (whole seconds for the *_seconds
// metrics), and negatives, which no cgroup counter has, become 0.
function uint64(value: number): string {
  if (!Number.isFinite(value) || value <= 0) return '0';
  return BigInt(Math.floor(value)).toString();
}

function metricsOf(entry: ContainerStatsEntry): Metric[] {
  const base = baseLabelValues(entry);
  const timestamp = entry.sample.timestampNs.toString();
  const out: Metric[] = [];
  const push = (name: string, type: 'counter' | 'gauge', labels: string[], value: number) =>
    out.push({
      name,
      timestamp,
      metric_type: type === 'counter' ? 'COUNTER' : 'GAUGE',
      label_values: labels,
      value: { value: uint64(value) },
    });
  for (const metric of CADVISOR_METRICS) {
    if (metric.value) {
      const value = metric.value(entry.sample);
      if (value !== undefined) push(metric.name, metric.type, base, value);
      continue;
    }
    for (const { labels, value } of metric.series?.(entry.sample) ?? []) {
      push(metric.name, metric.type, [...base, ...labels], value);
    }
  }
  return out;
}

/**
 * Groups entries by pod: a pod-level entry (name "") gives the pod's own metrics, the others its
 * container_metrics. A pod with containers but no pod-level entry is listed with no own metrics.
 */
export function podSandboxMetrics(entries: ContainerStatsEntry[]): PodSandboxMetrics[] {
  const pods = new Map<
    string,
    {
      pod_sandbox_id: string;
      metrics: Metric[];
      container_metrics: { container_id: string; metrics: Metric[] }[];
    }
  >();
  for (const entry of entries) {
    let pod = pods.get(entry.podId);
    if (!pod) {
      pod = { pod_sandbox_id: entry.podId, metrics: [], container_metrics: [] };
      pods.set(entry.podId, pod);
    }
    if (entry.name === '') pod.metrics.push(...metricsOf(entry));
    else pod.container_metrics.push({ container_id: entry.id, metrics: metricsOf(entry) });
  }
  return [...pods.values()];
}
