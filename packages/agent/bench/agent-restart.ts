/**
 * Benchmark 4 (issue 4): agent restart with 500 mappings — time to ready, node ports changed
 * (goal 0) and failed requests during the restart from a client looping through the mappings
 * (goal 0).
 *
 * Set-up (not timed) as benchmark 3, then the NPL Service is created and all pods mapped. Each run
 * restarts the agent twice, once stopped with SIGTERM (clean) and once with SIGKILL (crash): a
 * client in the outside namespace loops through every node port (new connection each time, the
 * answer must be the pod's name) from 1 s before the stop until 3 s after /readyz answers 200;
 * time to ready is from the new process's spawn to the first 200 of
 * http://<node IP>:10361/readyz, polled every 50 ms. The annotations before and after are compared.
 * The agent log splits the start-up into its phases.
 *
 * Run as root: `node dist-bench/bench/agent-restart.js [--pods 500] [--runs 3] [--agent-args="..."]`.
 * Writes docs/benchmarks/results/agent.agent-restart.json.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { BenchResult, Figure, RunFrame } from '@npl/benchkit';
import { beginRun, tableFromMarkdown, writeResult } from '@npl/benchkit';
import type { BenchEnv } from './cluster-setup.js';
import {
  agentLogSince,
  agentMetrics,
  annotatedCount,
  clusterBenchAgentArgs,
  clusterBenchOptions,
  createBenchService,
  DEFAULT_AGENT_ARGS,
  fmt,
  listAnnotations,
  log,
  logSize,
  pollAnnotations,
  reconcileStats,
  runAsScript,
  startLoopClient,
  withBenchEnv,
} from './cluster-setup.js';
import { readyz } from '../e2e/harness.js';
import { median } from './netns.js';

const HELP = `Usage: node dist-bench/bench/agent-restart.js [options]   (as root)

Restart npl-agent holding N mappings (SIGTERM and SIGKILL, --runs times each) while a client in the
outside namespace loops through every node port: time to ready, node ports changed, failed requests.
Prints a markdown table and a JSON line.

  --pods N            pods (= mappings) on the node (default 500)
  --runs R            restarts per signal (default 3)
  --agent-args="..." extra npl-agent flags (default "${DEFAULT_AGENT_ARGS}")
  --down-ms MS        keep the agent stopped this long before starting it again (default 0)
  --after-ms MS       keep the client looping this long after ready (default 3000)
  --parallel P        connections in flight of the looping client (default 2)
  --name NAME         local cluster name (default nplbench4)
  --help              this text
`;

type Signal = 'SIGTERM' | 'SIGKILL';

export interface RestartRow {
  readonly run: number;
  readonly signal: Signal;
  readonly mappings: number;
  /** Signal → old process exited. */
  readonly stopS: number;
  /** New process spawned → /readyz 200. */
  readonly readyS: number;
  /** From the new agent's log, relative to its spawn. */
  readonly phases: { readonly starting?: number; readonly synced?: number; readonly restored?: number; readonly dataplaneSynced?: number; readonly ready?: number };
  readonly restored?: number;
  readonly portsChanged: number;
  readonly requestsOk: number;
  readonly requestsFailed: number;
  readonly failedPorts: readonly number[];
  readonly failures: readonly unknown[];
  /** Longest time between two successful answers seen by the client. */
  readonly maxGapMs: number;
  /** Annotation PATCHes and reconciles by the new agent process up to the end of the run. */
  readonly patchesAfter: number;
  readonly reconcilesAfter: number;
}

function changedPorts(before: Map<string, number[]>, after: Map<string, number[]>): number {
  let changed = 0;
  for (const [pod, ports] of before) {
    const a = after.get(pod) ?? [];
    if (a.length !== ports.length || a.some((p, i) => p !== ports[i])) changed++;
  }
  return changed;
}

async function restartOnce(env: BenchEnv, run: number, signal: Signal, pairs: [number, string][], opts: { downMs: number; afterMs: number; parallel: number }): Promise<RestartRow> {
  const { cluster, node, fleet } = env;
  const before = await listAnnotations(cluster);
  const client = await startLoopClient(cluster.outsideNetns, node.ip, pairs, opts.parallel);
  let result;
  let readyS = 0;
  let stopS = 0;
  let spawnWall = 0;
  let logOffset = 0;
  try {
    await sleep(1_000);
    const s0 = performance.now();
    await fleet.stop(node, signal);
    stopS = (performance.now() - s0) / 1000;
    if (opts.downMs > 0) await sleep(opts.downMs);
    logOffset = logSize(env.agentLog);
    spawnWall = Date.now();
    const t0 = performance.now();
    await fleet.start(node);
    for (;;) {
      if ((await readyz(node)).ok) break;
      if (performance.now() - t0 > 120_000) throw new Error('agent not ready within 120 s');
      await sleep(50);
    }
    readyS = (performance.now() - t0) / 1000;
    await sleep(opts.afterMs);
  } finally {
    result = await client.stop();
  }
  const after = await listAnnotations(cluster);
  const stats = reconcileStats(await agentMetrics(node));
  const lines = agentLogSince(env.agentLog, logOffset);
  const at = (msg: string): number | undefined => {
    const l = lines.find((x) => x.msg === msg);
    return l ? (l.t - spawnWall) / 1000 : undefined;
  };
  const restoredLine = lines.find((x) => x.msg === 'Restored NodePortLocal mappings');
  return {
    run,
    signal,
    mappings: pairs.length,
    stopS,
    readyS,
    phases: {
      starting: at('Starting NPLController'),
      synced: at('Will fetch Pods and generate NodePortLocal rules for these Pods'),
      restored: at('Restored NodePortLocal mappings'),
      dataplaneSynced: at('Initialization of NodePortLocal rules successful'),
      ready: at('NodePortLocal agent is ready'),
    },
    restored: restoredLine ? Number(restoredLine.line.restored) : undefined,
    portsChanged: changedPorts(before, after),
    requestsOk: result.ok,
    requestsFailed: result.failed,
    failedPorts: result.failedPorts,
    failures: result.failures,
    maxGapMs: result.maxGapMs,
    patchesAfter: stats.patches,
    reconcilesAfter: stats.reconciles,
  };
}

export function runRestartBench(opts: {
  pods: number;
  runs: number;
  agentArgs: readonly string[];
  name: string;
  downMs: number;
  afterMs: number;
  parallel: number;
}): Promise<RestartRow[]> {
  return withBenchEnv(opts, async (env) => {
    const { cluster, pods } = env;
    log(`creating the NPL Service, waiting until all ${pods.length} pods are annotated`);
    const t0 = performance.now();
    await createBenchService(cluster);
    const annotated = await pollAnnotations(cluster, (a) => annotatedCount(a) === pods.length, 300_000, 'all pods annotated', (a) =>
      log(`  ${annotatedCount(a)}/${pods.length} annotated`),
    );
    log(`  all annotated after ${((annotated.at - t0) / 1000).toFixed(1)} s`);
    const pairs = [...annotated.annotations].map(([name, ports]) => [ports[0]!, name] as [number, string]);
    const rows: RestartRow[] = [];
    for (let run = 1; run <= opts.runs; run++) {
      for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
        log(`run ${run}/${opts.runs}: ${signal} restart with ${pairs.length} mappings, client looping`);
        const row = await restartOnce(env, run, signal, pairs, opts);
        log(
          `  stopped in ${row.stopS.toFixed(2)} s, ready ${row.readyS.toFixed(2)} s after spawn; ports changed ${row.portsChanged}; requests ok ${row.requestsOk}, failed ${row.requestsFailed}`,
        );
        rows.push(row);
      }
    }
    return rows;
  });
}

export function restartTable(rows: readonly RestartRow[]): string {
  const lines = [
    '| run | signal | mappings | stop (s) | spawn → ready (s) | phases: log start / caches synced / restored / dataplane synced / ready (s) | ports changed | requests ok | failed | longest gap between answers (ms) | PATCHes after restart |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  type Shown = Pick<RestartRow, 'signal' | 'mappings' | 'stopS' | 'readyS' | 'phases' | 'portsChanged' | 'requestsOk' | 'requestsFailed' | 'maxGapMs' | 'patchesAfter'> & { run: number | string };
  const row = (r: Shown, bold = false): string => {
    const b = (s: string): string => (bold ? `**${s}**` : s);
    const p = r.phases;
    return `| ${r.run} | ${r.signal} | ${r.mappings} | ${fmt(r.stopS)} | ${b(fmt(r.readyS))} | ${fmt(p.starting)} / ${fmt(p.synced)} / ${fmt(p.restored)} / ${fmt(p.dataplaneSynced)} / ${fmt(p.ready)} | ${b(String(r.portsChanged))} | ${r.requestsOk} | ${b(String(r.requestsFailed))} | ${fmt(r.maxGapMs, 0)} | ${r.patchesAfter} |`;
  };
  for (const r of rows) lines.push(row(r));
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const rs = rows.filter((r) => r.signal === signal);
    if (!rs.length) continue;
    const m = (f: (r: RestartRow) => number | undefined): number => median(rs.map(f).filter((x): x is number => x !== undefined));
    lines.push(
      row(
        {
          run: 'median',
          signal,
          mappings: rs[0]!.mappings,
          stopS: m((r) => r.stopS),
          readyS: m((r) => r.readyS),
          phases: {
            starting: m((r) => r.phases.starting),
            synced: m((r) => r.phases.synced),
            restored: m((r) => r.phases.restored),
            dataplaneSynced: m((r) => r.phases.dataplaneSynced),
            ready: m((r) => r.phases.ready),
          },
          portsChanged: m((r) => r.portsChanged),
          requestsOk: m((r) => r.requestsOk),
          requestsFailed: m((r) => r.requestsFailed),
          maxGapMs: m((r) => r.maxGapMs),
          patchesAfter: m((r) => r.patchesAfter),
        },
        true,
      ),
    );
  }
  return lines.join('\n');
}

export interface RestartParams {
  readonly pods: number;
  readonly runs: number;
  readonly agentArgs: readonly string[];
  readonly downMs: number;
  readonly afterMs: number;
  readonly parallel: number;
}

/** The result file's content: time to ready per signal, ports changed and failed requests (goal 0 each). */
export function restartResult(frame: RunFrame, rows: readonly RestartRow[], p: RestartParams): BenchResult {
  const r2 = (x: number): number => Math.round(x * 100) / 100;
  const figures: Figure[] = [];
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const runs = rows.filter((r) => r.signal === signal).map((r) => r2(r.readyS));
    if (runs.length) figures.push({ name: `${signal}: spawn → ready`, unit: 's', median: median(runs), runs });
  }
  const changed = rows.map((r) => r.portsChanged);
  const failed = rows.map((r) => r.requestsFailed);
  const ok = rows.reduce((n, r) => n + r.requestsOk, 0);
  figures.push({ name: `node ports changed per restart (${rows.length} restarts)`, unit: 'count', median: median(changed), runs: changed, goal: { op: '==', value: 0 } });
  figures.push({ name: `failed requests per restart (${ok.toLocaleString('en-US')} answered in all)`, unit: 'count', median: median(failed), runs: failed, goal: { op: '==', value: 0 } });
  const args = p.agentArgs.join(' ');
  return {
    ...frame,
    id: 'agent.agent-restart',
    order: 23,
    section: 'npl-agent',
    title: `Agent restart with ${p.pods} mappings`,
    command: `node packages/agent/dist-bench/bench/agent-restart.js --pods ${p.pods} --runs ${p.runs} --down-ms ${p.downMs} --after-ms ${p.afterMs} --parallel ${p.parallel} --agent-args="${args}"`,
    description: [
      `\`packages/agent/bench/agent-restart.ts\`: set-up as the Service roll-out (flags \`${args || '(defaults)'}\`), the Service created and all ${p.pods}`,
      'mapped. A client in the `outside` namespace loops through all node ports (connect, read the pod name, check it) from 1 s',
      `before the stop until ${p.afterMs / 1000} s after the new agent is ready; the agent is stopped (SIGTERM, or SIGKILL) and started again.`,
      `${p.runs} runs × 2 signals. Time to ready: from the new process's spawn to the first 200 of its /readyz (polled every 50 ms);`,
      'the phases come from its log, relative to the spawn. The annotations before and after are compared.',
    ].join('\n'),
    figures,
    tables: [tableFromMarkdown(restartTable(rows), 'Per restart')],
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...clusterBenchOptions({ name: 'nplbench4', parallel: '2' }),
      'down-ms': { type: 'string', default: '0' },
      'after-ms': { type: 'string', default: '3000' },
    },
  });
  const agentArgs = clusterBenchAgentArgs('agent-restart', HELP, values);
  if (!agentArgs) return;
  const run = beginRun();
  const params: RestartParams = {
    pods: Number(values.pods),
    runs: Number(values.runs),
    agentArgs,
    downMs: Number(values['down-ms']),
    afterMs: Number(values['after-ms']),
    parallel: Number(values.parallel),
  };
  const rows = await runRestartBench({ ...params, name: values.name });
  const summary: Record<string, unknown> = { bench: 'agent-restart', agentArgs };
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const rs = rows.filter((r) => r.signal === signal);
    summary[signal] = {
      medianReadyS: median(rs.map((r) => r.readyS)),
      maxPortsChanged: Math.max(...rs.map((r) => r.portsChanged)),
      totalFailed: rs.reduce((s, r) => s + r.requestsFailed, 0),
    };
  }
  summary.rows = rows;
  process.stdout.write(`agent flags: ${agentArgs.join(' ') || '(defaults)'}\n\n${restartTable(rows)}\n\n${JSON.stringify(summary)}\n`);
  writeResult(restartResult(run.finish(), rows, params));
}

runAsScript(import.meta.url, main);
