/**
 * Benchmark 1 (issue 9): cold sync of 1,000 Services x 10 pods into an empty BIG-IP emulator
 * (in-process, HTTPS, real clock) for each backend: time of one `Backend.sync` from an empty
 * partition to every pool and member present, and the number of requests it used (login included).
 * The objects are built in memory and go through the controller's own desired-state code
 * (`desiredState`), as the informers' snapshot would. A second sync (nothing changed) is timed too.
 *
 * `node dist-bench/bench/cold-sync.js [--services 1000] [--pods 10] [--runs 3]`
 * Writes docs/benchmarks/results/controller.cold-sync.json.
 */
import { parseArgs } from 'node:util';
import type { BenchResult, Figure, RunFrame } from '@npl/benchkit';
import { beginRun, tableFromMarkdown, writeResult } from '@npl/benchkit';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { startEmulator } from '@npl/bigip-emulator';
import { As3Backend } from '../src/as3/backend.js';
import type { Backend } from '../src/backend/types.js';
import { BigipClient } from '../src/bigip/client.js';
import { desiredState } from '../src/desired.js';
import { IcontrolBackend } from '../src/icontrol/backend.js';
import type { DesiredState } from '../src/model.js';
import { fmt, log, median } from './util.js';

export interface ColdSyncResult {
  readonly backend: string;
  readonly services: number;
  readonly members: number;
  readonly timesMs: number[];
  readonly requests: number[];
  readonly resyncMs: number[];
  readonly resyncRequests: number[];
}

/** `services` Services in namespace `bench`, each selecting its own `pods` pods with one NPL entry each. */
export function coldState(services: number, pods: number): DesiredState {
  const svcs: V1Service[] = [];
  const podList: V1Pod[] = [];
  for (let s = 0; s < services; s++) {
    const app = `app-${s}`;
    svcs.push({
      metadata: { name: app, namespace: 'bench', uid: `uid-${s}`, annotations: { 'nodeportlocal.antrea.io/enabled': 'true' } },
      spec: { type: 'ClusterIP', selector: { app }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
    });
    for (let p = 0; p < pods; p++) {
      const n = s * pods + p;
      const nodeIP = `198.18.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
      const annotation = JSON.stringify([{ podPort: 8080, nodeIP, nodePort: 61000 + (n % 1000), protocol: 'tcp', ipFamily: 'IPv4' }]);
      podList.push({ metadata: { name: `${app}-${p}`, namespace: 'bench', labels: { app }, annotations: { 'nodeportlocal.antrea.io': annotation } }, spec: { containers: [{ name: 'c' }] } });
    }
  }
  return desiredState({ services: svcs, pods: podList, endpointSlices: [] }, { partition: 'k8s' });
}

async function once(kind: 'icontrol' | 'as3', desired: DesiredState): Promise<{ ms: number; requests: number; resyncMs: number; resyncRequests: number }> {
  const emu = await startEmulator({ partitions: ['k8s'], traffic: false });
  const client = new BigipClient({ url: emu.url, ca: emu.ca ?? '', credentials: () => ({ username: 'admin', password: 'admin' }) });
  const backend: Backend = kind === 'as3' ? new As3Backend({ client, partition: 'k8s' }) : new IcontrolBackend({ client, partition: 'k8s' });
  try {
    const t0 = performance.now();
    await backend.sync(desired);
    const ms = performance.now() - t0;
    const requests = emu.requestLog.count();
    const members = emu.state.dump().split('\n').filter((l) => l.startsWith('  member ')).length;
    const want = desired.pools.reduce((n, p) => n + p.members.length, 0);
    if (members !== want) throw new Error(`${kind}: ${members} members on the emulator, ${want} wanted`);
    emu.requestLog.clear();
    const t1 = performance.now();
    const report = await backend.sync(desired);
    const resyncMs = performance.now() - t1;
    if (report.writes !== 0) throw new Error(`${kind}: an unchanged resync wrote ${report.writes} times`);
    return { ms, requests, resyncMs, resyncRequests: emu.requestLog.count() };
  } finally {
    await client.close();
    await emu.close();
  }
}

export async function runColdSync(services: number, pods: number, runs: number): Promise<ColdSyncResult[]> {
  const desired = coldState(services, pods);
  const members = desired.pools.reduce((n, p) => n + p.members.length, 0);
  const results: ColdSyncResult[] = [];
  for (const kind of ['icontrol', 'as3'] as const) {
    const r: ColdSyncResult = { backend: kind, services, members, timesMs: [], requests: [], resyncMs: [], resyncRequests: [] };
    for (let i = 0; i < runs; i++) {
      const o = await once(kind, desired);
      log(`cold sync ${kind} run ${i + 1}: ${fmt(o.ms)}, ${o.requests} requests; unchanged resync ${fmt(o.resyncMs)}, ${o.resyncRequests} requests`);
      r.timesMs.push(o.ms);
      r.requests.push(o.requests);
      r.resyncMs.push(o.resyncMs);
      r.resyncRequests.push(o.resyncRequests);
    }
    results.push(r);
  }
  return results;
}

export function coldSyncTable(results: readonly ColdSyncResult[]): string {
  const rows = results.map((r) =>
    `| ${r.backend} | ${r.services} / ${r.members} | **${fmt(median(r.timesMs))}** | ${r.timesMs.map(fmt).join(' / ')} | ${median(r.requests)} | ${fmt(median(r.resyncMs))}, ${median(r.resyncRequests)} requests | < 30 s ${median(r.timesMs) < 30_000 ? '✔' : '✘'} |`);
  return ['| backend | Services / members | cold sync, median | runs | requests | unchanged resync | goal |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}

const secs = (ms: number): number => Math.round(ms) / 1000;

/** The result file's content: cold sync per backend (goal under 30 s) and the unchanged resync. */
export function coldSyncResult(frame: RunFrame, results: readonly ColdSyncResult[], pods: number): BenchResult {
  const first = results[0]!;
  const figures: Figure[] = [];
  for (const r of results) {
    figures.push({ name: `${r.backend}: cold sync`, unit: 's', median: median(r.timesMs.map(secs)), runs: r.timesMs.map(secs), goal: { op: '<', value: 30 } });
    figures.push({ name: `${r.backend}: requests of the cold sync`, unit: 'count', median: median(r.requests), runs: r.requests });
    figures.push({ name: `${r.backend}: unchanged resync`, unit: 'ms', median: Math.round(median(r.resyncMs)), runs: r.resyncMs.map(Math.round) });
  }
  const n = (x: number): string => x.toLocaleString('en-US');
  return {
    ...frame,
    id: 'controller.cold-sync',
    order: 30,
    section: 'npl-controller',
    title: `Cold sync: ${n(first.services)} Services × ${pods} pods`,
    command: `node packages/controller/dist-bench/bench/cold-sync.js --services ${first.services} --pods ${pods} --runs ${first.timesMs.length}`,
    description: [
      `\`packages/controller/bench/cold-sync.ts\`: ${n(first.services)} Services (one port each) selecting ${pods} pods each, built in memory and turned`,
      'into the desired state by the controller\'s own `desiredState` (as the informers\' snapshot is); one `Backend.sync` into an',
      `empty partition of the in-process BIG-IP emulator (HTTPS, TLS verified), timed from the call to its return; every one of the`,
      `${n(first.members)} members is then checked on the emulator. Worst case for nodes: every pod has its own node IP. Then a second`,
      `sync with nothing changed. ${first.timesMs.length} runs per backend, a fresh emulator each. Requests include the login.`,
    ].join('\n'),
    figures,
    tables: [tableFromMarkdown(coldSyncTable(results))],
  };
}

async function main(): Promise<void> {
  const run = beginRun();
  const { values } = parseArgs({ options: { services: { type: 'string', default: '1000' }, pods: { type: 'string', default: '10' }, runs: { type: 'string', default: '3' } } });
  const results = await runColdSync(Number(values.services), Number(values.pods), Number(values.runs));
  process.stdout.write(`${coldSyncTable(results)}\n${JSON.stringify(results)}\n`);
  writeResult(coldSyncResult(run.finish(), results, Number(values.pods)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
