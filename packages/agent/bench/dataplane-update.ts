/**
 * Benchmark 2 (issue 4): adding then removing one mapping with 10,000 present, through the agent's
 * own code path (PortTable → socket reservation → dataplane), for the nftables dataplane and the
 * Antrea-style iptables one (nft and legacy back ends), side by side in one run. The measuring
 * process runs inside a throwaway network namespace, as the agent runs inside its node's.
 *
 * Run as root: `node dist-bench/bench/dataplane-update.js [--present 10000] [--ops 50]`.
 * Writes docs/benchmarks/results/agent.dataplane-update.json.
 */
import { parseArgs } from 'node:util';
import type { BenchResult, Figure, RunFrame } from '@npl/benchkit';
import { beginRun, tableFromMarkdown, writeResult } from '@npl/benchkit';
import type { DnatMapping } from '@npl/core';
import { PortTable } from '@npl/core';
import { createLogger } from '@npl/runtime';
import { createDataplane } from '../src/dataplane/index.js';
import { SocketPortReserver } from '../src/ports/socket-reserver.js';
import { createPair, median, sh } from './netns.js';

type Plane = 'nft' | 'iptables-nft' | 'iptables-legacy';
const PLANES: readonly Plane[] = ['nft', 'iptables-nft', 'iptables-legacy'];

export interface UpdateRow {
  readonly plane: Plane;
  readonly present: number;
  readonly addMs: number;
  readonly deleteMs: number;
  readonly addDeleteMs: number;
  readonly fullSyncMs: number;
  readonly ops: number;
  /** Every add+delete cycle's time, in order. */
  readonly addDeleteRunsMs: readonly number[];
}

function dataplaneFor(plane: Plane) {
  const logger = createLogger({ name: 'bench', level: 'silent' });
  if (plane === 'nft') return createDataplane({ kind: 'nftables', family: 'IPv4', logger });
  return createDataplane({ kind: 'iptables', family: 'IPv4', chain: 'NPL-BENCH', iptablesBackend: plane === 'iptables-nft' ? 'nft' : 'legacy', logger });
}

/** Runs inside the namespace: load `present` mappings, then time `ops` add+delete cycles. */
async function inner(plane: Plane, present: number, ops: number): Promise<UpdateRow> {
  const dp = dataplaneFor(plane);
  await dp.init();
  const preload: DnatMapping[] = Array.from({ length: present }, (_, i) => ({
    family: 'IPv4',
    protocol: 'tcp',
    nodePort: 20_000 + i,
    podIP: `198.18.252.${2 + (i % 250)}`,
    podPort: 8080,
  }));
  const t0 = performance.now();
  await dp.replaceAll(preload);
  const fullSyncMs = performance.now() - t0;
  const table = new PortTable({ family: 'IPv4', range: { start: 61_000, end: 62_000 }, reserver: new SocketPortReserver(), rules: dp });
  const add: number[] = [];
  const del: number[] = [];
  for (let i = 0; i < ops; i++) {
    const a = performance.now();
    await table.addRule('bench/pod', '198.18.252.200', 8080, 'tcp');
    const b = performance.now();
    await table.deleteRule('bench/pod', 8080, 'tcp');
    const c = performance.now();
    add.push(b - a);
    del.push(c - b);
  }
  await dp.teardown();
  dp.close();
  return { plane, present, addMs: median(add), deleteMs: median(del), addDeleteMs: median(add.map((x, i) => x + del[i]!)), fullSyncMs, ops, addDeleteRunsMs: add.map((x, i) => Math.round((x + del[i]!) * 1000) / 1000) };
}


export function updateTable(rows: readonly UpdateRow[]): string {
  const lines = [
    '| dataplane | mappings present | add median (ms) | delete median (ms) | add+delete median (ms) | full sync of all (ms) |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.plane} | ${r.present.toLocaleString('en-US')} | ${r.addMs.toFixed(1)} | ${r.deleteMs.toFixed(1)} | ${r.addDeleteMs.toFixed(1)} | ${r.fullSyncMs.toFixed(0)} |`);
  }
  return lines.join('\n');
}

export function runUpdateBench(present: number, ops: number): UpdateRow[] {
  const rows: UpdateRow[] = [];
  for (const plane of PLANES) {
    const topo = createPair('npl-bench2', 253);
    try {
      const out = sh('ip', ['netns', 'exec', topo.node, process.execPath, new URL(import.meta.url).pathname, '--inner', plane, '--present', String(present), '--ops', String(ops)]);
      const row = JSON.parse(out.trim().split('\n').pop()!) as UpdateRow;
      process.stderr.write(`${plane}: add ${row.addMs.toFixed(1)} ms, delete ${row.deleteMs.toFixed(1)} ms, full sync ${row.fullSyncMs.toFixed(0)} ms\n`);
      rows.push(row);
    } finally {
      topo.destroy();
    }
  }
  return rows;
}

/** The result file's content: nft's add+delete against each iptables back end, goal under 10 ms. */
export function updateResult(frame: RunFrame, rows: readonly UpdateRow[], present: number, ops: number): BenchResult {
  const nft = rows.find((r) => r.plane === 'nft')!;
  const n = present.toLocaleString('en-US');
  const figures: Figure[] = rows
    .filter((r) => r.plane !== 'nft')
    .map((r) => ({
      name: `nft (ours) add+delete vs ${r.plane}, ${n} present`,
      unit: 'ms',
      median: median(nft.addDeleteRunsMs),
      runs: nft.addDeleteRunsMs,
      goal: { op: '<', value: 10 },
      baseline: { name: r.plane === 'iptables-nft' ? 'iptables-nft (Antrea\'s path)' : r.plane, median: median(r.addDeleteRunsMs), runs: r.addDeleteRunsMs },
    }));
  if (figures.length === 0) figures.push({ name: `nft (ours) add+delete, ${n} present`, unit: 'ms', median: median(nft.addDeleteRunsMs), runs: nft.addDeleteRunsMs, goal: { op: '<', value: 10 } });
  const ipt = rows.find((r) => r.plane === 'iptables-nft');
  figures.push({ name: `full sync of ${n}`, unit: 'ms', median: Math.round(nft.fullSyncMs), runs: [Math.round(nft.fullSyncMs)], ...(ipt ? { baseline: { name: 'iptables-nft', median: Math.round(ipt.fullSyncMs) } } : {}) });
  return {
    ...frame,
    id: 'agent.dataplane-update',
    order: 21,
    section: 'npl-agent',
    title: `Adding then removing one mapping with ${n} present`,
    command: `node packages/agent/dist-bench/bench/dataplane-update.js --present ${present} --ops ${ops}`,
    description: [
      '`packages/agent/bench/dataplane-update.ts`: inside a network namespace (as the agent runs inside its node\'s), load',
      `${n} mappings, then ${ops} × (\`PortTable.addRule\` + \`deleteRule\`), the agent's own path: socket reservation, dataplane`,
      'batch, release. nft and both iptables back ends side by side, one after the other in the same run.',
    ].join('\n'),
    figures,
    tables: [tableFromMarkdown(updateTable(rows))],
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { inner: { type: 'string' }, present: { type: 'string', default: '10000' }, ops: { type: 'string', default: '50' } },
  });
  if (values.inner) {
    const row = await inner(values.inner as Plane, Number(values.present), Number(values.ops));
    process.stdout.write(`${JSON.stringify(row)}\n`);
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('dataplane-update needs root (network namespaces, nft, iptables)');
  const run = beginRun();
  const rows = runUpdateBench(Number(values.present), Number(values.ops));
  process.stdout.write(`${updateTable(rows)}\n\n${JSON.stringify(rows)}\n`);
  writeResult(updateResult(run.finish(), rows, Number(values.present), Number(values.ops)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
