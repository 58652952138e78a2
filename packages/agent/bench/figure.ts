/** A figure of the benchmark result format, its runs rounded, with their median and its ratio to the baseline. */
import type { Figure } from '@npl/benchkit';
import { median } from '@npl/benchkit';

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs, median and baseline rounded to `digits`; ratio (median / baseline median) to 3 digits when a baseline is given. */
export function figure(f: Omit<Figure, 'median' | 'ratio'>, digits = 4): Figure {
  const runs = f.runs.map((x) => round(x, digits));
  const med = round(median(runs), digits);
  const baseline = f.baseline ? { ...f.baseline, runs: f.baseline.runs?.map((x) => round(x, digits)), median: round(f.baseline.median, digits) } : undefined;
  return { ...f, runs, median: med, ...(baseline ? { baseline, ratio: baseline.median ? round(med / baseline.median, 3) : undefined } : {}) };
}
