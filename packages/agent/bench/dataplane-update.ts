/**
 * Benchmark 2 (issue 4): adding then removing one mapping with 10,000 present, through the agent's
 * own code path (PortTable → socket reservation → dataplane), for the nftables dataplane and the
 * Antrea-style iptables one (nft and legacy back ends), side by side in one run. The measuring
 * process runs inside a throwaway network namespace, as the agent runs inside its node's.
 *
 * Run as root: `node dist-bench/bench/dataplane-update.js [--present 10000] [--ops 50]`.
 */
import { parseArgs } from 'node:util';
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
  return { plane, present, addMs: median(add), deleteMs: median(del), addDeleteMs: median(add.map((x, i) => x + del[i]!)), fullSyncMs, ops };
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
  const rows = runUpdateBench(Number(values.present), Number(values.ops));
  process.stdout.write(`${updateTable(rows)}\n\n${JSON.stringify(rows)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
