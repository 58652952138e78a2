/** Number formatting shared by the Markdown and SVG renderers. Pure, locale-independent. */

function thousands(n: number): string {
  const sign = n < 0 ? '-' : '';
  const digits = String(Math.round(Math.abs(n)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * About three significant digits, thousands separated: 30000 → "30,000", 455.04 → "455",
 * 41.37 → "41.4", 8.384 → "8.38", 0.04251 → "0.0425"; integers stay whole unless `keepWhole` is
 * false (in a list of measured values, 19 next to 18.3 reads "19.0").
 */
export function formatNumber(x: number, keepWhole = true): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if ((keepWhole && Number.isInteger(x)) || a >= 100) return thousands(x);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return String(Number(x.toPrecision(3)));
}

/** A value with its unit ("8.38 s"); units "" and "count" print the number alone. */
export function withUnit(x: number, unit: string): string {
  const n = formatNumber(x);
  if (unit === '' || unit === 'count') return n;
  if (unit === '%' || unit === '×' || unit === 'x') return `${n}${unit === 'x' ? '×' : unit}`;
  return `${n} ${unit}`;
}

/** "1.32×"; below 0.5 also as a fraction, which reads better: "0.145× (1/6.90)". */
export function formatRatio(r: number): string {
  return r > 0 && r < 0.5 ? `${formatNumber(r)}× (1/${formatNumber(1 / r)})` : `${formatNumber(r)}×`;
}
