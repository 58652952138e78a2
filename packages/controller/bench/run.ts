/**
 * `pnpm bench` for npl-controller: the three benchmarks of issue 9 one after the other, printing a
 * markdown table for each. Needs root (the pod-added benchmark starts a local cluster); run it under
 * `flock /tmp/npl-root-tests.lock`. Each file runs alone with its own flags.
 */
import { coldSyncTable, runColdSync } from './cold-sync.js';
import { podAddedTable, runPodAdded } from './pod-added.js';
import { runStorm, stormTable } from './storm.js';
import { machine } from './util.js';

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write('Usage: pnpm --filter @npl/controller bench   (as root, under flock /tmp/npl-root-tests.lock)\nRuns cold-sync, pod-added and storm; for one and its flags: node dist-bench/bench/<name>.js\n');
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('the npl-controller benchmarks need root (pod-added starts a local cluster)');
  const out: string[] = [`# npl-controller benchmarks, ${new Date().toISOString()}`, `Machine: ${machine()}`];
  out.push('## 1. Cold sync, 1,000 Services x 10 pods', coldSyncTable(await runColdSync(1_000, 10, 3)));
  out.push('## 2. One pod added (local cluster)', podAddedTable(await runPodAdded(30, ['icontrol', 'as3'], 'nplctlbench')));
  out.push('## 3. 60 s of 503s', stormTable(await runStorm(10, 60_000)));
  out.push(`Machine at the end: ${machine()}`);
  process.stdout.write(`${out.join('\n\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
