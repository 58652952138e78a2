/**
 * `pnpm bench` for npl-agent: every benchmark of issue 4 in one run, one after the other (they
 * share the machine), printing each markdown table. Needs root. `--help` prints usage; run a single
 * benchmark's file for its own flags.
 */
import { latencyTable, runLatencyBench } from './dataplane-latency.js';
import { runUpdateBench, updateTable } from './dataplane-update.js';
import { restartTable, runRestartBench } from './agent-restart.js';
import { rolloutTable, runRolloutBench } from './service-rollout.js';
import { DEFAULT_AGENT_ARGS, splitArgs } from './cluster-setup.js';
import { antreaBinary, runAndRecord } from './antrea-compare.js';

const HELP = `Usage: pnpm --filter @npl/agent bench   (as root; = node dist-bench/bench/run.js)
Runs the four npl-agent benchmarks one after the other and prints a markdown table for each:
  dataplane-latency, dataplane-update, service-rollout, agent-restart.
For one benchmark and its own flags: node dist-bench/bench/<name>.js --help
(dist-bench/ is built by \`tsc -p tsconfig.bench.json\`, which \`pnpm bench\` runs first).
With --antrea (or $ANTREA_NPL naming a built binary) it also runs antrea-compare: Antrea's own
NodePortLocal (built from its source by bench/antrea-npl/build.sh) against npl-agent, and writes
docs/benchmarks/results/agent.antrea-compare.json.`;

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('the npl-agent benchmarks need root (network namespaces, nftables, the local cluster)');
  const started = new Date();
  const out: string[] = [`# npl-agent benchmarks, ${started.toISOString()}`];
  out.push('## 1. New-connection latency through the dataplane', latencyTable(await runLatencyBench([1, 1_000, 10_000, 30_000], 1_000, 3)));
  out.push('## 2. Add then remove one mapping with 10,000 present', updateTable(runUpdateBench(10_000, 50)));
  out.push(
    '## 3. A new Service selecting 500 Pods on one node',
    rolloutTable(await runRolloutBench({ pods: 500, runs: 3, agentArgs: splitArgs(DEFAULT_AGENT_ARGS), name: 'nplbench3', parallel: 25 })),
  );
  out.push(
    '## 4. Agent restart with 500 mappings',
    restartTable(await runRestartBench({ pods: 500, runs: 3, agentArgs: splitArgs(DEFAULT_AGENT_ARGS), name: 'nplbench4', downMs: 0, afterMs: 3_000, parallel: 2 })),
  );
  if (process.argv.includes('--antrea') || process.env.ANTREA_NPL) {
    const command = 'node packages/agent/dist-bench/bench/antrea-compare.js --pods 500 --runs 3';
    const opts = { pods: 500, runs: 3, agentArgs: splitArgs(DEFAULT_AGENT_ARGS), name: 'nplbench11', parallel: 25, antreaBin: antreaBinary(), write: true, command };
    out.push("## 5. Antrea's own NodePortLocal against npl-agent, 500 Pods", await runAndRecord(opts));
  }
  process.stdout.write(`${out.join('\n\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
