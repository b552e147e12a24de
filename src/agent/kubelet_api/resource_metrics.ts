// GET /metrics/resource: the series metrics-server reads (kubelet
// pkg/kubelet/metrics/collectors/resource_metrics.go), taken from the same Summary as /stats/summary.
import { PromText } from './prom_text';
import type { Summary } from './summary';

const ms = (iso: string) => Date.parse(iso);

type Usage = Pick<Summary['pods'][number], 'cpu' | 'memory'>;

/** `<of>_cpu_usage_seconds_total` and `<of>_memory_working_set_bytes`, where the Summary has them. */
function usageSamples(
  out: PromText,
  of: 'container' | 'pod',
  labels: Record<string, string>,
  u: Usage,
): void {
  if (u.cpu)
    out.sample(`${of}_cpu_usage_seconds_total`, labels, u.cpu.usageCoreNanoSeconds / 1e9, ms(u.cpu.time));
  if (u.memory?.workingSetBytes !== undefined)
    out.sample(`${of}_memory_working_set_bytes`, labels, u.memory.workingSetBytes, ms(u.memory.time));
}

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
        usageSamples(out, 'container', labels, c);
        out.sample('container_start_time_seconds', labels, ms(c.startTime) / 1000, ms(c.startTime));
      }
      usageSamples(out, 'pod', podLabels, pod);
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
