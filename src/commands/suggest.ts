/** "Did you mean …?" for mistyped flag names. */

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions (`szie` → `size` is 1). */
export function editDistance(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  const rows: number[][] = [];
  for (let i = 0; i <= x.length; i++) {
    const row: number[] = new Array<number>(y.length + 1).fill(0);
    row[0] = i;
    rows.push(row);
  }
  for (let j = 0; j <= y.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= x.length; i++) {
    const row = rows[i]!;
    const prev = rows[i - 1]!;
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row[j] = best;
    }
  }
  return rows[x.length]![y.length]!;
}

/**
 * The candidate closest to `typed`, if it is close enough to be a plausible typo: at most 2 edits, and
 * fewer edits than half the longer word (so `--ab` does not become `--seed`). Ties go to the earlier candidate.
 */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const typedLength = Array.from(typed).length;
  for (const candidate of candidates) {
    // The distance is at least the difference in length: skip hopeless (and possibly huge) comparisons.
    if (Math.abs(typedLength - Array.from(candidate).length) > 2) continue;
    const d = editDistance(typed, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  const longer = Math.max(Array.from(typed).length, Array.from(best).length);
  return bestDistance <= 2 && bestDistance * 2 < longer ? best : undefined;
}
