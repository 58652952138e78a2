/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms with
 * labels. Enough for an agent and a controller; no dependency.
 */

export type Labels = Readonly<Record<string, string>>;

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  render(): string[];
}

/** `{a="1",b="2"}` with the names sorted ('' for no labels): the series key and its rendered form. */
function labelText(labels: Labels, extra?: Labels): string {
  const all = extra ? { ...labels, ...extra } : labels;
  const keys = Object.keys(all);
  if (keys.length === 0) return '';
  if (keys.length > 1) keys.sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    out += `${i ? ',' : ''}${k}="${escapeLabel(all[k] ?? '')}"`;
  }
  return `${out}}`;
}

function escapeLabel(v: string): string {
  if (!/[\\\n"]/.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

abstract class LabelledMetric<V> implements Metric {
  protected readonly series = new Map<string, { labels: Labels; value: V }>();
  abstract readonly type: 'counter' | 'gauge' | 'histogram';

  readonly name: string;
  readonly help: string;

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
    if (!NAME.test(name)) throw new Error(`metric name ${JSON.stringify(name)} is not a valid Prometheus name`);
  }

  protected entry(labels: Labels, init: () => V): { labels: Labels; value: V } {
    const key = labelText(labels);
    let e = this.series.get(key);
    if (!e) {
      e = { labels: { ...labels }, value: init() };
      this.series.set(key, e);
    }
    return e;
  }

  abstract render(): string[];
}

export class Counter extends LabelledMetric<number> {
  readonly type = 'counter';

  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error(`counter ${this.name} cannot decrease`);
    this.entry(labels, () => 0).value += by;
  }

  get(labels: Labels = {}): number {
    return this.series.get(labelText(labels))?.value ?? 0;
  }

  render(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${labelText(s.labels)} ${formatValue(s.value)}`);
  }
}

export class Gauge extends LabelledMetric<number> {
  readonly type = 'gauge';

  set(value: number, labels: Labels = {}): void {
    this.entry(labels, () => 0).value = value;
  }

  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => 0).value += by;
  }

  get(labels: Labels = {}): number {
    return this.series.get(labelText(labels))?.value ?? 0;
  }

  /** Drop every series (before re-setting a gauge family from a full recount). */
  reset(): void {
    this.series.clear();
  }

  render(): string[] {
    return [...this.series.values()].map((s) => `${this.name}${labelText(s.labels)} ${formatValue(s.value)}`);
  }
}

interface HistogramValue {
  /** Observations per bucket, NOT cumulative (counts[i]: in (buckets[i-1], buckets[i]]); made cumulative by `render`. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends LabelledMetric<HistogramValue> {
  readonly type = 'histogram';

  private readonly buckets: readonly number[];

  constructor(name: string, help: string, buckets: readonly number[]) {
    super(name, help);
    this.buckets = buckets;
    if (buckets.some((b, i) => i > 0 && b <= (buckets[i - 1] ?? -Infinity))) {
      throw new Error(`histogram ${name} buckets must increase`);
    }
  }

  observe(value: number, labels: Labels = {}): void {
    const e = this.entry(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    const v = e.value;
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && value > buckets[i]!) i++;
    if (i < buckets.length) v.counts[i]!++;
    v.sum += value;
    v.count++;
  }

  count(labels: Labels = {}): number {
    return this.series.get(labelText(labels))?.value.count ?? 0;
  }

  render(): string[] {
    const lines: string[] = [];
    for (const { labels, value } of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += value.counts[i] ?? 0;
        lines.push(`${this.name}_bucket${labelText(labels, { le: formatValue(b) })} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket${labelText(labels, { le: '+Inf' })} ${value.count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${formatValue(value.sum)}`);
      lines.push(`${this.name}_count${labelText(labels)} ${value.count}`);
    }
    return lines;
  }
}

/** Seconds buckets from 1 ms to 60 s, for reconcile and API-call durations. */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class Registry {
  private readonly metrics = new Map<string, Metric>();
  private readonly collectors: (() => void)[] = [];

  /**
   * `fn` runs at every `render`, before the text is made: set gauges that are derived from state
   * here (e.g. counts of a table) instead of after every change. A collector that throws is skipped.
   */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  counter(name: string, help: string): Counter {
    return this.register(new Counter(name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.register(new Gauge(name, help));
  }

  histogram(name: string, help: string, buckets: readonly number[] = DURATION_BUCKETS): Histogram {
    return this.register(new Histogram(name, help, buckets));
  }

  /** The exposition text, metrics in registration order. */
  render(): string {
    for (const collect of this.collectors) {
      try {
        collect();
      } catch {
        // A broken collector leaves its gauges at their last value; the rest still render.
      }
    }
    const out: string[] = [];
    for (const m of this.metrics.values()) {
      out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${m.name} ${m.type}`, ...m.render());
    }
    return out.join('\n') + '\n';
  }

  private register<M extends Metric>(m: M): M {
    if (this.metrics.has(m.name)) throw new Error(`metric ${m.name} is registered twice`);
    this.metrics.set(m.name, m);
    return m;
  }
}
