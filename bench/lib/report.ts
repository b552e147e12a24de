// The results page: one table with nodelet, containerd and their ratio for every figure, then the
// machine and the versions it was measured with.
import type { Figure } from './stats';

function num(value: number | undefined, unit: string): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  if (unit === '') return String(Math.round(value));
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

export function ratio(figure: Figure): string {
  const { nodelet, containerd } = figure.values;
  if (nodelet === undefined || containerd === undefined || containerd === 0) return '—';
  return (nodelet / containerd).toFixed(2);
}

/** The markdown table of every figure (a missing value shows its reason below the table). */
export function figureTable(figures: Figure[]): string {
  const lines = ['| section | figure | nodelet | containerd | ratio |', '|---|---|---:|---:|---:|'];
  const notes: string[] = [];
  for (const f of figures) {
    const row = [
      f.section,
      f.name,
      num(f.values.nodelet, f.unit),
      num(f.values.containerd, f.unit),
      ratio(f),
    ];
    lines.push(`| ${row.join(' | ')} |`);
    for (const [rt, why] of Object.entries(f.notes ?? {}))
      notes.push(`- ${f.section} / ${f.name} / ${rt}: ${why}`);
  }
  return [lines.join('\n'), ...(notes.length ? ['', 'Missing values:', ...notes] : [])].join('\n');
}

export interface ReportContext {
  date: string;
  machine: Record<string, string>;
  versions: Record<string, string>;
  settings: Record<string, string | number>;
  durationS: number;
}

/** The closing sections every results page has: the machine, the versions and the settings. */
export function runSections(ctx: ReportContext): string[] {
  const list = (o: Record<string, string | number>) =>
    Object.entries(o)
      .map(([k, v]) => `- ${k}: ${v}`)
      .join('\n');
  return [
    '## Machine',
    '',
    list(ctx.machine),
    '',
    '## Versions',
    '',
    list(ctx.versions),
    '',
    '## Settings',
    '',
    list({ ...ctx.settings, 'bench duration': `${Math.round(ctx.durationS)} s` }),
    '',
  ];
}

export function reportMarkdown(figures: Figure[], ctx: ReportContext): string {
  return [
    `# nodelet vs containerd + runc — ${ctx.date}`,
    '',
    'Measured through the CRI by `npm run bench`, runs alternating between the two runtimes. ' +
      'A ratio below 1 means nodelet is faster or smaller.',
    '',
    figureTable(figures),
    '',
    ...runSections(ctx),
  ].join('\n');
}
