// What one /metrics scrape costs the daemon with N containers (default 200): daemon CPU time per
// scrape (process.cpuUsage, user + system) for the hand-written cAdvisor writer nodelet uses, the
// whole endpoint body (registry + container metrics), and, for comparison, the same series through
// prom-client gauges. The target from issue 8 is under 50 ms of daemon CPU for 200 containers.
import client from 'prom-client';
import {
  collectMetrics,
  createRegistry,
  createRuntimeMetrics,
  writeCadvisorMetrics,
  CADVISOR_METRICS,
} from '../../src/metrics';
import { BASE_LABEL_KEYS } from '../../src/metrics/cadvisor_table';
import { baseLabelValues } from '../../src/metrics/cadvisor';
import { syntheticEntries } from '../../src/metrics/fixtures.testutil';
import type { ContainerStatsEntry } from '../../src/metrics';

const ROUNDS = 50;

async function cpuMsPerRound(
  run: () => unknown | Promise<unknown>,
): Promise<{ cpuMs: number; bytes: number }> {
  let bytes = 0;
  for (let i = 0; i < 5; i++) await run(); // warm up the JIT
  const start = process.cpuUsage();
  for (let i = 0; i < ROUNDS; i++) {
    const out = await run();
    if (typeof out === 'string' || Buffer.isBuffer(out)) bytes = out.length;
  }
  const used = process.cpuUsage(start);
  return { cpuMs: (used.user + used.system) / 1000 / ROUNDS, bytes };
}

/** The same series set through prom-client gauges, reset and refilled on each scrape. */
function promClientScrape(entries: ContainerStatsEntry[]) {
  const registry = new client.Registry();
  const gauges = CADVISOR_METRICS.map(
    (m) =>
      new client.Gauge({
        name: m.name,
        help: m.help,
        labelNames: [...BASE_LABEL_KEYS, ...m.extraLabels],
        registers: [registry],
      }),
  );
  return async () => {
    CADVISOR_METRICS.forEach((metric, i) => {
      const gauge = gauges[i];
      gauge.reset();
      for (const entry of entries) {
        const base: Record<string, string> = {};
        baseLabelValues(entry).forEach((v, k) => (base[BASE_LABEL_KEYS[k]] = v));
        if (metric.value) {
          const value = metric.value(entry.sample);
          if (value !== undefined) gauge.set(base, value);
          continue;
        }
        for (const { labels, value } of metric.series?.(entry.sample) ?? []) {
          const all = { ...base };
          labels.forEach((v, k) => (all[metric.extraLabels[k]] = v));
          gauge.set(all, value);
        }
      }
    });
    return registry.metrics();
  };
}

export async function main(args: string[]) {
  const containers = Number(args[0] ?? 200);
  const perPod = 2;
  const entries = syntheticEntries(Math.ceil(containers / perPod), perPod).slice(
    0,
    containers + Math.ceil(containers / perPod),
  );
  const registry = createRegistry();
  const metrics = createRuntimeMetrics(registry);
  metrics.setContainerStats({ list: () => entries });

  const results = {
    'cAdvisor writer (nodelet)': await cpuMsPerRound(() => writeCadvisorMetrics(entries)),
    'whole /metrics body (nodelet)': await cpuMsPerRound(() =>
      collectMetrics(registry, [metrics.containerMetrics]),
    ),
    'prom-client gauges (comparison)': await cpuMsPerRound(promClientScrape(entries)),
  };
  const series = writeCadvisorMetrics(entries)
    .toString()
    .split('\n')
    .filter((l) => l && !l.startsWith('#')).length;
  console.log(
    `${containers} containers + ${entries.length - containers} pod entries, ${series} container series, ${ROUNDS} rounds`,
  );
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `${name.padEnd(34)} ${r.cpuMs.toFixed(2).padStart(7)} ms CPU/scrape  ${(r.bytes / 1024).toFixed(0)} KiB`,
    );
  }
}
