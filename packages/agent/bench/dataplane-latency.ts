/**
 * Benchmark 1 (issue 4): new-connection latency through the DNAT dataplane with 1, 1,000, 10,000
 * and 30,000 mappings — our nftables verdict map against an Antrea-style chain of one iptables rule
 * per mapping (iptables-nft and iptables-legacy), measured side by side in one run, in rounds that
 * alternate the dataplanes. The connection under test targets the mapping the iptables chain
 * reaches last (its worst case). Also reports how long loading each full ruleset took.
 *
 * Run as root: `node dist-bench/bench/dataplane-latency.js [--counts 1,1000] [--connects 1000] [--rounds 3]`.
 * Writes docs/benchmarks/results/agent.dataplane-latency.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BenchResult, Figure, RunFrame } from '@npl/benchkit';
import { beginRun, tableFromMarkdown, writeResult } from '@npl/benchkit';
import type { DnatMapping } from '@npl/core';
import { jumpRuleArgs, renderFullSync, renderRestorePayload, renderTeardown } from '@npl/core';
import type { PairTopology } from './netns.js';
import { allOutput, createPair, firstLine, inNs, median, percentile, spawnInNs } from './netns.js';

const POD_PORT = 8080;
const FIRST_NODE_PORT = 20000;
const CHAIN = 'NPL-BENCH';

const SERVER = `
import net from 'node:net';
const srv = net.createServer((s) => s.destroy());
srv.listen(${POD_PORT}, '0.0.0.0', () => console.log('ready'));
`;

/** Sequential connects; prints the connect latencies in microseconds as JSON. */
const CLIENT = `
import net from 'node:net';
const [host, port, count] = process.argv.slice(1); // with -e, arguments start at argv[1]
const out = [];
function once() {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const s = net.connect({ host, port: Number(port) });
    s.once('connect', () => { out.push(Number(process.hrtime.bigint() - t0) / 1000); s.destroy(); resolve(); });
    s.once('error', reject);
  });
}
for (let i = 0; i < 50; i++) await once();
out.length = 0;
for (let i = 0; i < Number(count); i++) await once();
console.log(JSON.stringify(out));
`;

type Plane = 'nft' | 'iptables-nft' | 'iptables-legacy';

function mappings(n: number, podIP: string): DnatMapping[] {
  return Array.from({ length: n }, (_, i) => ({ family: 'IPv4', protocol: 'tcp', nodePort: FIRST_NODE_PORT + i, podIP, podPort: POD_PORT }));
}

function load(topo: PairTopology, plane: Plane, ms: readonly DnatMapping[], dir: string): number {
  const t0 = performance.now();
  if (plane === 'nft') {
    const file = path.join(dir, 'batch.json');
    writeFileSync(file, JSON.stringify(renderFullSync('IPv4', ms)));
    inNs(topo.node, 'nft', ['-j', '-f', file]);
  } else {
    const bin = plane;
    inNs(topo.node, `${bin}-restore`, ['--noflush'], renderRestorePayload(ms, CHAIN));
    inNs(topo.node, bin, ['-t', 'nat', '-A', 'OUTPUT', ...jumpRuleArgs(CHAIN)]);
  }
  return performance.now() - t0;
}

function unload(topo: PairTopology, plane: Plane, dir: string): void {
  if (plane === 'nft') {
    const file = path.join(dir, 'teardown.json');
    writeFileSync(file, JSON.stringify(renderTeardown('IPv4')));
    inNs(topo.node, 'nft', ['-j', '-f', file]);
    return;
  }
  inNs(topo.node, plane, ['-t', 'nat', '-D', 'OUTPUT', ...jumpRuleArgs(CHAIN)]);
  inNs(topo.node, plane, ['-t', 'nat', '-F', CHAIN]);
  inNs(topo.node, plane, ['-t', 'nat', '-X', CHAIN]);
}

async function measure(topo: PairTopology, nodePort: number, connects: number): Promise<number[]> {
  const out = await allOutput(spawnInNs(topo.node, CLIENT, [topo.nodeIP, String(nodePort), String(connects)]));
  return JSON.parse(out) as number[];
}

export interface LatencyRow {
  readonly plane: Plane;
  readonly mappings: number;
  readonly p50us: number;
  readonly p99us: number;
  readonly loadMs: number;
  readonly samples: number;
  /** The p50 of each round's connections, in round order. */
  readonly roundP50us: readonly number[];
}

function planesAvailable(topo: PairTopology): Plane[] {
  const planes: Plane[] = ['nft'];
  for (const p of ['iptables-nft', 'iptables-legacy'] as const) {
    try {
      inNs(topo.node, p, ['-t', 'nat', '-L', 'OUTPUT', '-n']);
      planes.push(p);
    } catch {
      process.stderr.write(`skipping ${p}: not usable here\n`);
    }
  }
  return planes;
}

export async function runLatencyBench(counts: readonly number[], connects: number, rounds: number): Promise<LatencyRow[]> {
  const topo = createPair('npl-bench', 251);
  const dir = mkdtempSync(path.join(tmpdir(), 'npl-bench-'));
  const server = spawnInNs(topo.pod, SERVER);
  try {
    await firstLine(server);
    const planes = planesAvailable(topo);
    const rows: LatencyRow[] = [];
    for (const n of counts) {
      const ms = mappings(n, topo.podIP);
      const samples = new Map<Plane, { lat: number[]; load: number[]; rounds: number[] }>(planes.map((p) => [p, { lat: [], load: [], rounds: [] }]));
      for (let r = 0; r < rounds; r++) {
        for (const plane of planes) {
          const s = samples.get(plane)!;
          s.load.push(load(topo, plane, ms, dir));
          const lat = await measure(topo, FIRST_NODE_PORT + n - 1, connects);
          s.lat.push(...lat);
          s.rounds.push(median(lat));
          unload(topo, plane, dir);
        }
      }
      for (const [plane, s] of samples) {
        rows.push({ plane, mappings: n, p50us: median(s.lat), p99us: percentile(s.lat, 99), loadMs: median(s.load), samples: s.lat.length, roundP50us: s.rounds });
        process.stderr.write(`${plane} n=${n}: p50 ${median(s.lat).toFixed(1)} us, p99 ${percentile(s.lat, 99).toFixed(1)} us, load ${median(s.load).toFixed(1)} ms\n`);
      }
    }
    return rows;
  } finally {
    server.kill();
    topo.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function latencyTable(rows: readonly LatencyRow[]): string {
  const base = new Map(rows.filter((r) => r.mappings === Math.min(...rows.map((x) => x.mappings))).map((r) => [r.plane, r.p50us]));
  const lines = ['| dataplane | mappings | connect p50 (µs) | p99 (µs) | p50 vs same dataplane at fewest mappings | full load (ms) |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const ratio = r.p50us / (base.get(r.plane) ?? r.p50us);
    lines.push(`| ${r.plane} | ${r.mappings.toLocaleString('en-US')} | ${r.p50us.toFixed(1)} | ${r.p99us.toFixed(1)} | ${ratio.toFixed(2)}x | ${r.loadMs.toFixed(1)} |`);
  }
  return lines.join('\n');
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

function p50Figure(name: string, row: LatencyRow, baseline: LatencyRow | undefined, baselineName: string, goal?: Figure['goal']): Figure {
  const runs = row.roundP50us.map(round1);
  return {
    name,
    unit: 'µs',
    median: median(runs),
    runs,
    ...(goal ? { goal } : {}),
    ...(baseline ? { baseline: { name: baselineName, median: median(baseline.roundP50us.map(round1)), runs: baseline.roundP50us.map(round1) } } : {}),
  };
}

export interface LatencyParams {
  readonly counts: readonly number[];
  readonly connects: number;
  readonly rounds: number;
}

/** The result file's content: nft at the most mappings against nft at the fewest and against each iptables back end. */
export function latencyResult(frame: RunFrame, rows: readonly LatencyRow[], p: LatencyParams): BenchResult {
  const lo = Math.min(...p.counts);
  const hi = Math.max(...p.counts);
  const at = (plane: Plane, n: number): LatencyRow | undefined => rows.find((r) => r.plane === plane && r.mappings === n);
  const nftHi = at('nft', hi)!;
  const nftLo = at('nft', lo);
  const n = (x: number): string => x.toLocaleString('en-US');
  const figures: Figure[] = [
    p50Figure(`nft (ours), ${n(hi)} mappings vs ${n(lo)}`, nftHi, nftLo, `nft at ${n(lo)}`, nftLo ? { op: '<=', value: round1(1.1 * median(nftLo.roundP50us.map(round1))), text: `≤ 1.1 × nft at ${n(lo)}` } : undefined),
  ];
  for (const plane of ['iptables-nft', 'iptables-legacy'] as const) {
    const other = at(plane, hi);
    if (other) figures.push(p50Figure(`nft (ours) vs ${plane}, ${n(hi)} mappings`, nftHi, other, `${plane} at ${n(hi)}`));
  }
  const planes = [...new Set(rows.map((r) => r.plane))];
  const series = (f: (r: LatencyRow) => number) => planes.map((plane) => ({ name: plane === 'nft' ? 'nft (ours)' : plane, points: rows.filter((r) => r.plane === plane).map((r) => [r.mappings, round1(f(r))] as [number, number]) }));
  return {
    ...frame,
    id: 'agent.dataplane-latency',
    order: 20,
    section: 'npl-agent',
    title: 'New-connection latency through the dataplane',
    command: `node packages/agent/dist-bench/bench/dataplane-latency.js --counts ${p.counts.join(',')} --connects ${p.connects} --rounds ${p.rounds}`,
    description: [
      '`packages/agent/bench/dataplane-latency.ts`: two network namespaces joined by a veth; a TCP server in the "pod"; the client',
      'in the "node" connects to its own node IP and node port, so every new connection traverses the nat OUTPUT hook and is',
      `DNATed. For each mapping count (${p.counts.map(n).join(', ')}), ${p.rounds} rounds alternate the dataplanes (only one loaded at a`,
      `time), ${n(p.connects)} sequential connects per round; the target is the mapping the iptables chain reaches last (its worst case).`,
      'Ours is the nftables shape of [ADR 0002](adr/0002-nftables-dataplane.md); "iptables" is Antrea\'s shape, one',
      '`-p tcp --dport N -j DNAT` rule per mapping in one chain. Figures: the median of the rounds\' p50s; the table\'s p50 and p99',
      'are over all connections of all rounds pooled; "full load" is the time to load the whole ruleset (median of the rounds).',
    ].join('\n'),
    figures,
    tables: [tableFromMarkdown(latencyTable(rows))],
    charts: [
      { id: 'agent-dataplane-latency', title: 'New-connection latency (p50) against mappings', x: { label: 'mappings', log: true }, y: { label: 'connect p50', unit: 'µs' }, series: series((r) => r.p50us) },
      { id: 'agent-dataplane-load', title: 'Time to load the whole ruleset against mappings', x: { label: 'mappings', log: true }, y: { label: 'full load', unit: 'ms' }, series: series((r) => r.loadMs) },
    ],
  };
}

async function main(): Promise<void> {
  const run = beginRun();
  const { values } = parseArgs({
    options: { counts: { type: 'string', default: '1,1000,10000,30000' }, connects: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '3' } },
  });
  if (process.getuid?.() !== 0) throw new Error('dataplane-latency needs root (network namespaces, nft, iptables)');
  const params: LatencyParams = { counts: values.counts.split(',').map(Number), connects: Number(values.connects), rounds: Number(values.rounds) };
  const rows = await runLatencyBench(params.counts, params.connects, params.rounds);
  process.stdout.write(`${latencyTable(rows)}\n\n${JSON.stringify(rows)}\n`);
  writeResult(latencyResult(run.finish(), rows, params));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
