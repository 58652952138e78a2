/** Statistics every benchmark uses, so a median means the same everywhere. Pure. */

/** The median (mean of the two middle values for an even count); NaN for no values. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100); NaN for no values. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Points of the empirical cumulative distribution: (value, fraction of values <= it). */
export function ecdf(xs: readonly number[]): [number, number][] {
  const s = [...xs].sort((a, b) => a - b);
  return s.map((x, i) => [x, (i + 1) / s.length]);
}
