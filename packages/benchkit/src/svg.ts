/**
 * A small line-chart renderer: axes with ticks (linear or log), a title, axis labels, a legend and
 * several series of points, as a standalone SVG. Pure: the same chart always gives the same bytes.
 * Elements carry classes (`series`, `tick-x`, `tick-y`, `legend`) so tests can read them back.
 */
import { formatNumber } from './format.js';
import type { Axis, Chart } from './types.js';

const WIDTH = 720;
const PLOT_HEIGHT = 300;
const MARGIN = { left: 78, right: 24, top: 44, bottom: 52 };
const LEGEND_ROW = 20;
const LEGEND_ITEM = 230;
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

export interface Scale {
  readonly lo: number;
  readonly hi: number;
  readonly log: boolean;
  readonly ticks: readonly number[];
  /** Decimals of a linear axis' tick labels (those of its step), so 0, 2.5, 5 read 0.0, 2.5, 5.0. */
  readonly decimals?: number;
}

/** A tick's label: linear ticks all with the step's decimals, log ticks as plain numbers. */
export function tickLabel(s: Scale, t: number): string {
  if (s.decimals === undefined || s.decimals === 0) return formatNumber(t);
  return t.toFixed(s.decimals);
}

function niceStep(span: number, count: number): number {
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * mag;
}

function linearScale(min: number, max: number, forcedLo: number | undefined): Scale {
  let lo = forcedLo ?? (min >= 0 ? 0 : min);
  let hi = Math.max(max, lo);
  if (hi === lo) hi = lo === 0 ? 1 : lo + Math.abs(lo);
  const step = niceStep(hi - lo, 5);
  lo = Math.floor(lo / step + 1e-9) * step;
  hi = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; lo + i * step <= hi + step * 1e-9; i++) ticks.push(Number((lo + i * step).toPrecision(12)));
  const decimals = (String(Number(step.toPrecision(12))).split('.')[1] ?? '').length;
  return { lo, hi, log: false, ticks, decimals };
}

function logScale(min: number, max: number): Scale {
  const a = Math.floor(Math.log10(min));
  let b = Math.ceil(Math.log10(max));
  if (b === a) b = a + 1;
  const ticks: number[] = [];
  for (let e = a; e <= b; e++) {
    const p = Number((10 ** e).toPrecision(12));
    ticks.push(p);
    if (b - a <= 2 && e < b) ticks.push(Number((2 * p).toPrecision(12)), Number((5 * p).toPrecision(12)));
  }
  return { lo: 10 ** a, hi: 10 ** b, log: true, ticks };
}

/** The axis range and ticks for the values on it: log decades, or a linear range of nice steps. */
export function scaleFor(axis: Axis, values: readonly number[], zeroBased: boolean): Scale {
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (axis.log) return logScale(min, max);
  return linearScale(zeroBased ? Math.min(min, 0) : min, max, axis.min);
}

function position(s: Scale, v: number, from: number, to: number): number {
  const t = s.log ? (Math.log10(v) - Math.log10(s.lo)) / (Math.log10(s.hi) - Math.log10(s.lo)) : (v - s.lo) / (s.hi - s.lo);
  return Math.round((from + t * (to - from)) * 10) / 10;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const axisTitle = (a: Axis): string => (a.unit ? `${a.label} (${a.unit})` : a.label);

interface Frame {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
}

function gridAndTicks(xs: Scale, ys: Scale, f: Frame): string[] {
  const out: string[] = [];
  for (const t of xs.ticks) {
    const x = position(xs, t, f.x0, f.x1);
    out.push(`<line x1="${x}" y1="${f.y0}" x2="${x}" y2="${f.y1}" stroke="#e5e5e5"/>`);
    out.push(`<text class="tick-x" x="${x}" y="${f.y0 + 16}" text-anchor="middle">${tickLabel(xs, t)}</text>`);
  }
  for (const t of ys.ticks) {
    const y = position(ys, t, f.y0, f.y1);
    out.push(`<line x1="${f.x0}" y1="${y}" x2="${f.x1}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text class="tick-y" x="${f.x0 - 6}" y="${y + 4}" text-anchor="end">${tickLabel(ys, t)}</text>`);
  }
  return out;
}

/** Series i's colour and dash pattern: both vary, so lines stay apart in grey print too. */
function seriesStyle(i: number): { color: string; dashAttr: string } {
  const dash = DASHES[i % DASHES.length]!;
  return { color: PALETTE[i % PALETTE.length]!, dashAttr: dash ? ` stroke-dasharray="${dash}"` : '' };
}

function seriesMarkup(chart: Chart, xs: Scale, ys: Scale, f: Frame): string[] {
  const out: string[] = [];
  chart.series.forEach((s, i) => {
    const { color, dashAttr } = seriesStyle(i);
    const pts = [...s.points].sort((a, b) => a[0] - b[0]).map(([x, y]) => [position(xs, x, f.x0, f.x1), position(ys, y, f.y0, f.y1)] as const);
    out.push(`<g class="series" data-series="${esc(s.name)}">`);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dashAttr} points="${pts.map(([x, y]) => `${x},${y}`).join(' ')}"/>`);
    for (const [x, y] of pts) out.push(`<circle cx="${x}" cy="${y}" r="3" fill="${color}"/>`);
    out.push('</g>');
  });
  return out;
}

function legendMarkup(chart: Chart, top: number): string[] {
  const perRow = Math.max(1, Math.floor((WIDTH - MARGIN.left - MARGIN.right) / LEGEND_ITEM));
  return chart.series.map((s, i) => {
    const x = MARGIN.left + (i % perRow) * LEGEND_ITEM;
    const y = top + Math.floor(i / perRow) * LEGEND_ROW;
    const { color, dashAttr } = seriesStyle(i);
    return `<g class="legend"><line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${color}" stroke-width="2"${dashAttr}/><text x="${x + 30}" y="${y + 4}">${esc(s.name)}</text></g>`;
  });
}

/** The chart as an SVG document (UTF-8 text ending in a newline). */
export function renderLineChart(chart: Chart): string {
  const points = chart.series.flatMap((s) => s.points);
  const xs = scaleFor(chart.x, points.map((p) => p[0]), false);
  const ys = scaleFor(chart.y, points.map((p) => p[1]), true);
  const perRow = Math.max(1, Math.floor((WIDTH - MARGIN.left - MARGIN.right) / LEGEND_ITEM));
  const legendRows = Math.ceil(chart.series.length / perRow);
  const f: Frame = { x0: MARGIN.left, x1: WIDTH - MARGIN.right, y0: MARGIN.top + PLOT_HEIGHT, y1: MARGIN.top };
  const height = f.y0 + MARGIN.bottom + legendRows * LEGEND_ROW;
  const body = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12" role="img" aria-label="${esc(chart.title)}">`,
    `<title>${esc(chart.title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text class="title" x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(chart.title)}</text>`,
    ...gridAndTicks(xs, ys, f),
    `<rect x="${f.x0}" y="${f.y1}" width="${f.x1 - f.x0}" height="${f.y0 - f.y1}" fill="none" stroke="#333333"/>`,
    `<text class="label-x" x="${(f.x0 + f.x1) / 2}" y="${f.y0 + 36}" text-anchor="middle">${esc(axisTitle(chart.x))}${chart.x.log ? ' — log scale' : ''}</text>`,
    `<text class="label-y" transform="translate(16 ${(f.y0 + f.y1) / 2}) rotate(-90)" text-anchor="middle">${esc(axisTitle(chart.y))}${chart.y.log ? ' — log scale' : ''}</text>`,
    ...seriesMarkup(chart, xs, ys, f),
    ...legendMarkup(chart, f.y0 + MARGIN.bottom),
    '</svg>',
  ];
  return `${body.join('\n')}\n`;
}
