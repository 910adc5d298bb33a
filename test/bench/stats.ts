/** Small statistics for the load benchmark. */

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length)));
  return s[rank - 1]!;
}

export function mean(values: readonly number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

/** Jain's fairness index: 1 = everyone got the same, 1/n = one got everything. */
export function jain(values: readonly number[]): number | null {
  const xs = values.filter((v) => Number.isFinite(v));
  if (xs.length === 0) return null;
  const sum = xs.reduce((a, b) => a + b, 0);
  const sq = xs.reduce((a, b) => a + b * b, 0);
  return sq === 0 ? 1 : (sum * sum) / (xs.length * sq);
}

/** Busy share of `workers` over [from, to], given busy intervals (ms epoch). */
export function busyFraction(intervals: ReadonlyArray<[number, number]>, from: number, to: number, workers: number): number | null {
  if (!(to > from) || workers < 1) return null;
  let busy = 0;
  for (const [a, b] of intervals) busy += Math.max(0, Math.min(b, to) - Math.max(a, from));
  return busy / ((to - from) * workers);
}
