/**
 * Benchmark 3 (issue 4): a new NPL-enabled Service selecting 500 pods on one node — time until
 * every pod is annotated and until every node port answers from the outside namespace with the
 * right pod name. Goal: under 10 s on a 2-core machine.
 *
 * Set-up (not timed): a 1-node local cluster, npl-agent on it, N pods pinned to the node, all
 * Running. Each run creates the Service, polls by LISTING the pods until every one has an
 * annotation with one entry (annotated_s), then starts one client in the outside namespace that
 * checks every node port → pod name with bounded parallelism, retrying failures until all pass
 * (reachable_s, from Service creation). The agent's /metrics and log say where the time went:
 * when the last DNAT rule was added and the last annotation PATCH done. Between runs the Service
 * is deleted and all annotations are awaited gone.
 *
 * Run as root: `node dist-bench/bench/service-rollout.js [--pods 500] [--runs 3] [--agent-args="--api-qps 0"]`.
 * Writes docs/benchmarks/results/agent.service-rollout.json.
 */
import { parseArgs } from 'node:util';
import type { BenchResult, RunFrame } from '@npl/benchkit';
import { beginRun, tableFromMarkdown, writeResult } from '@npl/benchkit';
import type { AgentBuild } from '../e2e/harness.js';
import type { BenchEnv, ReconcileStats } from './cluster-setup.js';
import {
  agentLogSince,
  agentMetrics,
  annotatedCount,
  checkAllReachable,
  clusterBenchAgentArgs,
  clusterBenchOptions,
  cpuDelta,
  cpuSnapshot,
  createBenchService,
  DEFAULT_AGENT_ARGS,
  deleteBenchServiceAndWait,
  fmt,
  log,
  logSize,
  logSpan,
  metricSum,
  pollAnnotations,
  reconcileStats,
  runAsScript,
  statsDelta,
  withBenchEnv,
} from './cluster-setup.js';
import { median } from './netns.js';

const HELP = `Usage: node dist-bench/bench/service-rollout.js [options]   (as root)

A new NPL-enabled Service selecting N pods on one node: time until every pod is annotated and
until every node port answers from the outside namespace. Prints a markdown table and a JSON line.

  --pods N            pods on the node (default 500)
  --runs R            timed Service roll-outs (default 3)
  --agent-args="..." extra npl-agent flags (default "${DEFAULT_AGENT_ARGS}", the agent's own
                      default; the e2e harness otherwise passes --verify-period 1s)
  --name NAME         local cluster name (default nplbench3)
  --parallel P        connections in flight of the outside client (default 25)
  --help              this text
`;

export interface RolloutRow {
  readonly run: number;
  /** Which agent build ran (`this build` unless a baseline is compared). */
  readonly variant: string;
  readonly pods: number;
  /** Service creation → every pod annotated (seen by a LIST). */
  readonly annotatedS: number;
  /** Service creation → every node port answered the right name from outside. */
  readonly reachableS: number;
  /** The outside client's own time and connection attempts (pods + retries). */
  readonly clientS: number;
  readonly clientAttempts: number;
  /** From the agent log, relative to Service creation: first and last DNAT rule added, last annotation PATCH. */
  readonly firstRuleS?: number;
  readonly lastRuleS?: number;
  readonly firstPatchS?: number;
  readonly lastPatchS?: number;
  /** From /metrics (deltas over the run). */
  readonly reconciles: number;
  readonly reconcileMeanMs: number;
  readonly patches: number;
  /** Median latency of the annotation-polling LIST of all pods (API server responsiveness). */
  readonly listP50Ms: number;
  readonly uniquePorts: number;
  /** CPU seconds used by the agent and each cluster daemon from Service creation until all were annotated. */
  readonly cpuS: Record<string, number>;
  /** (seconds since Service creation, pods annotated) at each annotation LIST. */
  readonly progress: readonly (readonly [number, number])[];
  /**
   * The agent's own CPU seconds (user + system, /proc/<pid>/stat) from Service creation until its
   * work queue had drained after every node port answered: all the work the roll-out caused,
   * including the watch echoes of its own PATCHes. Its nft children are in `cpuS.agentChildren`.
   */
  readonly agentCpuS: number;
  /** agentCpuS / pods. */
  readonly cpuPerPodMs: number;
  readonly reconcilesPerPod: number;
  readonly patchesPerPod: number;
}

/** Wait until the agent's queue is empty and its reconcile count stopped moving for `quietMs`. */
async function waitQuiet(env: BenchEnv, quietMs = 1_000, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = -1;
  let since = performance.now();
  while (performance.now() < deadline) {
    const m = await agentMetrics(env.node);
    const count = metricSum(m, 'npl_agent_pod_reconcile_duration_seconds_count');
    if (count !== last || metricSum(m, 'npl_agent_workqueue_depth') > 0) {
      last = count;
      since = performance.now();
    } else if (performance.now() - since >= quietMs) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the agent's work queue did not drain within ${timeoutMs / 1000} s`);
}

async function oneRun(env: BenchEnv, run: number, parallel: number, variant: string): Promise<RolloutRow> {
  const { cluster, node, pods } = env;
  const before: ReconcileStats = reconcileStats(await agentMetrics(node));
  const logOffset = logSize(env.agentLog);
  const cpu0 = await cpuSnapshot(env);
  const wall0 = Date.now();
  const t0 = performance.now();
  await createBenchService(cluster);
  const progress: [number, number][] = [[0, 0]];
  const annotated = await pollAnnotations(cluster, (a) => annotatedCount(a) === pods.length, 300_000, 'all pods annotated', (a) => {
    const at = (performance.now() - t0) / 1000;
    progress.push([Math.round(at * 100) / 100, annotatedCount(a)]);
    log(`  ${annotatedCount(a)}/${pods.length} annotated at ${at.toFixed(1)} s`);
  });
  progress.push([Math.round(((annotated.at - t0) / 1000) * 100) / 100, pods.length]);
  const annotatedS = (annotated.at - t0) / 1000;
  const cpu = cpuDelta(await cpuSnapshot(env), cpu0);
  log(`  all annotated at ${annotatedS.toFixed(2)} s; checking ${pods.length} node ports from ${cluster.outsideNetns}`);
  const pairs = [...annotated.annotations].map(([name, ports]) => [ports[0]!, name] as [number, string]);
  const check = await checkAllReachable(cluster.outsideNetns, node.ip, pairs, parallel);
  const reachableS = (performance.now() - t0) / 1000;
  if (!check.ok) throw new Error(`not all node ports answered within the client's deadline: ${JSON.stringify(check.failed)}`);
  log(`  all reachable at ${reachableS.toFixed(2)} s (client ${(check.elapsedMs / 1000).toFixed(2)} s, ${check.attempts} attempts in ${check.rounds} round(s))`);
  await waitQuiet(env);
  const agentCpuS = cpuDelta(await cpuSnapshot(env), cpu0).agent ?? Number.NaN;
  const delta = statsDelta(reconcileStats(await agentMetrics(node)), before);
  const lines = agentLogSince(env.agentLog, logOffset);
  const rules = logSpan(lines, 'Added NodePortLocal rule');
  const patches = logSpan(lines, 'Updated NodePortLocal annotation');
  const rel = (t?: number): number | undefined => (t === undefined ? undefined : (t - wall0) / 1000);
  return {
    run,
    variant,
    pods: pods.length,
    annotatedS,
    reachableS,
    clientS: check.elapsedMs / 1000,
    clientAttempts: check.attempts,
    firstRuleS: rel(rules.first),
    lastRuleS: rel(rules.last),
    firstPatchS: rel(patches.first),
    lastPatchS: rel(patches.last),
    reconciles: delta.reconciles,
    reconcileMeanMs: delta.reconciles ? (delta.reconcileSecondsSum / delta.reconciles) * 1000 : 0,
    patches: delta.patches,
    listP50Ms: median(annotated.listMs),
    uniquePorts: new Set(pairs.map(([p]) => p)).size,
    cpuS: cpu,
    progress,
    agentCpuS,
    cpuPerPodMs: (agentCpuS / pods.length) * 1000,
    reconcilesPerPod: delta.reconciles / pods.length,
    patchesPerPod: delta.patches / pods.length,
  };
}

/** One agent build to measure; several are run alternately in the same cluster, on the same pods. */
export interface RolloutVariant {
  readonly name: string;
  readonly build: AgentBuild;
}

export const THIS_BUILD: RolloutVariant = { name: 'this build', build: {} };

export function runRolloutBench(opts: {
  pods: number;
  runs: number;
  agentArgs: readonly string[];
  name: string;
  parallel: number;
  settleMs?: number;
  variants?: readonly RolloutVariant[];
}): Promise<RolloutRow[]> {
  const variants = opts.variants ?? [THIS_BUILD];
  return withBenchEnv({ ...opts, build: variants[0]!.build }, async (env) => {
    const rows: RolloutRow[] = [];
    let current = variants[0]!;
    for (let run = 1; run <= opts.runs; run++) {
      for (const variant of variants) {
        if (variant !== current) {
          log(`restarting npl-agent as ${variant.name}`);
          env.fleet.build = variant.build;
          await env.fleet.startAll();
          await waitQuiet(env);
          current = variant;
        }
        log(`run ${run}/${opts.runs}${variants.length > 1 ? ` (${variant.name})` : ''}: creating Service selecting ${opts.pods} pods`);
        rows.push(await oneRun(env, run, opts.parallel, variant.name));
        log(`  deleting the Service, waiting until all annotations are gone`);
        await deleteBenchServiceAndWait(env.cluster);
        // Removing 500 annotations spends the agent's API burst; let it refill (burst/qps = 2 s at the
        // defaults) so every run starts as the first one does.
        await new Promise((r) => setTimeout(r, opts.settleMs ?? 3_000));
      }
    }
    // A clean stop, so that an agent run with --cpu-prof writes its profile.
    await env.fleet.stopAll();
    return rows;
  });
}

function cpuCell(c: Record<string, number | undefined>): string {
  return [c.agent, c.agentChildren, c.apiserver, c.etcd, c.standin].map((x) => fmt(x, 1)).join(' / ');
}

export function rolloutTable(rows: readonly RolloutRow[]): string {
  const lines = [
    '| run | build | pods | annotated (s) | reachable from outside (s) | client (s) / attempts | first–last DNAT rule (s) | first–last annotation PATCH (s) | reconciles | mean reconcile (ms) | PATCHes | LIST p50 (ms) | CPU s until annotated: agent / its nft children / apiserver / etcd / stand-in | agent CPU ms per pod (until drained) | reconciles / PATCHes per pod |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.run} | ${r.variant} | ${r.pods} | ${fmt(r.annotatedS)} | ${fmt(r.reachableS)} | ${fmt(r.clientS)} / ${r.clientAttempts} | ${fmt(r.firstRuleS)}–${fmt(r.lastRuleS)} | ${fmt(r.firstPatchS)}–${fmt(r.lastPatchS)} | ${r.reconciles} | ${fmt(r.reconcileMeanMs, 1)} | ${r.patches} | ${fmt(r.listP50Ms, 0)} | ${cpuCell(r.cpuS)} | ${fmt(r.cpuPerPodMs, 1)} | ${fmt(r.reconcilesPerPod)} / ${fmt(r.patchesPerPod)} |`,
    );
  }
  const m = (f: (r: RolloutRow) => number | undefined): number => median(rows.map(f).filter((x): x is number => x !== undefined));
  lines.push(
    `| **median** | ${[...new Set(rows.map((r) => r.variant))].join(', ')} | ${rows[0]?.pods ?? ''} | **${fmt(m((r) => r.annotatedS))}** | **${fmt(m((r) => r.reachableS))}** | ${fmt(m((r) => r.clientS))} / ${m((r) => r.clientAttempts)} | ${fmt(m((r) => r.firstRuleS))}–${fmt(m((r) => r.lastRuleS))} | ${fmt(m((r) => r.firstPatchS))}–${fmt(m((r) => r.lastPatchS))} | ${m((r) => r.reconciles)} | ${fmt(m((r) => r.reconcileMeanMs), 1)} | ${m((r) => r.patches)} | ${fmt(m((r) => r.listP50Ms), 0)} | ${cpuCell({ agent: m((r) => r.cpuS.agent), agentChildren: m((r) => r.cpuS.agentChildren), apiserver: m((r) => r.cpuS.apiserver), etcd: m((r) => r.cpuS.etcd), standin: m((r) => r.cpuS.standin) })} | ${fmt(m((r) => r.cpuPerPodMs), 1)} | ${fmt(m((r) => r.reconcilesPerPod))} / ${fmt(m((r) => r.patchesPerPod))} |`,
  );
  return lines.join('\n');
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

/** The result file's content: annotated and reachable times (goal under 10 s), the per-run table, annotations over time. */
export function rolloutResult(frame: RunFrame, rows: readonly RolloutRow[], agentArgs: readonly string[], parallel: number): BenchResult {
  const pods = rows[0]?.pods ?? 0;
  const args = agentArgs.join(' ');
  return {
    ...frame,
    id: 'agent.service-rollout',
    order: 22,
    section: 'npl-agent',
    title: `A new Service selecting ${pods} pods on one node`,
    command: `node packages/agent/dist-bench/bench/service-rollout.js --pods ${pods} --runs ${rows.length} --parallel ${parallel} --agent-args="${args}"`,
    description: [
      `\`packages/agent/bench/service-rollout.ts\`: a 1-node local cluster, npl-agent on it (flags \`${args || '(defaults)'}\`), ${pods} pods`,
      'Running (set-up, not timed). Timed: create the NPL Service; "annotated" = one LIST shows all pods annotated;',
      `"reachable" = one client in the \`outside\` namespace got the right pod name from all ${pods} node ports. ${rows.length} runs; between`,
      'runs the Service is deleted, all annotations are awaited gone, and the agent\'s API limiter is given 3 s to refill',
      '(removing the annotations spends its burst). The agent\'s log and /metrics say where the time went.',
    ].join('\n'),
    figures: [
      { name: `reachable from outside, ${pods} pods`, unit: 's', median: median(rows.map((r) => r2(r.reachableS))), runs: rows.map((r) => r2(r.reachableS)), goal: { op: '<', value: 10 } },
      { name: `annotated, ${pods} pods`, unit: 's', median: median(rows.map((r) => r2(r.annotatedS))), runs: rows.map((r) => r2(r.annotatedS)) },
    ],
    tables: [tableFromMarkdown(rolloutTable(rows), 'Per run (times from Service creation)')],
    charts: [
      {
        id: 'agent-service-rollout',
        title: `Pods annotated after the Service is created (${pods} pods, one node)`,
        x: { label: 'time since Service creation', unit: 's' },
        y: { label: 'pods annotated' },
        series: rows.map((r) => ({ name: `run ${r.run}`, points: r.progress.map(([t, n]) => [t, n] as [number, number]) })),
      },
    ],
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: clusterBenchOptions({ name: 'nplbench3', parallel: '25' }),
  });
  const agentArgs = clusterBenchAgentArgs('service-rollout', HELP, values);
  if (!agentArgs) return;
  const run = beginRun();
  const rows = await runRolloutBench({ pods: Number(values.pods), runs: Number(values.runs), agentArgs, name: values.name, parallel: Number(values.parallel) });
  const summary = {
    bench: 'service-rollout',
    agentArgs,
    medianAnnotatedS: median(rows.map((r) => r.annotatedS)),
    medianReachableS: median(rows.map((r) => r.reachableS)),
    medianCpuPerPodMs: median(rows.map((r) => r.cpuPerPodMs)),
    medianReconcilesPerPod: median(rows.map((r) => r.reconcilesPerPod)),
    medianPatchesPerPod: median(rows.map((r) => r.patchesPerPod)),
    goalS: 10,
    rows,
  };
  process.stdout.write(`agent flags: ${agentArgs.join(' ') || '(defaults)'}\n\n${rolloutTable(rows)}\n\n${JSON.stringify(summary)}\n`);
  writeResult(rolloutResult(run.finish(), rows, agentArgs, Number(values.parallel)));
}

runAsScript(import.meta.url, main);
