/**
 * Issue 11: Antrea's own NodePortLocal controller (built from its source by bench/antrea-npl/build.sh)
 * side by side with npl-agent, at equal API client limits, on the same 1-node local cluster with N
 * pods. One run measures both agents at every limit setting (default: the issue's QPS 50 / burst 100,
 * and QPS 1000 / burst 2000, where the limiter is not the bottleneck of either: the burst covers
 * every PATCH of N <= 2000 pods).
 *
 * Set-up (not timed): the cluster and N Running pods (cluster-setup.ts), then our agent is stopped.
 * Each measurement starts ONE agent in the node's namespace as the npl-agent ServiceAccount with the
 * setting's limits — Antrea's controller (--qps/--burst: client-go's token bucket, which every request
 * of its clientset takes a token from) or npl-agent (--api-qps/--api-burst: its GCRA bucket, which
 * the annotation PATCHes take a token from; its informer LIST/WATCHes and Events take none) — waits
 * until it has synced (Antrea: its "Will fetch Pods" log line, after the cache sync; ours: /readyz)
 * plus SETTLE_MS so both start with a full token bucket, opens a pod watch, then creates the Service
 * (t0) and measures from the watch: the first and the last pod whose annotation became complete; then
 * every node port answering the right pod name from the outside namespace; the agent's CPU seconds
 * from t0 until all were annotated (/proc/<pid>/stat: its own, and that of its helper processes —
 * the iptables runs Antrea waits for, and npl-agent's long-lived `nft -i` session); the API server's
 * CPU over the same span; for ours, reconciles and annotation PATCHes from its /metrics. Then the
 * Service is deleted, all annotations are awaited gone, the agent is stopped and Antrea's iptables
 * chain is removed. Per run and setting the two agents go back to back; which goes first alternates.
 *
 * The annotations written by the two are compared pod by pod (byte-identical, and field by field).
 *
 * Run as root: `node dist-bench/bench/antrea-compare.js [--pods 500] [--runs 3] [--limits 50/100,1000/2000] [--cpu-prof DIR] [--antrea-bin PATH]`.
 * Without --antrea-bin (or $ANTREA_NPL) it runs bench/antrea-npl/build.sh (cached after the first build).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { Watch } from '@kubernetes/client-node';
import type { BenchResult, Figure, Goal, Table } from '@npl/benchkit';
import { beginRun, median, writeResult } from '@npl/benchkit';
import type { Cluster } from '@npl/cluster';
import { AGENT_IDENTITY, agentCli, agentNodeArgs, serviceAccountKubeconfig } from '@npl/cluster';
import { isCompleteNplEntry, NPL_ANNOTATION_KEY, parseNplAnnotation } from '@npl/core';
import type { BenchEnv, ReconcileStats } from './cluster-setup.js';
import {
  agentMetrics,
  APP_LABEL,
  checkAllReachable,
  clusterBenchAgentArgs,
  clusterPids,
  cpuSeconds,
  createBenchService,
  DEFAULT_AGENT_ARGS,
  deleteBenchServiceAndWait,
  fmt,
  log,
  metricSum,
  reconcileStats,
  runAsScript,
  splitArgs,
  statsDelta,
  withBenchEnv,
} from './cluster-setup.js';
import type { ProfileSummary } from './cpu-profile.js';
import { summarizeProfileDir } from './cpu-profile.js';
import { core, NS } from '../e2e/harness.js';

const HELP = `Usage: node dist-bench/bench/antrea-compare.js [options]   (as root)

Antrea's own NodePortLocal controller against npl-agent, one at a time on the same 1-node local
cluster, at each of the given API client limits (both agents the same): time until N pods are
annotated and reachable from the outside namespace, the agents' CPU seconds, and for npl-agent its
reconciles and PATCHes per pod. Writes docs/benchmarks/results/agent.antrea-compare.json.

  --pods N            pods on the node (default 500)
  --runs R            runs of EACH agent at each setting (default 3)
  --limits LIST       comma-separated QPS/BURST settings (default "50/100,1000/2000")
  --variant-args="..." after each pair, npl-agent once more with these extra flags (e.g.
                      "--workers 16"; in the tables, not the figures)
  --cpu-prof DIR      after the measured runs, one more npl-agent run per setting under node
                      --cpu-prof (profiles in DIR/<setting>/, summarised in the result; not in figures)
  --antrea-bin PATH   Antrea's NPL binary (default $ANTREA_NPL, else bench/antrea-npl/build.sh builds it)
  --agent-args="..." extra npl-agent flags (default "${DEFAULT_AGENT_ARGS}")
  --name NAME         local cluster name (default nplbench11)
  --parallel P        connections in flight of the outside client (default 25)
  --no-write          print only; do not write the result file
  --help              this text
`;

/** API client limits, the same for both agents in one measurement. */
export interface Limits {
  readonly qps: number;
  readonly burst: number;
}

/** The issue's limits (npl-agent's defaults, and the kubelet's), and limits that bind neither agent. */
export const DEFAULT_LIMITS = '50/100,1000/2000';

/** Parses "50/100,1000/2000" into limit settings; throws naming the bad item. */
export function parseLimits(text: string): Limits[] {
  return text.split(',').map((item) => {
    const m = /^\s*(\d+(?:\.\d+)?)\/(\d+)\s*$/.exec(item);
    if (!m || Number(m[1]) <= 0 || Number(m[2]) < 1) throw new Error(`--limits: "${item}" is not QPS/BURST with QPS > 0 and BURST >= 1 (e.g. 50/100)`);
    return { qps: Number(m[1]), burst: Number(m[2]) };
  });
}

export const limitsLabel = (l: Limits): string => `QPS ${l.qps} / burst ${l.burst}`;

/**
 * The least time from the first token taken to the last of `writes` requests under a token bucket
 * that starts full: `burst` go at once, each further one 1/qps later (client-go's and ours alike).
 */
export function limiterFloorS(writes: number, l: Limits): number {
  return Math.max(0, writes - l.burst) / l.qps;
}

/** Pause after an agent is ready, before the Service is created: a full token bucket (burst/qps <= 2 s here) for both. */
const SETTLE_MS = 3_000;
/** The chain Antrea's NPL installs in the nat table (v2.x), jumped to from PREROUTING and OUTPUT. */
const ANTREA_CHAIN = 'ANTREA-NODE-PORT-LOCAL';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
/** packages/agent, from either bench/ (ts) or dist-bench/bench/ (js). */
const packageDir = path.basename(path.dirname(benchDir)) === 'dist-bench' ? path.resolve(benchDir, '..', '..') : path.resolve(benchDir, '..');

/** antrea, npl-agent with the bench's flags, and npl-agent with --variant-args on top (tables only). */
export type Which = 'antrea' | 'ours' | 'variant';

export interface CompareRow {
  readonly which: Which;
  readonly limits: Limits;
  readonly run: number;
  /** 1 when this agent went first in its run's pair at this setting, 2 when second. */
  readonly position: number;
  /** From Service creation until the watch saw the first pod's complete annotation. */
  readonly firstS: number;
  /** ... until the watch had seen every pod's complete annotation. */
  readonly annotatedS: number;
  readonly reachableS: number;
  /**
   * Agent CPU seconds from Service creation until all pods were annotated: its own, and its helper
   * processes' (Antrea: the iptables runs it waited for; ours: the live `nft -i` session and any
   * reaped children).
   */
  readonly cpuSelfS: number;
  readonly cpuChildrenS: number;
  /** kube-apiserver CPU seconds over the same span. */
  readonly apiserverS: number;
  /** npl-agent only, from its /metrics, Service creation until every port answered. */
  readonly ours?: ReconcileStats & { readonly updatesSkipped: number };
  readonly uniquePorts: number;
  /** Pod name → the raw annotation text when all were annotated. */
  readonly annotations: ReadonlyMap<string, string>;
}

/** The Antrea NPL binary: --antrea-bin, $ANTREA_NPL, or built (once, cached) by build.sh. */
export function antreaBinary(given?: string): string {
  const explicit = given ?? process.env.ANTREA_NPL;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`Antrea NPL binary ${explicit} does not exist (from --antrea-bin or $ANTREA_NPL)`);
    return explicit;
  }
  const script = path.join(packageDir, 'bench', 'antrea-npl', 'build.sh');
  log(`building (or locating) Antrea's NPL with ${script}`);
  const out = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const line = out.split('\n').find((l) => l.startsWith('ANTREA_NPL='));
  if (!line) throw new Error(`${script} printed no ANTREA_NPL= line`);
  return line.slice('ANTREA_NPL='.length);
}

/** The Antrea release the binary was built from, from its cache dir name (antrea-npl-<tag>-<stamp>). */
export function antreaVersion(bin: string): string {
  return /antrea-npl-(v[\d.]+)-/.exec(bin)?.[1] ?? 'unknown version';
}

interface RunningAgent {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

async function startAntrea(env: BenchEnv, limits: Limits, antrea: AntreaSide): Promise<RunningAgent> {
  const { bin, kubeconfig, logFile } = antrea;
  const fd = openSync(logFile, 'a');
  const child = spawn(
    'ip',
    ['netns', 'exec', env.node.netns, bin, '--kubeconfig', kubeconfig, '--node-name', env.node.name, '--qps', String(limits.qps), '--burst', String(limits.burst), '--logtostderr', '-v=0'],
    { stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const start = readFileSync(logFile).length;
  const deadline = performance.now() + 60_000;
  // Ready when the controller has synced its informers and restored its rules (the line comes after both).
  while (!readFileSync(logFile).subarray(start).toString('utf8').includes('Will fetch Pods and generate NodePortLocal rules')) {
    if (child.exitCode !== null) throw new Error(`Antrea NPL exited with ${child.exitCode} before it was ready; see ${logFile}`);
    if (performance.now() > deadline) throw new Error(`Antrea NPL not ready within 60 s; see ${logFile}`);
    await sleep(100);
  }
  return { child, exited };
}

async function stopProcess(agent: RunningAgent): Promise<void> {
  if (agent.child.exitCode === null && agent.child.signalCode === null) {
    agent.child.kill('SIGTERM');
    await agent.exited;
  }
}

/** Removes Antrea's NPL chain and the jumps to it from the node's nat table (Antrea leaves them on exit). */
async function removeAntreaRules(env: BenchEnv): Promise<void> {
  const ns = env.node.netns;
  for (const hook of ['PREROUTING', 'OUTPUT']) {
    const rules = (await env.cluster.exec(ns, ['iptables', '-t', 'nat', '-S', hook]).catch(() => '')).split('\n');
    for (const rule of rules.filter((r) => r.includes(`-j ${ANTREA_CHAIN}`))) {
      await env.cluster.exec(ns, ['iptables', '-t', 'nat', ...rule.replace(/^-A /, '-D ').split(' ')]);
    }
  }
  const chains = await env.cluster.exec(ns, ['iptables', '-t', 'nat', '-S']).catch(() => '');
  if (chains.includes(`-N ${ANTREA_CHAIN}`)) {
    await env.cluster.exec(ns, ['iptables', '-t', 'nat', '-F', ANTREA_CHAIN]);
    await env.cluster.exec(ns, ['iptables', '-t', 'nat', '-X', ANTREA_CHAIN]);
  }
}

/** Pod name → raw annotation text (pods without one are absent), from one LIST. */
async function rawAnnotations(env: BenchEnv): Promise<Map<string, string>> {
  const list = await core(env.cluster).listNamespacedPod({ namespace: NS, labelSelector: `app=${APP_LABEL.app}` });
  const out = new Map<string, string>();
  for (const p of list.items) {
    const text = p.metadata?.annotations?.[NPL_ANNOTATION_KEY];
    if (text !== undefined) out.set(p.metadata!.name!, text);
  }
  return out;
}

interface AntreaSide {
  readonly bin: string;
  readonly kubeconfig: string;
  readonly logFile: string;
  /** npl-agent flags of the 'variant' runs. */
  readonly variantArgs: readonly string[];
}

async function startAgent(env: BenchEnv, which: Which, limits: Limits, antrea: AntreaSide): Promise<RunningAgent> {
  if (which === 'antrea') return startAntrea(env, limits, antrea);
  const extra = which === 'variant' ? antrea.variantArgs : [];
  const agent = await env.fleet.start(env.node, ['--api-qps', String(limits.qps), '--api-burst', String(limits.burst), ...extra]);
  await env.fleet.waitReady();
  return { child: agent.child, exited: agent.exited.then(() => undefined) };
}

const hasCompleteAnnotation = (pod: V1Pod): boolean => {
  const text = pod.metadata?.annotations?.[NPL_ANNOTATION_KEY];
  return text !== undefined && parseNplAnnotation(text).some(isCompleteNplEntry);
};

export interface AnnotationWatch {
  /** Resolves when every one of `pods` pods was seen annotated: performance.now() of the first and the last. */
  readonly done: Promise<{ first: number; last: number }>;
  stop(): void;
}

/**
 * Watches the bench pods from the resourceVersion of a LIST in which none is annotated (so no
 * initial ADDED events) and stamps each pod's first complete annotation as the event arrives.
 */
export async function watchAnnotations(cluster: Cluster, pods: number, timeoutMs: number): Promise<AnnotationWatch> {
  const list = await core(cluster).listNamespacedPod({ namespace: NS, labelSelector: `app=${APP_LABEL.app}` });
  const already = list.items.filter(hasCompleteAnnotation).length;
  if (already) throw new Error(`${already} bench pods are still annotated before the Service exists`);
  const seen = new Map<string, number>();
  let stopped = false;
  let settle!: (v: { first: number; last: number }) => void;
  let fail!: (err: Error) => void;
  const done = new Promise<{ first: number; last: number }>((resolve, reject) => ((settle = resolve), (fail = reject)));
  const timer = setTimeout(() => fail(new Error(`only ${seen.size}/${pods} pods annotated within ${timeoutMs} ms`)), timeoutMs);
  const ctl = await new Watch(cluster.kubeConfig).watch(
    `/api/v1/namespaces/${NS}/pods`,
    { labelSelector: `app=${APP_LABEL.app}`, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: false },
    (type: string, pod: V1Pod) => {
      const name = pod.metadata?.name;
      if (!name || seen.has(name) || type === 'DELETED' || !hasCompleteAnnotation(pod)) return;
      seen.set(name, performance.now());
      if (seen.size === pods) settle({ first: Math.min(...seen.values()), last: Math.max(...seen.values()) });
    },
    (err: unknown) => {
      if (!stopped && seen.size < pods) fail(new Error(`pod watch ended after ${seen.size}/${pods} annotated: ${String(err)}`));
    },
  );
  return {
    done: done.finally(() => clearTimeout(timer)),
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      ctl.abort();
    },
  };
}

const apiserverCpu = (env: BenchEnv): number => {
  const pid = clusterPids(env).apiserver;
  return pid ? cpuSeconds(pid).self : 0;
};

async function oursCounters(env: BenchEnv): Promise<ReconcileStats & { updatesSkipped: number }> {
  const m = await agentMetrics(env.node);
  return { ...reconcileStats(m), updatesSkipped: metricSum(m, 'npl_agent_pod_updates_skipped_total') };
}

interface RunSpec {
  readonly which: Which;
  readonly limits: Limits;
  readonly run: number;
  readonly position: number;
}

async function oneRun(env: BenchEnv, spec: RunSpec, parallel: number, antrea: AntreaSide): Promise<CompareRow> {
  const { cluster, node, pods } = env;
  const { which } = spec;
  const agent = await startAgent(env, which, spec.limits, antrea);
  try {
    await sleep(SETTLE_MS);
    const pid = agent.child.pid!;
    const watch = await watchAnnotations(cluster, pods.length, 300_000);
    const before = which === 'antrea' ? undefined : await oursCounters(env);
    const cpu0 = treeCpu(pid);
    const api0 = apiserverCpu(env);
    const t0 = performance.now();
    let annotated: { first: number; last: number };
    try {
      await createBenchService(cluster);
      annotated = await watch.done;
    } finally {
      watch.stop();
    }
    const cpu1 = treeCpu(pid);
    const api1 = apiserverCpu(env);
    const annotations = await rawAnnotations(env);
    const pairs = [...annotations].map(([name, text]) => [parseNplAnnotation(text).filter(isCompleteNplEntry)[0]!.nodePort, name] as [number, string]);
    const check = await checkAllReachable(cluster.outsideNetns, node.ip, pairs, parallel);
    const reachableS = (performance.now() - t0) / 1000;
    if (!check.ok) throw new Error(`${which}: not all node ports answered within the client's deadline: ${JSON.stringify(check.failed)}`);
    const after = before ? await oursCounters(env) : undefined;
    const row: CompareRow = {
      ...spec,
      firstS: round3((annotated.first - t0) / 1000),
      annotatedS: round3((annotated.last - t0) / 1000),
      reachableS: round3(reachableS),
      cpuSelfS: round2(cpu1.self - cpu0.self),
      cpuChildrenS: round2(cpu1.children - cpu0.children),
      apiserverS: round2(api1 - api0),
      ...(before && after ? { ours: { ...statsDelta(after, before), updatesSkipped: after.updatesSkipped - before.updatesSkipped } } : {}),
      uniquePorts: new Set(pairs.map(([p]) => p)).size,
      annotations,
    };
    log(
      `  ${which} at ${limitsLabel(spec.limits)}: first ${fmt(row.firstS)} s, all annotated ${fmt(row.annotatedS)} s, reachable ${fmt(row.reachableS)} s, ` +
        `CPU ${fmt(row.cpuSelfS)} s + children ${fmt(row.cpuChildrenS)} s, apiserver ${fmt(row.apiserverS)} s` +
        (row.ours ? `, reconciles ${row.ours.reconciles}, PATCHes ${row.ours.patches}` : ''),
    );
    log(`  deleting the Service, waiting until all annotations are gone`);
    await deleteBenchServiceAndWait(cluster);
    return row;
  } finally {
    await stopProcess(agent);
    if (which === 'antrea') await removeAntreaRules(env);
  }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const round2 = (x: number): number => Math.round(x * 100) / 100;

/** utime, stime, cutime, cstime (clock ticks of 1/100 s) and ppid of every process, from /proc. */
function procTable(): Map<number, { ppid: number; self: number; reaped: number }> {
  const out = new Map<number, { ppid: number; self: number; reaped: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
      out.set(Number(name), { ppid: Number(f[1]), self: (Number(f[11]) + Number(f[12])) / 100, reaped: (Number(f[13]) + Number(f[14])) / 100 });
    } catch {
      // exited while listing
    }
  }
  return out;
}

/**
 * CPU seconds of `pid` itself, and of its helpers: the children it has reaped plus every live
 * descendant (with what they reaped). A helper that exits and is reaped between two readings moves
 * from the live part to the reaped part, so differences stay right.
 */
export function treeCpu(pid: number): { self: number; children: number } {
  const table = procTable();
  const root = table.get(pid);
  if (!root) return { self: 0, children: 0 };
  let children = root.reaped;
  const stack = [pid];
  while (stack.length) {
    const parent = stack.pop()!;
    for (const [p, e] of table) {
      if (e.ppid !== parent) continue;
      children += e.self + e.reaped;
      stack.push(p);
    }
  }
  return { self: root.self, children };
}

export interface CompatReport {
  readonly pods: number;
  /** Pods whose annotation text is byte-identical between the two agents' runs. */
  readonly identicalBytes: number;
  /** Pods whose entries agree on every field but nodePort, and on the field order (ipFamily aside). */
  readonly sameButNodePort: number;
  /** Fields present in one agent's entries but not the other's (e.g. ipFamily, added in Antrea v2.6). */
  readonly onlyAntrea: readonly string[];
  readonly onlyOurs: readonly string[];
  /** Same set of node ports used across all pods. */
  readonly samePortSet: boolean;
  readonly example: { pod: string; antrea: string; ours: string } | undefined;
}

/** Compares the annotations the two agents wrote for the same pods. */
export function compareAnnotations(antrea: ReadonlyMap<string, string>, ours: ReadonlyMap<string, string>): CompatReport {
  let identicalBytes = 0;
  let sameButNodePort = 0;
  const keysA = new Set<string>();
  const keysB = new Set<string>();
  const portsA: number[] = [];
  const portsB: number[] = [];
  let example: CompatReport['example'];
  for (const [pod, a] of antrea) {
    const b = ours.get(pod);
    if (b === undefined) continue;
    example ??= { pod, antrea: a, ours: b };
    if (a === b) identicalBytes++;
    const ea = JSON.parse(a) as Record<string, unknown>[];
    const eb = JSON.parse(b) as Record<string, unknown>[];
    for (const e of ea) Object.keys(e).forEach((k) => keysA.add(k));
    for (const e of eb) Object.keys(e).forEach((k) => keysB.add(k));
    portsA.push(...ea.map((e) => Number(e.nodePort)));
    portsB.push(...eb.map((e) => Number(e.nodePort)));
    const common = (e: Record<string, unknown>, other: Set<string>): string =>
      JSON.stringify(Object.entries(e).filter(([k]) => k !== 'nodePort' && other.has(k)));
    const keysOfA = new Set(ea.flatMap((e) => Object.keys(e)));
    const keysOfB = new Set(eb.flatMap((e) => Object.keys(e)));
    if (ea.length === eb.length && ea.every((e, i) => common(e, keysOfB) === common(eb[i]!, keysOfA))) sameButNodePort++;
  }
  const sorted = (xs: number[]): string => JSON.stringify([...xs].sort((x, y) => x - y));
  return {
    pods: antrea.size,
    identicalBytes,
    sameButNodePort,
    onlyAntrea: [...keysA].filter((k) => !keysB.has(k)),
    onlyOurs: [...keysB].filter((k) => !keysA.has(k)),
    samePortSet: sorted(portsA) === sorted(portsB),
    example,
  };
}

export interface CompareOptions {
  readonly pods: number;
  readonly runs: number;
  readonly limits: readonly Limits[];
  readonly agentArgs: readonly string[];
  readonly name: string;
  readonly parallel: number;
  readonly antreaBin: string;
  /** When non-empty: after each pair, npl-agent once more with these flags too (in the tables, not the figures). */
  readonly variantArgs?: readonly string[];
  /** When set: one more npl-agent run per setting under node --cpu-prof, profiles under this dir. */
  readonly cpuProfDir?: string;
}

export interface CompareOutcome {
  readonly rows: CompareRow[];
  /** Setting label → the profile of npl-agent's extra run at that setting. */
  readonly profiles: Map<string, ProfileSummary>;
}

/** Which agent goes first in run `run` (1-based) at setting `s` (0-based): alternates over both. */
export function pairOrder(run: number, s: number): [Which, Which] {
  return (run + s) % 2 === 1 ? ['antrea', 'ours'] : ['ours', 'antrea'];
}

/** Runs both agents at every setting, `runs` times each, on one cluster. */
export function runCompareBench(opts: CompareOptions): Promise<CompareOutcome> {
  return withBenchEnv(opts, async (env) => {
    await env.fleet.stopAll();
    const kubeconfig = await serviceAccountKubeconfig(env.cluster, AGENT_IDENTITY);
    const logFile = path.join(os.tmpdir(), `${opts.name}-antrea-npl.log`);
    writeFileSync(logFile, '');
    log(`Antrea NPL log: ${logFile}`);
    const variantArgs = opts.variantArgs ?? [];
    const antrea = { bin: opts.antreaBin, kubeconfig, logFile, variantArgs };
    const rows: CompareRow[] = [];
    for (let run = 1; run <= opts.runs; run++) {
      for (const [s, limits] of opts.limits.entries()) {
        const order: Which[] = [...pairOrder(run, s), ...(variantArgs.length ? (['variant'] as const) : [])];
        for (const [i, which] of order.entries()) {
          log(`run ${run}/${opts.runs}, ${limitsLabel(limits)}, ${which === 'variant' ? `ours ${variantArgs.join(' ')}` : which}: creating Service selecting ${opts.pods} pods`);
          rows.push(await oneRun(env, { which, limits, run, position: i + 1 }, opts.parallel, antrea));
        }
      }
    }
    const profiles = new Map<string, ProfileSummary>();
    if (opts.cpuProfDir) {
      for (const limits of opts.limits) {
        const dir = path.join(opts.cpuProfDir, `qps${limits.qps}-burst${limits.burst}`);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        const plain = env.fleet.build;
        env.fleet.build = { ...plain, nodeArgs: [...agentNodeArgs(plain.cli ?? agentCli()), '--cpu-prof', `--cpu-prof-dir=${dir}`] };
        log(`profiled run of npl-agent at ${limitsLabel(limits)} (not in the figures), profile in ${dir}`);
        try {
          await oneRun(env, { which: 'ours', limits, run: 0, position: 0 }, opts.parallel, antrea);
        } finally {
          env.fleet.build = plain;
        }
        profiles.set(limitsLabel(limits), summarizeProfileDir(dir));
      }
    }
    return { rows, profiles };
  });
}

const perPodMs = (s: number, pods: number): number => round3((s / pods) * 1000);
const totalCpu = (r: CompareRow): number => round2(r.cpuSelfS + r.cpuChildrenS);

export function compareTable(rows: readonly CompareRow[]): string {
  const lines = [
    '| setting | agent | run | first (s) | annotated (s) | reachable (s) | CPU s: self + children | CPU ms per pod | apiserver CPU (s) | reconciles / PATCHes |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const pods = r.annotations.size || 1;
    lines.push(
      `| ${limitsLabel(r.limits)} | ${r.which} | ${r.run}.${r.position} | ${fmt(r.firstS)} | ${fmt(r.annotatedS)} | ${fmt(r.reachableS)} | ${fmt(r.cpuSelfS)} + ${fmt(r.cpuChildrenS)} | ${fmt(perPodMs(totalCpu(r), pods))} | ${fmt(r.apiserverS)} | ${r.ours ? `${r.ours.reconciles} / ${r.ours.patches}` : '–'} |`,
    );
  }
  return lines.join('\n');
}

/** One contract figure of ours, with Antrea measured in the same run as its baseline when given. */
function figure(name: string, unit: string, ours: number[], antrea?: { name: string; runs: number[] }, goal?: Goal): Figure {
  const m = median(ours);
  const base = antrea ? { baseline: { name: antrea.name, median: median(antrea.runs), runs: antrea.runs }, ratio: round3(m / median(antrea.runs)) } : {};
  return { name, unit, median: m, runs: ours, ...base, ...(goal ? { goal } : {}) };
}

/** The figures of one limit setting. */
function settingFigures(rows: readonly CompareRow[], limits: Limits, pods: number, baselineName: string): Figure[] {
  const at = rows.filter((r) => r.limits === limits);
  const of = (w: Which, f: (r: CompareRow) => number): number[] => at.filter((r) => r.which === w).map(f);
  const both = (f: (r: CompareRow) => number): [number[], { name: string; runs: number[] }] => [of('ours', f), { name: baselineName, runs: of('antrea', f) }];
  const perPod = (r: CompareRow): number => perPodMs(totalCpu(r), pods);
  const tag = `${pods} pods, ${limitsLabel(limits)}`;
  const oursStat = (f: (o: NonNullable<CompareRow['ours']>) => number): number[] => of('ours', (r) => round3(f(r.ours!) / pods));
  return [
    figure(`annotated, ${tag}`, 's', ...both((r) => r.annotatedS), { op: '<', value: median(of('antrea', (r) => r.annotatedS)), text: 'faster than Antrea at equal API limits' }),
    figure(`reachable from outside, ${tag}`, 's', ...both((r) => r.reachableS)),
    figure(`agent CPU until annotated, with its iptables/nft processes, ${tag}`, 's', ...both(totalCpu)),
    figure(`agent CPU per pod, with its iptables/nft processes, ${tag}`, 'ms', ...both(perPod), {
      op: '<=',
      value: round3(2 * median(of('antrea', perPod))),
      text: "within 2x Antrea's CPU per pod",
    }),
    figure(`agent process alone (without helper processes) until annotated, ${tag}`, 's', ...both((r) => r.cpuSelfS)),
    figure(`npl-agent reconciles per pod, ${tag}`, 'count', oursStat((o) => o.reconciles)),
    figure(`npl-agent annotation PATCHes per pod, ${tag}`, 'count', oursStat((o) => o.patches)),
  ];
}

/** The name of an agent in the tables. */
function agentName(which: Which, baselineName: string, variantArgs: readonly string[]): string {
  if (which === 'antrea') return baselineName;
  return which === 'ours' ? 'npl-agent' : `npl-agent ${variantArgs.join(' ')}`;
}

function runsTable(rows: readonly CompareRow[], pods: number, name: (w: Which) => string): Table {
  return {
    title: 'Every run (run.position: position 1 went first in its pair)',
    columns: [
      'setting',
      'agent',
      'run',
      'first annotated (s)',
      'all annotated (s)',
      'reachable (s)',
      'CPU agent process (s)',
      'CPU helper processes (s)',
      'CPU per pod, all (ms)',
      'apiserver CPU (s)',
      'reconciles',
      'PATCHes',
      'unique node ports',
    ],
    rows: rows.map((r) => [
      limitsLabel(r.limits),
      name(r.which),
      `${r.run}.${r.position}`,
      r.firstS,
      r.annotatedS,
      r.reachableS,
      r.cpuSelfS,
      r.cpuChildrenS,
      perPodMs(totalCpu(r), pods),
      r.apiserverS,
      r.ours?.reconciles ?? '–',
      r.ours?.patches ?? '–',
      r.uniquePorts,
    ]),
  };
}

/** Per setting: the limiter's floor for `pods` PATCHes, and each agent's medians of first, last and last − first. */
function floorTable(rows: readonly CompareRow[], limits: readonly Limits[], pods: number, name: (w: Which) => string): Table {
  const out: (string | number)[][] = [];
  for (const l of limits) {
    for (const which of ['antrea', 'ours', 'variant'] as const) {
      const at = rows.filter((r) => r.limits === l && r.which === which);
      if (!at.length) continue;
      out.push([
        limitsLabel(l),
        name(which),
        round3(limiterFloorS(pods, l)),
        median(at.map((r) => r.firstS)),
        median(at.map((r) => r.annotatedS)),
        median(at.map((r) => round3(r.annotatedS - r.firstS))),
      ]);
    }
  }
  return {
    title: `The limiter's floor: ${pods} PATCHes cannot span less than (N − burst) / QPS after the first (medians)`,
    columns: ['setting', 'agent', 'floor, first to last PATCH (s)', 'first annotated (s)', 'all annotated (s)', 'first to last (s)'],
    rows: out,
  };
}

function profileTablesOf(profiles: Map<string, ProfileSummary>): Table[] {
  return [...profiles].flatMap(([label, s]) => [
    {
      title: `CPU profile of npl-agent at ${label}, self time by module (${(s.totalMs / 1000).toFixed(2)} s sampled over the agent's life, idle excluded)`,
      columns: ['group', 'self ms', 'share %'],
      rows: s.groups.map(([g, ms, sh]) => [g, ms, sh]),
    },
    {
      title: `CPU profile of npl-agent at ${label}, top functions by self time`,
      columns: ['function', 'group', 'self ms', 'share %'],
      rows: s.top.map(([f, g, ms, sh]) => [f, g, ms, sh]),
    },
  ]);
}

export interface ResultMeta {
  readonly pods: number;
  readonly runs: number;
  readonly limits: readonly Limits[];
  readonly version: string;
  readonly command: string;
  readonly variantArgs?: readonly string[];
}

/** The result body of the benchmark contract (docs/benchmarks/results/agent.antrea-compare.json), without the run frame. */
export function resultBody(outcome: CompareOutcome, compat: CompatReport, o: ResultMeta): Omit<BenchResult, 'schema' | 'date' | 'durationSeconds' | 'machine'> {
  const { rows, profiles } = outcome;
  const baselineName = `Antrea ${o.version} NodePortLocal`;
  const settings = o.limits.map(limitsLabel).join(' and ');
  const name = (w: Which): string => agentName(w, baselineName, o.variantArgs ?? []);
  const variant = o.variantArgs?.length
    ? ` After each pair, npl-agent runs once more with \`${o.variantArgs.join(' ')}\` (the "${name('variant')}" rows of the tables; not in the figures, and always third, so not ordered fairly against the pair).`
    : '';
  return {
    id: 'agent.antrea-compare',
    title: `npl-agent against Antrea's own NodePortLocal: a new Service selecting ${o.pods} pods on one node`,
    order: 35,
    section: 'npl-agent',
    command: o.command,
    description: [
      `Antrea's NodePortLocal controller (${o.version}, pkg/agent/nodeportlocal unchanged, built from source by \`packages/agent/bench/antrea-npl/build.sh\` and wired as antrea-agent wires it: node-filtered Pod informer, Service informer, 4 workers, default range 61000-62000, iptables rules) and npl-agent (nftables, 4 workers), each alone in the node's network namespace of the same 1-node local cluster, as the same ServiceAccount and with the same API client limits, at each of ${settings}. Antrea takes them as client-go's \`QPS\`/\`Burst\` (a token bucket that starts full; every request of its clientset, watches and LISTs included, takes a token); npl-agent as \`--api-qps\`/\`--api-burst\` (a GCRA bucket with the same schedule: \`burst\` at once, then one per 1/QPS; only annotation PATCHes take a token).`,
      `Set-up (not timed): ${o.pods} Running pods on the node; the agent is started and synced, then ${SETTLE_MS / 1000} s pass (a full token bucket), and a pod watch is opened. Timed: from creating the Service until the watch has seen the first and then every pod's complete annotation, and until every node port answers with the right pod name from the outside namespace. CPU: the agent's user+system seconds from Service creation until all were annotated, from /proc: the agent process itself, and its helper processes (Antrea: the iptables/iptables-restore runs it waits for; ours: the long-lived \`nft -j -i\` session, read live); the API server's over the same span. npl-agent's reconciles and PATCHes come from its /metrics, from Service creation until every port answered.`,
      `Between measurements the Service is deleted, all annotations are awaited gone, the agent is stopped and Antrea's iptables chain is removed. Each run measures both agents back to back at each setting; which goes first alternates from run to run and setting to setting (${o.runs} runs of each agent per setting).${variant}`,
    ].join('\n\n'),
    figures: o.limits.flatMap((l) => settingFigures(rows, l, o.pods, baselineName)),
    tables: [
      floorTable(rows, o.limits, o.pods, name),
      runsTable(rows, o.pods, name),
      {
        title: 'Annotation compatibility (last run of each)',
        columns: ['pods compared', 'byte-identical', 'same fields and order except nodePort', 'fields only in Antrea', 'fields only in ours', 'same set of node ports'],
        rows: [[compat.pods, compat.identicalBytes, compat.sameButNodePort, compat.onlyAntrea.join(', ') || '–', compat.onlyOurs.join(', ') || '–', compat.samePortSet ? 'yes' : 'no']],
      },
      ...profileTablesOf(profiles),
    ],
    notes: compatNotes(compat, o.version),
  };
}

function compatNotes(c: CompatReport, version: string): string {
  const ex = c.example ? `\n\nExample (${c.example.pod}): Antrea \`${c.example.antrea}\`, ours \`${c.example.ours}\`.` : '';
  return (
    `Annotations: ${c.identicalBytes}/${c.pods} byte-identical; ${c.sameButNodePort}/${c.pods} agree on every field and its order except nodePort` +
    `${c.onlyOurs.length ? ` and the fields only ours writes (${c.onlyOurs.join(', ')}: the v2.6+ format; ${version} predates it)` : ''}. ` +
    `Which pod gets which node port depends on the order the pods are processed in, in both agents; the set of ports used is ${c.samePortSet ? 'the same' : 'different'}.` +
    ex
  );
}

/** Runs the comparison and writes the result file; returns the markdown table. */
export async function runAndRecord(opts: CompareOptions & { write: boolean; command: string }): Promise<string> {
  const run = beginRun();
  const outcome = await runCompareBench(opts);
  const last = (w: Which): ReadonlyMap<string, string> => outcome.rows.filter((r) => r.which === w).at(-1)?.annotations ?? new Map<string, string>();
  const compat = compareAnnotations(last('antrea'), last('ours'));
  const meta = { pods: opts.pods, runs: opts.runs, limits: opts.limits, version: antreaVersion(opts.antreaBin), command: opts.command, variantArgs: opts.variantArgs ?? [] };
  const body = resultBody(outcome, compat, meta);
  const result: BenchResult = { ...run.finish(), ...body };
  if (opts.write) writeResult(result);
  const load = `load average ${result.machine.loadavgStart} at start, ${result.machine.loadavgEnd} at end`;
  return `${compareTable(outcome.rows)}\n\n${load}\n\n${result.notes ?? ''}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pods: { type: 'string', default: '500' },
      runs: { type: 'string', default: '3' },
      limits: { type: 'string', default: DEFAULT_LIMITS },
      'cpu-prof': { type: 'string' },
      'variant-args': { type: 'string', default: '' },
      'agent-args': { type: 'string', default: DEFAULT_AGENT_ARGS },
      'antrea-bin': { type: 'string' },
      name: { type: 'string', default: 'nplbench11' },
      parallel: { type: 'string', default: '25' },
      'no-write': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const agentArgs = clusterBenchAgentArgs('antrea-compare', HELP, values);
  if (!agentArgs) return;
  const limits = parseLimits(values.limits);
  const antreaBin = antreaBinary(values['antrea-bin']);
  const prof = values['cpu-prof'] ? ' --cpu-prof DIR' : '';
  const variantArgs = splitArgs(values['variant-args']);
  const variant = variantArgs.length ? ` --variant-args="${variantArgs.join(' ')}"` : '';
  const command = `node packages/agent/dist-bench/bench/antrea-compare.js --pods ${values.pods} --runs ${values.runs} --limits ${values.limits}${prof}${variant}`;
  const out = await runAndRecord({
    pods: Number(values.pods),
    runs: Number(values.runs),
    limits,
    variantArgs,
    agentArgs,
    name: values.name,
    parallel: Number(values.parallel),
    antreaBin,
    ...(values['cpu-prof'] ? { cpuProfDir: path.resolve(values['cpu-prof']) } : {}),
    write: !values['no-write'],
    command,
  });
  process.stdout.write(`${out}\n`);
}

runAsScript(import.meta.url, main);
