// A Prometheus histogram read from a /metrics page (text format), and its quantiles computed as
// PromQL's histogram_quantile does: linear interpolation inside the bucket the rank falls in, 0 as
// the lower edge of the first bucket, and the last finite edge when the rank is in the +Inf bucket.

export interface Histogram {
  /** Cumulative counts by upper edge, ascending; the last edge is Infinity. */
  buckets: { le: number; count: number }[];
  count: number;
  sum: number;
}

/** The unlabelled series of histogram `name` on a /metrics page; undefined when it has none. */
export function readHistogram(page: string, name: string): Histogram | undefined {
  const buckets: Histogram['buckets'] = [];
  let count: number | undefined;
  let sum = 0;
  for (const line of page.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^(\S+?)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, metric, labels = '', value] = m;
    if (metric === `${name}_bucket`) {
      const le = /le="([^"]+)"/.exec(labels)?.[1];
      if (le !== undefined) buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: Number(value) });
    } else if (metric === `${name}_count`) count = Number(value);
    else if (metric === `${name}_sum`) sum = Number(value);
  }
  if (count === undefined || buckets.length === 0) return undefined;
  buckets.sort((a, b) => a.le - b.le);
  return { buckets, count, sum };
}

/** The q-quantile (0..1) of a histogram; NaN when it has no observations. */
export function histogramQuantile(h: Histogram, q: number): number {
  const total = h.buckets[h.buckets.length - 1]!.count;
  if (total === 0) return NaN;
  const rank = q * total;
  let lowerEdge = 0;
  let lowerCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return lowerEdge;
      const inBucket = b.count - lowerCount;
      return inBucket === 0 ? b.le : lowerEdge + (b.le - lowerEdge) * ((rank - lowerCount) / inBucket);
    }
    lowerEdge = b.le;
    lowerCount = b.count;
  }
  return lowerEdge;
}
