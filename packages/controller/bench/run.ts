/**
 * `pnpm bench` for npl-controller: the three benchmarks of issue 9 one after the other, printing a
 * markdown table for each and writing each one's result file (docs/benchmarks/results/controller.<name>.json,
 * rendered into docs/benchmarks.md by `pnpm bench:render`). Needs root (the pod-added benchmark
 * starts a local cluster); run it under `flock /tmp/npl-root-tests.lock`. Each file runs alone with its own flags.
 */
import { parseArgs } from 'node:util';
import { beginRun, writeResult } from '@npl/benchkit';
import { coldSyncResult, coldSyncTable, runColdSync } from './cold-sync.js';
import { podAddedResult, podAddedTable, runPodAdded } from './pod-added.js';
import { runStorm, stormResult, stormTable } from './storm.js';
import { machine } from './util.js';

const HELP = `Usage: pnpm --filter @npl/controller bench [-- --only cold-sync,pod-added,storm]   (as root, under flock /tmp/npl-root-tests.lock)
Runs cold-sync, pod-added and storm (or those --only names) and writes docs/benchmarks/results/controller.<name>.json;
for one and its flags: node dist-bench/bench/<name>.js
`;

const RUNNERS = {
  'cold-sync': async (): Promise<string[]> => {
    const run = beginRun();
    const results = await runColdSync(1_000, 10, 3);
    writeResult(coldSyncResult(run.finish(), results, 10));
    return ['## 1. Cold sync, 1,000 Services x 10 pods', coldSyncTable(results)];
  },
  'pod-added': async (): Promise<string[]> => {
    const run = beginRun();
    const results = await runPodAdded(30, ['icontrol', 'as3'], 'nplctlbench');
    writeResult(podAddedResult(run.finish(), results));
    return ['## 2. One pod added (local cluster)', podAddedTable(results)];
  },
  storm: async (): Promise<string[]> => {
    const run = beginRun();
    const results = await runStorm(10, 60_000);
    writeResult(stormResult(run.finish(), results));
    return ['## 3. 60 s of 503s', stormTable(results)];
  },
} as const;
type Bench = keyof typeof RUNNERS;

function selected(only: string | undefined): Bench[] {
  const all = Object.keys(RUNNERS) as Bench[];
  if (!only) return all;
  const names = only.split(',').map((s) => s.trim().replace(/^controller\./, ''));
  for (const n of names) if (!all.includes(n as Bench)) throw new Error(`--only: unknown benchmark "${n}"; expected one of ${all.join(', ')}`);
  return all.filter((b) => names.includes(b));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('the npl-controller benchmarks need root (pod-added starts a local cluster)');
  const benches = selected(values.only);
  process.stdout.write(`# npl-controller benchmarks, ${new Date().toISOString()}\n\nMachine: ${machine()}\n\n`);
  for (const bench of benches) process.stdout.write(`${(await RUNNERS[bench]()).join('\n\n')}\n\n`);
  process.stdout.write(`Machine at the end: ${machine()}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
