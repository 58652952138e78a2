/**
 * ADR 0007's measurements: @npl/runtime's own Prometheus registry against prom-client (a
 * devDependency of this package for this script only; never shipped).
 *
 * - import: a fresh `node` process imports the library, registers the default process metrics and
 *   renders once; its wall time and the growth of RSS and heap are recorded (median of --imports).
 * - render: the agent's real metric families (names, types, labels and buckets of
 *   packages/agent/src/metrics.ts) with a `shard` label added until the exposition has about 1,000
 *   and 10,000 sample lines; time of one full render (median of --renders after a warm-up).
 * - observe / inc: ns per histogram observation and counter increment, unlabelled and with two labels.
 *
 * Run: `pnpm --filter @npl/runtime bench` (= tsc -p tsconfig.bench.json && node dist-bench/bench/metrics.bench.js).
 * Writes docs/benchmarks/results/runtime.metrics.json (per docs/benchmarks contract) unless --no-write.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchResult } from '@npl/benchkit';
import { beginRun, median, validateResult, writeResult } from '@npl/benchkit';
import * as prom from 'prom-client';
import { DURATION_BUCKETS, Registry } from '../src/metrics.js';

type Labels = Record<string, string>;

/** The operations the comparison needs from either library. */
interface Lib {
  counter(name: string, labelNames: readonly string[]): (labels: Labels, by: number) => void;
  gauge(name: string, labelNames: readonly string[]): (labels: Labels, v: number) => void;
  histogram(name: string, labelNames: readonly string[]): (labels: Labels, v: number) => void;
  render(): Promise<string>;
}

function ours(): Lib {
  const r = new Registry();
  return {
    counter: (name) => {
      const c = r.counter(name, 'help');
      return (labels, by) => c.inc(labels, by);
    },
    gauge: (name) => {
      const g = r.gauge(name, 'help');
      return (labels, v) => g.set(v, labels);
    },
    histogram: (name) => {
      const h = r.histogram(name, 'help', DURATION_BUCKETS);
      return (labels, v) => h.observe(v, labels);
    },
    render: () => Promise.resolve(r.render()),
  };
}

function promClient(): Lib {
  const r = new prom.Registry();
  return {
    counter: (name, labelNames) => {
      const c = new prom.Counter({ name, help: 'help', labelNames: [...labelNames], registers: [r] });
      return (labels, by) => c.inc(labels, by);
    },
    gauge: (name, labelNames) => {
      const g = new prom.Gauge({ name, help: 'help', labelNames: [...labelNames], registers: [r] });
      return (labels, v) => g.set(labels, v);
    },
    histogram: (name, labelNames) => {
      const h = new prom.Histogram({ name, help: 'help', labelNames: [...labelNames], buckets: DURATION_BUCKETS, registers: [r] });
      return (labels, v) => h.observe(labels, v);
    },
    render: () => r.metrics(),
  };
}

/** The agent's metric families (packages/agent/src/metrics.ts) and the label values they take. */
const AGENT_FAMILIES: readonly { name: string; type: 'counter' | 'gauge' | 'histogram'; labels: Labels[] }[] = (() => {
  const fp = ['IPv4', 'IPv6'].flatMap((family) => ['tcp', 'udp'].map((protocol) => ({ family, protocol })));
  return [
    { name: 'npl_agent_mappings', type: 'gauge', labels: fp },
    { name: 'npl_agent_ports_free', type: 'gauge', labels: fp },
    { name: 'npl_agent_mappings_added_total', type: 'counter', labels: fp },
    { name: 'npl_agent_mappings_deleted_total', type: 'counter', labels: fp },
    { name: 'npl_agent_pod_reconciles_total', type: 'counter', labels: [{ result: 'success' }, { result: 'error' }] },
    { name: 'npl_agent_pod_reconcile_duration_seconds', type: 'histogram', labels: [{}] },
    { name: 'npl_agent_annotation_patches_total', type: 'counter', labels: [{ op: 'set' }, { op: 'remove' }] },
    { name: 'npl_agent_port_allocation_failures_total', type: 'counter', labels: [{ family: 'IPv4' }, { family: 'IPv6' }] },
    { name: 'npl_agent_dataplane_repairs_total', type: 'counter', labels: [{ family: 'IPv4' }, { family: 'IPv6' }] },
    { name: 'npl_agent_dataplane_errors_total', type: 'counter', labels: [{}] },
    { name: 'npl_agent_workqueue_depth', type: 'gauge', labels: [{}] },
    { name: 'npl_agent_ready', type: 'gauge', labels: [{}] },
  ];
})();

/** Sample lines one shard of the agent's families renders (a histogram series is buckets + +Inf + sum + count). */
const LINES_PER_SHARD = AGENT_FAMILIES.reduce((n, f) => n + f.labels.length * (f.type === 'histogram' ? DURATION_BUCKETS.length + 3 : 1), 0);

/** Fills `lib` with the agent's families × `shards` values of a `shard` label, every series touched. */
function fill(lib: Lib, shards: number): void {
  for (const f of AGENT_FAMILIES) {
    const labelNames = [...new Set(f.labels.flatMap((l) => Object.keys(l))), 'shard'];
    const op = lib[f.type](f.name, labelNames);
    for (let s = 0; s < shards; s++) {
      for (const l of f.labels) {
        const labels = { ...l, shard: `s${s}` };
        if (f.type === 'histogram') for (let i = 0; i < 20; i++) op(labels, (i % 7) * 0.013);
        else op(labels, s + 1);
      }
    }
  }
}

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

async function renderMs(make: () => Lib, targetLines: number, renders: number): Promise<{ lines: number; runs: number[] }> {
  const lib = make();
  fill(lib, Math.ceil(targetLines / LINES_PER_SHARD));
  const text = await lib.render();
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  for (let i = 0; i < 5; i++) await lib.render(); // warm-up
  const runs: number[] = [];
  for (let i = 0; i < renders; i++) {
    const t0 = performance.now();
    await lib.render();
    runs.push(round(performance.now() - t0));
  }
  return { lines, runs };
}

/** ns per call of `op`, median of 5 batches of `n` after a warm-up batch. */
function nsPerOp(op: (i: number) => void, n: number): number[] {
  for (let i = 0; i < n; i++) op(i);
  const runs: number[] = [];
  for (let b = 0; b < 5; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) op(i);
    runs.push(round(Number(process.hrtime.bigint() - t0) / n, 1));
  }
  return runs;
}

function opCosts(make: () => Lib, n: number): Record<string, number[]> {
  const lib = make();
  const h0 = lib.histogram('bench_plain_seconds', []);
  const h2 = lib.histogram('bench_labelled_seconds', ['family', 'protocol']);
  const c2 = lib.counter('bench_labelled_total', ['family', 'protocol']);
  const labels = { family: 'IPv4', protocol: 'tcp' };
  return {
    'histogram observe, no labels': nsPerOp((i) => h0({}, (i & 1023) / 1000), n),
    'histogram observe, 2 labels': nsPerOp((i) => h2(labels, (i & 1023) / 1000), n),
    'counter inc, 2 labels': nsPerOp(() => c2(labels, 1), n),
  };
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));
/** packages/runtime (this file runs from dist-bench/bench/). */
const packageDir = path.resolve(benchDir, '..', '..');

/**
 * One fresh process: import the library, register the default process metrics, render once.
 * Prints {ms, rssKiB, heapKiB}: wall time of all that, and growth of RSS and V8 heap (after a GC).
 */
const IMPORT_SCRIPT = `
const which = process.argv[1];
globalThis.gc?.();
const m0 = process.memoryUsage();
const t0 = performance.now();
let text;
if (which === 'prom-client') {
  const prom = await import('prom-client');
  const r = new prom.Registry();
  prom.collectDefaultMetrics({ register: r });
  text = await r.metrics();
} else {
  const { Registry } = await import(process.argv[2]);
  const { registerProcessMetrics } = await import(process.argv[3]);
  const r = new Registry();
  registerProcessMetrics(r);
  text = r.render();
}
const ms = performance.now() - t0;
globalThis.gc?.();
const m1 = process.memoryUsage();
console.log(JSON.stringify({ ms, rssKiB: (m1.rss - m0.rss) / 1024, heapKiB: (m1.heapUsed - m0.heapUsed) / 1024, lines: text.split('\\n').length }));
process.exit(0);
`;

function importCost(which: 'ours' | 'prom-client', n: number): { ms: number[]; rssKiB: number[]; heapKiB: number[]; lines: number } {
  const out = { ms: [] as number[], rssKiB: [] as number[], heapKiB: [] as number[], lines: 0 };
  const metricsJs = path.join(packageDir, 'dist-bench', 'src', 'metrics.js');
  const processJs = path.join(packageDir, 'dist-bench', 'src', 'process-metrics.js');
  for (let i = 0; i < n; i++) {
    const json = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', IMPORT_SCRIPT, which, metricsJs, processJs], { cwd: packageDir, encoding: 'utf8' });
    const r = JSON.parse(json.trim()) as { ms: number; rssKiB: number; heapKiB: number; lines: number };
    out.ms.push(round(r.ms, 2));
    out.rssKiB.push(Math.round(r.rssKiB));
    out.heapKiB.push(Math.round(r.heapKiB));
    out.lines = r.lines;
  }
  return out;
}

const fig = (name: string, unit: string, o: number[], p: number[]) => ({
  name,
  unit,
  median: round(median(o)),
  runs: o,
  baseline: { name: 'prom-client 15.1.3', median: round(median(p)), runs: p },
  ratio: round(median(o) / median(p), 2),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      imports: { type: 'string', default: '7' },
      renders: { type: 'string', default: '30' },
      ops: { type: 'string', default: '200000' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const run = beginRun();
  const imp = { ours: importCost('ours', Number(values.imports)), prom: importCost('prom-client', Number(values.imports)) };
  const render: Record<string, { ours: { lines: number; runs: number[] }; prom: { lines: number; runs: number[] } }> = {};
  for (const target of [1_000, 10_000]) {
    render[target] = { ours: await renderMs(ours, target, Number(values.renders)), prom: await renderMs(promClient, target, Number(values.renders)) };
  }
  const ops = { ours: opCosts(ours, Number(values.ops)), prom: opCosts(promClient, Number(values.ops)) };

  const figures = [
    fig('import + default metrics + first render', 'ms', imp.ours.ms, imp.prom.ms),
    fig('RSS growth of that', 'KiB', imp.ours.rssKiB, imp.prom.rssKiB),
    fig('heap growth of that', 'KiB', imp.ours.heapKiB, imp.prom.heapKiB),
    ...[1_000, 10_000].map((t) => fig(`render, agent metric set at ~${t.toLocaleString('en')} series`, 'ms', render[t]!.ours.runs, render[t]!.prom.runs)),
    ...Object.keys(ops.ours).map((k) => fig(k, 'ns', ops.ours[k]!, ops.prom[k]!)),
  ];
  const result: BenchResult = {
    ...run.finish(),
    id: 'runtime.metrics',
    title: "@npl/runtime's Prometheus registry against prom-client (ADR 0007)",
    order: 150,
    section: '@npl/runtime',
    command: 'pnpm --filter @npl/runtime bench',
    description: [
      `Import: ${values.imports} fresh \`node\` processes per library each import it, register the default process metrics (ours: \`registerProcessMetrics\`, ${imp.ours.lines} lines; prom-client: \`collectDefaultMetrics\`, ${imp.prom.lines} lines) and render once; wall time and the growth of RSS and V8 heap (after a GC).`,
      `Render: the agent's metric families (names, types, label sets, 14 duration buckets, as in packages/agent/src/metrics.ts; ${LINES_PER_SHARD} sample lines) repeated over a \`shard\` label until the exposition has ${render[1_000]!.ours.lines} and ${render[10_000]!.ours.lines} sample lines; one full render, ${values.renders} times after a warm-up (prom-client: the awaited \`registry.metrics()\`).`,
      `Observe/inc: ns per call, 5 batches of ${values.ops} after a warm-up batch.`,
    ].join('\n\n'),
    figures,
  };
  const table = ['| measure | ours (median) | prom-client (median) | ratio |', '|---|---|---|---|', ...figures.map((f) => `| ${f.name} (${f.unit}) | ${f.median} | ${f.baseline.median} | ${f.ratio} |`)].join('\n');
  process.stdout.write(`${table}\n`);
  if (values['no-write']) validateResult(result, `${result.id} (--no-write: validated, not written)`);
  else writeResult(result);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
