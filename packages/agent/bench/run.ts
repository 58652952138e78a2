/**
 * `pnpm bench` for npl-agent: every benchmark of issue 4 in one run, one after the other (they
 * share the machine), printing each markdown table and writing each one's result file
 * (docs/benchmarks/results/agent.<name>.json, rendered into docs/benchmarks.md by `pnpm bench:render`).
 * Needs root. `--help` prints usage; run a single benchmark's file for all its own flags.
 */
import { parseArgs } from 'node:util';
import { beginRun, writeResult } from '@npl/benchkit';
import { latencyResult, latencyTable, runLatencyBench } from './dataplane-latency.js';
import { runUpdateBench, updateResult, updateTable } from './dataplane-update.js';
import { restartResult, restartTable, runRestartBench } from './agent-restart.js';
import { rolloutResult, rolloutTable, runRolloutBench } from './service-rollout.js';
import { DEFAULT_AGENT_ARGS, splitArgs } from './cluster-setup.js';
import { churnBenchAndWrite, parseDuration } from './churn.js';
import { runMemoryBench } from './memory.js';
import { antreaBinary, DEFAULT_LIMITS, parseLimits, runAndRecord } from './antrea-compare.js';

const HELP = `Usage: pnpm --filter @npl/agent bench [-- options]   (as root; = node dist-bench/bench/run.js)
Runs the npl-agent benchmarks one after the other, prints a markdown table for each and writes
docs/benchmarks/results/agent.<name>.json:
  dataplane-latency, dataplane-update, service-rollout, agent-restart, churn, memory.
  rollout-cost compares two builds: run it alone. With --antrea (or $ANTREA_NPL naming a built binary)
  also antrea-compare: Antrea's own NodePortLocal (built from its source by bench/antrea-npl/build.sh)
  against npl-agent, writing docs/benchmarks/results/agent.antrea-compare.json.
  --only a,b     only these (names as above)
  --rounds R     dataplane-latency rounds (default 3)
  --runs R       service-rollout runs and agent-restart runs per signal (default 3)
  --churn-duration D   how long churn churns: seconds, Ns or Nm (default 10m; 0 skips it)
For one benchmark and all its own flags: node dist-bench/bench/<name>.js --help
(dist-bench/ is built by \`tsc -p tsconfig.bench.json\`, which \`pnpm bench\` runs first).`;

const BENCHES = ['dataplane-latency', 'dataplane-update', 'service-rollout', 'agent-restart', 'churn', 'memory', 'antrea-compare'] as const;
type Bench = (typeof BENCHES)[number];

interface Options {
  readonly rounds: number;
  readonly runs: number;
  /** Seconds of churn; 0 skips the churn benchmark. */
  readonly churnS: number;
  /** Run antrea-compare (needs Antrea's NPL binary). */
  readonly antrea: boolean;
}

const RUNNERS: Record<Bench, (o: Options) => Promise<string[]>> = {
  'dataplane-latency': async (o) => {
    const run = beginRun();
    const params = { counts: [1, 1_000, 10_000, 30_000], connects: 1_000, rounds: o.rounds };
    const rows = await runLatencyBench(params.counts, params.connects, params.rounds);
    writeResult(latencyResult(run.finish(), rows, params));
    return ['## 1. New-connection latency through the dataplane', latencyTable(rows)];
  },
  'dataplane-update': (_o) => {
    const run = beginRun();
    const rows = runUpdateBench(10_000, 50);
    writeResult(updateResult(run.finish(), rows, 10_000, 50));
    return Promise.resolve(['## 2. Add then remove one mapping with 10,000 present', updateTable(rows)]);
  },
  'service-rollout': async (o) => {
    const run = beginRun();
    const agentArgs = splitArgs(DEFAULT_AGENT_ARGS);
    const rows = await runRolloutBench({ pods: 500, runs: o.runs, agentArgs, name: 'nplbench3', parallel: 25 });
    writeResult(rolloutResult(run.finish(), rows, agentArgs, 25));
    return ['## 3. A new Service selecting 500 Pods on one node', rolloutTable(rows)];
  },
  'agent-restart': async (o) => {
    const run = beginRun();
    const params = { pods: 500, runs: o.runs, agentArgs: splitArgs(DEFAULT_AGENT_ARGS), downMs: 0, afterMs: 3_000, parallel: 2 };
    const rows = await runRestartBench({ ...params, name: 'nplbench4' });
    writeResult(restartResult(run.finish(), rows, params));
    return ['## 4. Agent restart with 500 mappings', restartTable(rows)];
  },
  churn: async (o) => {
    if (o.churnS <= 0) return ['## 5. Pod churn: skipped (--churn-duration 0)'];
    const churnOpts = { durationS: o.churnS, rate: 10, population: 100, sampleEveryS: 5, agentArgs: splitArgs(DEFAULT_AGENT_ARGS), agentEnv: {}, nodeFlags: [], name: 'nplbchurn', kubelet: false };
    return [`## 5. Pod churn, 10 a second for ${o.churnS} s`, await churnBenchAndWrite(churnOpts, `node packages/agent/dist-bench/bench/churn.js --duration ${o.churnS}`)];
  },
  'antrea-compare': async (o) => {
    if (!o.antrea) return ["## 7. Antrea's own NodePortLocal: skipped (give --antrea or $ANTREA_NPL)"];
    const command = `node packages/agent/dist-bench/bench/antrea-compare.js --pods 500 --runs ${o.runs} --limits ${DEFAULT_LIMITS}`;
    const opts = { pods: 500, runs: o.runs, limits: parseLimits(DEFAULT_LIMITS), agentArgs: splitArgs(DEFAULT_AGENT_ARGS), name: 'nplbench11', parallel: 25, antreaBin: antreaBinary(), write: true, command };
    return ["## 7. Antrea's own NodePortLocal against npl-agent, 500 Pods", await runAndRecord(opts)];
  },
  memory: async () => ['## 6. Memory with 1,000 local Pods and 10,000 Services', await runMemoryBench({ pods: 1_000, services: 10_000, steadyS: 60, name: 'nplbench6', write: true })],
};

function selected(only: string | undefined): Bench[] {
  if (!only) return [...BENCHES];
  const names = only.split(',').map((s) => s.trim().replace(/^agent\./, ''));
  for (const n of names) if (!(BENCHES as readonly string[]).includes(n)) throw new Error(`--only: unknown benchmark "${n}"; expected one of ${BENCHES.join(', ')}`);
  return BENCHES.filter((b) => names.includes(b));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, rounds: { type: 'string', default: '3' }, runs: { type: 'string', default: '3' }, 'churn-duration': { type: 'string', default: '10m' }, antrea: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('the npl-agent benchmarks need root (network namespaces, nftables, the local cluster)');
  const opts: Options = { rounds: Number(values.rounds), runs: Number(values.runs), churnS: parseDuration(values['churn-duration']), antrea: values.antrea || Boolean(process.env.ANTREA_NPL) || (values.only ?? '').includes('antrea-compare') };
  const benches = selected(values.only);
  process.stdout.write(`# npl-agent benchmarks, ${new Date().toISOString()}\n\n`);
  for (const bench of benches) process.stdout.write(`${(await RUNNERS[bench](opts)).join('\n\n')}\n\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
