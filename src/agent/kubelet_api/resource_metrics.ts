// GET /metrics/resource: the series metrics-server reads (kubelet
// pkg/kubelet/metrics/collectors/resource_metrics.go), taken from the same Summary as /stats/summary.
import { PromText } from './prom_text';
import type { Summary } from './summary';

const ms = (iso: string) => Date.parse(iso);

export function resourceMetrics(summary: Summary | undefined): string {
  const out = new PromText();
  if (summary) {
    const { cpu, memory } = summary.node;
    out
      .family(
        'node_cpu_usage_seconds_total',
        'counter',
        '[STABLE] Cumulative cpu time consumed by the node in core-seconds',
      )
      .sample('node_cpu_usage_seconds_total', {}, cpu.usageCoreNanoSeconds / 1e9, ms(cpu.time))
      .family('node_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the node in bytes')
      .sample('node_memory_working_set_bytes', {}, memory.workingSetBytes, ms(memory.time));
    out
      .family(
        'container_cpu_usage_seconds_total',
        'counter',
        '[STABLE] Cumulative cpu time consumed by the container in core-seconds',
      )
      .family(
        'container_memory_working_set_bytes',
        'gauge',
        '[STABLE] Current working set of the container in bytes',
      )
      .family(
        'container_start_time_seconds',
        'gauge',
        '[STABLE] Start time of the container since unix epoch in seconds',
      )
      .family(
        'pod_cpu_usage_seconds_total',
        'counter',
        '[STABLE] Cumulative cpu time consumed by the pod in core-seconds',
      )
      .family('pod_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the pod in bytes');
    for (const pod of summary.pods) {
      const podLabels = { namespace: pod.podRef.namespace, pod: pod.podRef.name };
      for (const c of pod.containers) {
        const labels = { container: c.name, ...podLabels };
        if (c.cpu)
          out.sample(
            'container_cpu_usage_seconds_total',
            labels,
            c.cpu.usageCoreNanoSeconds / 1e9,
            ms(c.cpu.time),
          );
        if (c.memory?.workingSetBytes !== undefined)
          out.sample(
            'container_memory_working_set_bytes',
            labels,
            c.memory.workingSetBytes,
            ms(c.memory.time),
          );
        out.sample('container_start_time_seconds', labels, ms(c.startTime) / 1000, ms(c.startTime));
      }
      if (pod.cpu)
        out.sample(
          'pod_cpu_usage_seconds_total',
          podLabels,
          pod.cpu.usageCoreNanoSeconds / 1e9,
          ms(pod.cpu.time),
        );
      if (pod.memory?.workingSetBytes !== undefined)
        out.sample(
          'pod_memory_working_set_bytes',
          podLabels,
          pod.memory.workingSetBytes,
          ms(pod.memory.time),
        );
    }
  }
  out
    .family(
      'resource_scrape_error',
      'gauge',
      '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise',
    )
    .sample('resource_scrape_error', {}, summary ? 0 : 1);
  return out.toString();
}
