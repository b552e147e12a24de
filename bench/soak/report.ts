// The soak's results page: every series per sample, then its growth per hour over the warm part.
import { runSections, type ReportContext } from '../lib/report';
import { growthPerHour, Point } from './fit';
import { SERIES, SoakResult } from './driver';

export interface SoakReportContext extends ReportContext {
  warmFraction: number;
}

function num(value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(Math.abs(value) >= 100 ? 0 : 1);
}

function signed(value: number): string {
  if (Number.isNaN(value)) return '—';
  const rounded = Math.abs(value) >= 10 ? value.toFixed(0) : value.toFixed(2);
  return value > 0 ? `+${rounded}` : rounded;
}

/** The series that a run holds, in report order (a series never read is left out). */
function seriesOf(result: SoakResult): string[] {
  return SERIES.filter((s) => result.samples.some((x) => !Number.isNaN(x.values[s] ?? NaN)));
}

export function growthTable(result: SoakResult, warmFraction: number): string {
  const lines = [
    '| series | idle before | first warm | last | min | max | growth per hour (warm) | idle after |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const warmFrom = (result.samples.at(-1)?.t ?? 0) * warmFraction;
  for (const s of seriesOf(result)) {
    if (s === 'pods cycled') continue;
    const points: Point[] = result.samples
      .map((x) => ({ t: x.t, value: x.values[s] ?? NaN }))
      .filter((p) => !Number.isNaN(p.value));
    const values = points.map((p) => p.value);
    const firstWarm = points.find((p) => p.t >= warmFrom)?.value;
    lines.push(
      `| ${s} | ${num(result.idleBefore.values[s])} | ${num(firstWarm)} | ${num(values.at(-1))} | ` +
        `${num(Math.min(...values))} | ${num(Math.max(...values))} | ` +
        `${signed(growthPerHour(points, warmFraction))} | ${num(result.idleAfter.values[s])} |`,
    );
  }
  return lines.join('\n');
}

export function seriesTable(result: SoakResult): string {
  const series = seriesOf(result);
  const lines = [`| t | ${series.join(' | ')} |`, `|---:|${series.map(() => '---:').join('|')}|`];
  const row = (label: string, values: Record<string, number>) =>
    `| ${label} | ${series.map((s) => num(values[s])).join(' | ')} |`;
  lines.push(row('idle before', result.idleBefore.values));
  for (const x of result.samples) lines.push(row(`${(x.t / 60).toFixed(1)} min`, x.values));
  lines.push(row('idle after', result.idleAfter.values));
  return lines.join('\n');
}

export function soakMarkdown(result: SoakResult, ctx: SoakReportContext): string {
  const errors = Object.entries(result.errors);
  return [
    `# nodelet soak — ${ctx.date}`,
    '',
    'Pod churn against one nodelet daemon by `BENCH_ONLY=soak npm run bench` (bench/soak): each pod ' +
      'runs a container that logs and sleeps, an ExecSync into it, a container that exits, its log ' +
      'line read back from the CRI log file, ReopenContainerLog, the stats, list and status calls, ' +
      'then StopPodSandbox and RemovePodSandbox. "idle" rows are read with no pod, before the churn ' +
      '(after one warm-up pod per worker) and after the removal of every pod. Growth per hour is the ' +
      `slope of a least-squares line through the samples after the first ${Math.round(ctx.warmFraction * 100)} % of the run.`,
    '',
    `Pods cycled: ${result.cycles}. Failed calls: ${errors.length === 0 ? 'none' : errors.map(([k, n]) => `${k} ${n}`).join(', ')}.`,
    ...(result.firstErrors.length ? ['', 'First failures:', ...result.firstErrors.map((e) => `- ${e}`)] : []),
    '',
    '## Growth',
    '',
    growthTable(result, ctx.warmFraction),
    '',
    '## Series',
    '',
    seriesTable(result),
    '',
    ...runSections(ctx),
  ].join('\n');
}
