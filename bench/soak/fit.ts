// Growth of a soak series: the slope of a least-squares line through the warm samples, per hour.
// The first part of a run (caches filling, pools starting, the heap finding its size) is left out.

export interface Point {
  /** Seconds since the churn began. */
  t: number;
  value: number;
}

/** Slope of the least-squares line through the points, in value units per second; 0 for < 2 points. */
export function slope(points: Point[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const meanT = points.reduce((s, p) => s + p.t, 0) / n;
  const meanV = points.reduce((s, p) => s + p.value, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - meanT) * (p.value - meanV);
    den += (p.t - meanT) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** The points at or after `warmFraction` of the run's span (the warm part). */
export function warmPart(points: Point[], warmFraction: number): Point[] {
  if (points.length === 0) return [];
  const first = points[0]!.t;
  const last = points[points.length - 1]!.t;
  const from = first + (last - first) * warmFraction;
  return points.filter((p) => p.t >= from);
}

/** Growth per hour over the warm part. */
export function growthPerHour(points: Point[], warmFraction = 0.2): number {
  return slope(warmPart(points, warmFraction)) * 3600;
}
