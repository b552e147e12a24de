// cAdvisor-style container metrics in the Prometheus text format, written by hand from the cached
// samples. With 200 containers a scrape holds about 10,000 series: prom-client would build a
// labels object and a hash per series on every scrape, while here each container's base labels are
// escaped and encoded once and every line is copied into one growing buffer (bench/metrics/scrape.ts measures both).
import { BASE_LABEL_KEYS, CADVISOR_METRICS, CadvisorMetric } from './cadvisor_table';
import type { ContainerStatsEntry, ContainerStatsSource } from './container_sample';
import { ExpositionBuffer } from './exposition';

/** Something the /metrics endpoint appends to the registry's output, in the text format. */
export type TextCollector = () => string | Buffer;

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

function baseLabels(entry: ContainerStatsEntry): string {
  const values = baseLabelValues(entry);
  return BASE_LABEL_KEYS.map((key, i) => `${key}="${escapeLabelValue(values[i])}"`).join(',');
}

// The constant parts of each metric, encoded once per process.
const ENCODED = new Map(
  CADVISOR_METRICS.map((m) => [
    m,
    {
      header: Buffer.from(`# HELP ${m.name} ${m.help}\n# TYPE ${m.name} ${m.type}\n`),
      name: Buffer.from(m.name),
      extra: m.extraLabels.map((key) => Buffer.from(`,${key}="`)),
    },
  ]),
);
const CLOSE = Buffer.from('} ');
const QUOTE = Buffer.from('"');
const NEWLINE = Buffer.from('\n');

function writeMetric(
  metric: CadvisorMetric,
  entries: ContainerStatsEntry[],
  labels: Buffer[],
  out: ExpositionBuffer,
) {
  const encoded = ENCODED.get(metric)!;
  let header = false;
  const line = (i: number, extra: string[] | undefined, value: number) => {
    if (!header) out.bytes(encoded.header);
    header = true;
    out.bytes(encoded.name);
    out.bytes(labels[i]);
    if (extra) {
      for (let k = 0; k < extra.length; k++) {
        out.bytes(encoded.extra[k]);
        out.text(escapeLabelValue(extra[k]));
        out.bytes(QUOTE);
      }
    }
    out.bytes(CLOSE);
    out.value(value);
    out.bytes(NEWLINE);
  };
  for (let i = 0; i < entries.length; i++) {
    const sample = entries[i].sample;
    if (metric.value) {
      const value = metric.value(sample);
      if (value !== undefined) line(i, undefined, value);
      continue;
    }
    for (const { labels: extra, value } of metric.series?.(sample) ?? []) line(i, extra, value);
  }
}

/** Every cAdvisor metric for every entry, as Prometheus text; a metric no entry has is left out. */
export function writeCadvisorMetrics(entries: ContainerStatsEntry[]): Buffer {
  const labels = entries.map((e) => Buffer.from(`{${baseLabels(e)}`));
  const out = new ExpositionBuffer(entries.length * 16384);
  for (const metric of CADVISOR_METRICS) writeMetric(metric, entries, labels, out);
  return out.result();
}

/** A collector for the /metrics endpoint over the stats collector's cache. */
export function cadvisorCollector(source: ContainerStatsSource): TextCollector {
  return () => writeCadvisorMetrics(source.list());
}
