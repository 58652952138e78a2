/**
 * Benchmark 3 (issue 9): 60 s during which the BIG-IP answers 503 to everything (emulator fault
 * `unavailable: {fraction: 1}`), while the cluster changes every 100 ms (a trigger each time). Counts
 * the requests sent during those 60 s (goal: the engine's backoff, not a storm) and the time from the
 * end of the outage to the partition matching the desired state. Fake time (the engine's backoff
 * runs on a FakeClock moved in 100 ms steps) with real HTTPS to the in-process emulator, so one run
 * takes a few seconds; jitter uses Math.random, hence repeated runs.
 *
 * `node dist-bench/bench/storm.js [--runs 10] [--storm-s 60]`
 * Writes docs/benchmarks/results/controller.storm.json.
 */
import { parseArgs } from 'node:util';
import type { BenchResult, Figure, RunFrame } from '@npl/benchkit';
import { beginRun, ecdf, tableFromMarkdown, writeResult } from '@npl/benchkit';
import { As3Backend } from '../src/as3/backend.js';
import type { Backend } from '../src/backend/types.js';
import { SyncEngine, SYNC_BACKOFF } from '../src/engine.js';
import { IcontrolBackend } from '../src/icontrol/backend.js';
import type { EmulatorRig } from '../src/testing/emulator.js';
import { emulatorRig } from '../src/testing/emulator.js';
import { coldState } from './cold-sync.js';
import { fmt, log, median, percentile } from './util.js';

const STEP_MS = 100;

export interface StormResult {
  readonly backend: string;
  readonly stormMs: number;
  readonly requestsDuring: number[];
  readonly convergeMs: number[];
  readonly requestsToConverge: number[];
}

async function step(r: EmulatorRig): Promise<void> {
  await r.advance(STEP_MS);
  await new Promise((resolve) => setTimeout(resolve, 1));
}

async function once(kind: 'icontrol' | 'as3', stormMs: number): Promise<{ during: number; convergeMs: number; after: number }> {
  const r = await emulatorRig();
  const desired = coldState(10, 10);
  const want = desired.pools.reduce((n, p) => n + p.members.length, 0);
  const backend: Backend = kind === 'as3' ? new As3Backend({ client: r.client, partition: 'k8s', clock: r.clock }) : new IcontrolBackend({ client: r.client, partition: 'k8s' });
  const engine = new SyncEngine({ backend, desired: () => desired, clock: r.clock, resyncMs: 30_000 });
  try {
    r.emu.faults.set({ unavailable: { fraction: 1 } });
    engine.start();
    for (let t = 0; t < stormMs; t += STEP_MS) {
      engine.trigger();
      await step(r);
    }
    const during = r.emu.requestLog.count();
    r.emu.faults.clear();
    r.emu.requestLog.clear();
    const members = (): number => r.emu.state.dump().split('\n').filter((l) => l.startsWith('  member ')).length;
    let t = 0;
    for (; members() < want || engine.consecutiveFailures > 0; t += STEP_MS) {
      if (t > SYNC_BACKOFF.maxMs * 2) throw new Error(`${kind}: not converged ${t} ms after the outage`);
      await step(r);
    }
    return { during, convergeMs: t, after: r.emu.requestLog.count() };
  } finally {
    await engine.stop();
    await r.close();
  }
}

export async function runStorm(runs: number, stormMs: number): Promise<StormResult[]> {
  const results: StormResult[] = [];
  for (const kind of ['icontrol', 'as3'] as const) {
    const res: StormResult = { backend: kind, stormMs, requestsDuring: [], convergeMs: [], requestsToConverge: [] };
    for (let i = 0; i < runs; i++) {
      const o = await once(kind, stormMs);
      log(`storm ${kind} run ${i + 1}: ${o.during} requests during ${fmt(stormMs)} of 503s; converged ${fmt(o.convergeMs)} after, ${o.after} requests`);
      res.requestsDuring.push(o.during);
      res.convergeMs.push(o.convergeMs);
      res.requestsToConverge.push(o.after);
    }
    results.push(res);
  }
  return results;
}

export function stormTable(results: readonly StormResult[]): string {
  const rows = results.map((r) =>
    `| ${r.backend} | ${median(r.requestsDuring)} (max ${Math.max(...r.requestsDuring)}) | **${fmt(median(r.convergeMs))}** / ${fmt(percentile(r.convergeMs, 99))} | ${median(r.requestsToConverge)} | ${r.convergeMs.length} |`);
  return [`| backend | requests during ${fmt(results[0]?.stormMs ?? 0)} of 503s, median | converged after the outage, median / p99 | requests to converge | runs |`, '|---|---|---|---|---|', ...rows].join('\n');
}

/** The result file's content: requests during the outage and time to converge after it, per backend, and the distribution. */
export function stormResult(frame: RunFrame, results: readonly StormResult[]): BenchResult {
  const stormS = (results[0]?.stormMs ?? 0) / 1000;
  const triggers = Math.round((stormS * 1000) / STEP_MS);
  const figures: Figure[] = [];
  for (const r of results) {
    figures.push({ name: `${r.backend}: requests during ${stormS} s of 503s (${triggers} triggers)`, unit: 'count', median: median(r.requestsDuring), runs: r.requestsDuring });
    const conv = r.convergeMs.map((x) => x / 1000);
    figures.push({ name: `${r.backend}: converged after the outage`, unit: 's', median: median(conv), runs: conv });
  }
  const runs = results[0]?.convergeMs.length ?? 0;
  return {
    ...frame,
    id: 'controller.storm',
    order: 32,
    section: 'npl-controller',
    title: `${stormS} s of 503s`,
    command: `node packages/controller/dist-bench/bench/storm.js --runs ${runs} --storm-s ${stormS}`,
    description: [
      `\`packages/controller/bench/storm.ts\`: the emulator answers 503 to every request for ${stormS} s (fault \`unavailable: {fraction: 1}\`)`,
      'while the desired state (10 Services × 10 pods) is triggered every 100 ms, as a churning cluster would; then the fault is',
      'cleared and the time until the partition matches (all members present, no failure pending) is measured. The engine runs on',
      'a fake clock moved in 100 ms steps with real HTTPS to the emulator, so a run takes seconds; jitter is real (Math.random),',
      `hence ${runs} runs per backend.`,
    ].join('\n'),
    figures,
    tables: [tableFromMarkdown(stormTable(results))],
    charts: [
      {
        id: 'controller-storm-converge',
        title: `Time to converge after ${stormS} s of 503s: distribution over ${runs} runs`,
        x: { label: 'converged after the outage', unit: 's' },
        y: { label: 'fraction of runs', min: 0 },
        series: results.map((r) => ({ name: r.backend, points: ecdf(r.convergeMs.map((x) => x / 1000)) })),
      },
    ],
  };
}

async function main(): Promise<void> {
  const run = beginRun();
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, 'storm-s': { type: 'string', default: '60' } } });
  const results = await runStorm(Number(values.runs), Number(values['storm-s']) * 1_000);
  process.stdout.write(`${stormTable(results)}\n${JSON.stringify(results)}\n`);
  writeResult(stormResult(run.finish(), results));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
