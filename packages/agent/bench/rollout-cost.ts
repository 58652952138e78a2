/**
 * What one Pod of a Service roll-out costs the agent (issue 11): agent CPU per pod, reconciles per
 * pod and annotation PATCHes per pod, for this build and — in the same cluster, on the same pods,
 * runs alternating — a baseline build of the agent (`--baseline-cli`, e.g. main before the change).
 * Each run is one service-rollout run (a new Service selecting N pods on one node); CPU is the
 * agent process's own user+system time from Service creation until its queue drained after every
 * node port answered. With `--cpu-prof DIR` both agents run under `node --cpu-prof` and the result
 * carries each profile's self time by module.
 *
 * Run as root: `node dist-bench/bench/rollout-cost.js --baseline-cli /path/to/old/packages/agent/dist/cli.js [--pods 500] [--runs 3] [--cpu-prof DIR]`.
 * Writes docs/benchmarks/results/agent.rollout-cost.json (unless --no-write).
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { agentCli, agentNodeArgs } from '@npl/cluster';
import type { Figure, ResultHeader, Table } from '@npl/benchkit';
import { beginRun, median, validateHeader, writeResult } from '@npl/benchkit';
import type { RolloutRow, RolloutVariant } from './service-rollout.js';
import { rolloutTable, runRolloutBench, THIS_BUILD } from './service-rollout.js';
import { clusterBenchAgentArgs, clusterBenchOptions, runAsScript } from './cluster-setup.js';
import type { ProfileSummary } from './cpu-profile.js';
import { profileTables, summarizeProfileDir } from './cpu-profile.js';
import { figure } from './figure.js';

const HELP = `Usage: node dist-bench/bench/rollout-cost.js [options]   (as root)

Agent cost of a new NPL-enabled Service selecting N pods on one node: CPU, reconciles and PATCHes
per pod, this build against --baseline-cli in the same cluster (runs alternate).

  --baseline-cli PATH  cli.js of the agent build to compare with (omit: this build only)
  --baseline-name S    its name in the tables (default "baseline")
  --cpu-prof DIR       run both agents under node --cpu-prof, profiles in DIR/<build>/, summarised
  --pods N             pods on the node (default 500)
  --runs R             runs per build (default 3)
  --agent-args="..."   extra npl-agent flags for both builds
  --name NAME          local cluster name (default nplbench5)
  --no-write           do not write docs/benchmarks/results/agent.rollout-cost.json
  --help               this text
`;

function variantDir(root: string, name: string): string {
  return path.join(root, name.replace(/[^a-z0-9]+/gi, '-'));
}

function variants(values: { 'baseline-cli'?: string; 'baseline-name': string; 'cpu-prof'?: string }): RolloutVariant[] {
  const prof = values['cpu-prof'];
  const withProf = (v: RolloutVariant): RolloutVariant => {
    if (!prof) return v;
    const dir = variantDir(prof, v.name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    return { ...v, build: { ...v.build, nodeArgs: [...agentNodeArgs(v.build.cli ?? agentCli()), '--cpu-prof', `--cpu-prof-dir=${dir}`] } };
  };
  const base = values['baseline-cli'] ? [withProf({ name: values['baseline-name'], build: { cli: values['baseline-cli'] } })] : [];
  return [...base, withProf(THIS_BUILD)];
}

function costFigures(rows: readonly RolloutRow[], baselineName: string | undefined, pods: number): Figure[] {
  const of = (v: string | undefined, f: (r: RolloutRow) => number): number[] => rows.filter((r) => r.variant === v).map(f);
  const mk = (name: string, unit: string, f: (r: RolloutRow) => number, goal?: Figure['goal']): Figure => {
    const base = baselineName ? of(baselineName, f) : [];
    const runs = of(THIS_BUILD.name, f);
    return figure({ name, unit, runs, ...(goal ? { goal } : {}), ...(base.length ? { baseline: { name: baselineName!, median: median(base), runs: base } } : {}) });
  };
  return [
    // The goals against Antrea's own NPL (time, CPU per pod) are judged in agent.antrea-compare, where
    // Antrea runs side by side in the same run; this benchmark compares two builds of ours.
    mk(`agent CPU per pod, ${pods} pods`, 'ms', (r) => r.cpuPerPodMs),
    mk('reconciles per pod', 'count', (r) => r.reconcilesPerPod, { op: '<=', value: 1 }),
    mk('annotation PATCHes per pod', 'count', (r) => r.patchesPerPod, { op: '<=', value: 1 }),
    mk(`annotated, ${pods} pods`, 's', (r) => r.annotatedS),
  ];
}

function rowsTable(rows: readonly RolloutRow[]): Table {
  return {
    title: 'Every run',
    columns: ['run', 'build', 'annotated (s)', 'reachable (s)', 'agent CPU (s)', 'CPU per pod (ms)', 'nft children CPU (s)', 'apiserver CPU until annotated (s)', 'reconciles', 'PATCHes', 'mean reconcile (ms)'],
    rows: rows.map((r) => [
      r.run,
      r.variant,
      round(r.annotatedS, 2),
      round(r.reachableS, 2),
      round(r.agentCpuS, 2),
      round(r.cpuPerPodMs, 2),
      round(r.cpuS.agentChildren ?? Number.NaN, 2),
      round(r.cpuS.apiserver ?? Number.NaN, 2),
      r.reconciles,
      r.patches,
      round(r.reconcileMeanMs, 2),
    ]),
  };
}

function profileTablesOf(name: string, s: ProfileSummary): Table[] {
  return [
    { title: `CPU profile of ${name}, self time by module (${(s.totalMs / 1000).toFixed(2)} s sampled over the agent's life, idle excluded)`, columns: ['group', 'self ms', 'share %'], rows: s.groups.map((g) => [...g]) },
    { title: `CPU profile of ${name}, top functions by self time`, columns: ['function', 'group', 'self ms', 'share %'], rows: s.top.map((t) => [...t]) },
  ];
}

const NOTES = [
  'Where the time went in main at 610fd14 (issue 11), from the CPU profiles: most of the agent\'s CPU was not its own logic but HTTP —',
  '`@kubernetes/client-node` 2.0.1 builds a new undici dispatcher for every request, so each annotation PATCH opened a new TLS',
  'connection (SecureContext, handshake, certificate checks, socket writes), and each Pod was reconciled twice (the watch echo of its own PATCH).',
  'The fixes, in order of effect: one shared keep-alive dispatcher per connection configuration (`reuseConnections`, `packages/runtime/src/connection-reuse.ts`);',
  'skipping Pod updates that change nothing a reconcile reads when the annotation is the one the last reconcile settled (`src/pod-echo.ts`;',
  'a user edit of the annotation still reconciles and is corrected); the PATCH response (a whole Pod) no longer deserialized;',
  'asynchronous log writes; the nftables model copied per batch without re-parsing every pod IP; reconciles reading only the opted-in',
  "Services of the Pod's namespace. What remains is mostly Node's own stream and socket work (the nft session pipe, the API connection),",
  "client-node's watch parsing, logging and GC. V8 samples count time spent blocked in a synchronous write as that function's self time.",
].join(' ');

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

interface CostHeaderInput {
  readonly pods: number;
  readonly runs: string;
  readonly baselineName: string | undefined;
  readonly cpuProf: string | undefined;
  readonly agentArgs: readonly string[];
}

/** The part of the result known before the run, checked at its start. */
function costHeader({ pods, runs, baselineName, cpuProf, agentArgs }: CostHeaderInput): ResultHeader {
  return {
    id: 'agent.rollout-cost',
    title: `What each pod of a Service roll-out costs npl-agent (${pods} pods on one node)`,
    order: 31,
    section: 'npl-agent',
    command: `node packages/agent/dist-bench/bench/rollout-cost.js --pods ${pods} --runs ${runs}${baselineName ? ` --baseline-cli <old build>/packages/agent/dist/cli.js --baseline-name "${baselineName}"` : ''}${cpuProf ? ' --cpu-prof /tmp/npl-prof' : ''}${agentArgs.length ? ` --agent-args="${agentArgs.join(' ')}"` : ''}`,
    description: [
      `A new NodePortLocal Service selecting ${pods} Running pods on one node of the local cluster (set-up not timed), as in the service-rollout benchmark,`,
      `at the agent's default API limits (50 requests/s, burst 100).`,
      `**CPU per pod**: the agent process's own user+system time (/proc/<pid>/stat) from Service creation until its work queue drained after every node port answered, divided by the pods (its nft children are counted apart).`,
      `**Reconciles and PATCHes per pod**: deltas of npl_agent_pod_reconcile_duration_seconds_count and npl_agent_annotation_patches_total over the same span.`,
      baselineName ? `The baseline (${baselineName}) runs in the same cluster on the same pods; the two agents alternate, one run each per round.` : '',
      cpuProf ? 'Both agents ran under `node --cpu-prof` (a few % slower); the tables split their sampled self time by module.' : '',
    ]
      .filter(Boolean)
      .join(' '),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...clusterBenchOptions({ name: 'nplbench5', parallel: '25' }),
      'baseline-cli': { type: 'string' },
      'baseline-name': { type: 'string', default: 'baseline' },
      'cpu-prof': { type: 'string' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const agentArgs = clusterBenchAgentArgs('rollout-cost', HELP, values);
  if (!agentArgs) return;
  const run = beginRun();
  const pods = Number(values.pods);
  const baselineName = values['baseline-cli'] ? values['baseline-name'] : undefined;
  const header = validateHeader(costHeader({ pods, runs: values.runs, baselineName, cpuProf: values['cpu-prof'], agentArgs }));
  const vs = variants(values);
  const rows = await runRolloutBench({ pods, runs: Number(values.runs), agentArgs, name: values.name, parallel: Number(values.parallel), variants: vs });
  const profiles: [string, ProfileSummary][] = values['cpu-prof'] ? vs.map((v) => [v.name, summarizeProfileDir(variantDir(values['cpu-prof']!, v.name))]) : [];
  const out = [`agent flags: ${agentArgs.join(' ') || '(defaults)'}`, ...vs.map((v) => rolloutTable(rows.filter((r) => r.variant === v.name)))];
  for (const [name, s] of profiles) out.push(profileTables(`CPU profile of ${name}`, s));
  process.stdout.write(`${out.join('\n\n')}\n`);
  if (values['no-write']) return;
  writeResult({
    ...run.finish(),
    ...header,
    figures: costFigures(rows, baselineName, pods),
    tables: [rowsTable(rows), ...profiles.flatMap(([name, s]) => profileTablesOf(name, s))],
    notes: NOTES,
  });
}

runAsScript(import.meta.url, main);
