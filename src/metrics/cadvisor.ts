// cAdvisor-style container metrics in the Prometheus text format, written by hand from the cached
// samples. With 200 containers a scrape holds about 10,000 series: prom-client would build a
// labels object and a hash per series on every scrape, while here each container's base label
// string is escaped once and each line is one concatenation (bench/metrics/scrape.ts measures both).
import { BASE_LABEL_KEYS, CADVISOR_METRICS, CadvisorMetric } from './cadvisor_table';
import type { ContainerStatsEntry, ContainerStatsSource } from './container_sample';

/** Something the /metrics endpoint appends to the registry's output. */
export type TextCollector = () => string;

/** Escapes a label value as the exposition format requires: backslash, double quote, newline. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    : value;
}

/** The values of BASE_LABEL_KEYS for one entry; `name` is the container id, as cAdvisor on containerd. */
export function baseLabelValues(entry: ContainerStatsEntry): string[] {
  return [entry.name, entry.id, entry.image, entry.id, entry.namespace, entry.pod];
}

function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
}

function baseLabels(entry: ContainerStatsEntry): string {
  const values = baseLabelValues(entry);
  return BASE_LABEL_KEYS.map((key, i) => `${key}="${escapeLabelValue(values[i])}"`).join(',');
}

function writeMetric(
  metric: CadvisorMetric,
  entries: ContainerStatsEntry[],
  labels: string[],
  out: string[],
) {
  let header = false;
  const head = () => {
    if (header) return;
    header = true;
    out.push(`# HELP ${metric.name} ${metric.help}\n# TYPE ${metric.name} ${metric.type}\n`);
  };
  for (let i = 0; i < entries.length; i++) {
    const sample = entries[i].sample;
    if (metric.value) {
      const value = metric.value(sample);
      if (value === undefined) continue;
      head();
      out.push(`${metric.name}{${labels[i]}} ${formatValue(value)}\n`);
      continue;
    }
    const series = metric.series?.(sample);
    if (!series) continue;
    for (const { labels: extra, value } of series) {
      head();
      let line = `${metric.name}{${labels[i]}`;
      for (let k = 0; k < extra.length; k++)
        line += `,${metric.extraLabels[k]}="${escapeLabelValue(extra[k])}"`;
      out.push(`${line}} ${formatValue(value)}\n`);
    }
  }
}

/** Every cAdvisor metric for every entry, as Prometheus text; a metric no entry has is left out. */
export function writeCadvisorMetrics(entries: ContainerStatsEntry[]): string {
  const labels = entries.map(baseLabels);
  const out: string[] = [];
  for (const metric of CADVISOR_METRICS) writeMetric(metric, entries, labels, out);
  return out.join('');
}

/** A collector for the /metrics endpoint over the stats collector's cache. */
export function cadvisorCollector(source: ContainerStatsSource): TextCollector {
  return () => writeCadvisorMetrics(source.list());
}
