// Percentiles and the figures the report is made of. A figure holds one number per runtime; the
// ratio (nodelet / containerd) is computed when the report is written, so below 1 means nodelet
// is faster or smaller.

export type RuntimeName = 'nodelet' | 'containerd';
export const RUNTIMES: RuntimeName[] = ['nodelet', 'containerd'];

export interface Figure {
  section: string;
  name: string;
  unit: string;
  values: Partial<Record<RuntimeName, number>>;
  /** Why a value is missing (a failure of one runtime does not stop the bench). */
  notes?: Partial<Record<RuntimeName, string>>;
}

/** The q-quantile (0..1) by the nearest-rank method; NaN for no samples. */
export function percentile(samples: number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

/** Milliseconds an async call takes, with its result. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

/** Collects samples per runtime and operation, then turns them into figures. */
export class Samples {
  private readonly data = new Map<string, Record<RuntimeName, number[]>>();

  add(op: string, runtime: RuntimeName, ms: number): void {
    let entry = this.data.get(op);
    if (!entry) this.data.set(op, (entry = { nodelet: [], containerd: [] }));
    entry[runtime].push(ms);
  }

  figures(section: string, quantiles: number[], unit = 'ms'): Figure[] {
    const out: Figure[] = [];
    for (const [op, byRuntime] of this.data) {
      for (const q of quantiles) {
        const values: Figure['values'] = {};
        for (const rt of RUNTIMES) {
          if (byRuntime[rt].length > 0) values[rt] = percentile(byRuntime[rt], q);
        }
        out.push({ section, name: `${op} p${Math.round(q * 100)}`, unit, values });
      }
    }
    return out;
  }
}

/** Alternates which runtime goes first, so drift of the machine hits both alike. */
export function orderFor(round: number): RuntimeName[] {
  return round % 2 === 0 ? ['nodelet', 'containerd'] : ['containerd', 'nodelet'];
}
