/**
 * Issue 11: Antrea's own NodePortLocal controller (built from its source by bench/antrea-npl/build.sh)
 * side by side with npl-agent, at the same API client limits (QPS 50, burst 100), on the same
 * 1-node local cluster with N pods.
 *
 * Set-up (not timed): the cluster and N Running pods (cluster-setup.ts), then our agent is stopped.
 * Each run starts ONE agent in the node's namespace as the npl-agent ServiceAccount — A = Antrea's
 * controller, B = npl-agent — waits until it has synced (Antrea: its "Will fetch Pods" log line after
 * the cache sync; ours: /readyz) plus SETTLE_MS so both start with a full token bucket, then creates the
 * Service (t0) and measures: every pod annotated (LIST polling), every node port answering the right
 * pod name from the outside namespace, and the agent's CPU seconds from t0 until all were annotated
 * (/proc/<pid>/stat: its own, and that of its helper processes — the iptables runs Antrea waits for,
 * and npl-agent's long-lived `nft -i` session, which is alive, so read from its own stat). Then
 * the Service is deleted, all annotations are awaited gone, the agent is stopped and Antrea's iptables
 * chain is removed. Runs alternate A, B, A, B, ...
 *
 * The annotations written by the two are compared pod by pod (byte-identical, and field by field).
 *
 * Run as root: `node dist-bench/bench/antrea-compare.js [--pods 500] [--runs 3] [--antrea-bin PATH]`.
 * Without --antrea-bin (or $ANTREA_NPL) it runs bench/antrea-npl/build.sh (cached after the first build).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { machineInfo } from '@npl/benchkit';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { AGENT_IDENTITY, serviceAccountKubeconfig } from '@npl/cluster';
import { NPL_ANNOTATION_KEY } from '@npl/core';
import type { BenchEnv } from './cluster-setup.js';
import {
  APP_LABEL,
  annotatedCount,
  checkAllReachable,
  clusterBenchAgentArgs,
  createBenchService,
  DEFAULT_AGENT_ARGS,
  deleteBenchServiceAndWait,
  fmt,
  log,
  pollAnnotations,
  runAsScript,
  withBenchEnv,
} from './cluster-setup.js';
import { core, NS } from '../e2e/harness.js';
import { median } from './netns.js';

const HELP = `Usage: node dist-bench/bench/antrea-compare.js [options]   (as root)

Antrea's own NodePortLocal controller (A) against npl-agent (B), one at a time on the same 1-node
local cluster, alternating A, B, A, B, ...: time until N pods are annotated and reachable from the
outside namespace, and the agent's CPU seconds. Writes docs/benchmarks/results/agent.antrea-compare.json.

  --pods N            pods on the node (default 500)
  --runs R            runs of EACH agent (default 3)
  --antrea-bin PATH   Antrea's NPL binary (default $ANTREA_NPL, else bench/antrea-npl/build.sh builds it)
  --agent-args="..." extra npl-agent flags (default "${DEFAULT_AGENT_ARGS}")
  --name NAME         local cluster name (default nplbench11)
  --parallel P        connections in flight of the outside client (default 25)
  --no-write          print only; do not write the result file
  --help              this text
`;

/** The API client limits of both agents (npl-agent's defaults, and the kubelet's). */
export const QPS = 50;
export const BURST = 100;
/** Pause after an agent is ready, before the Service is created: a full token bucket (burst/qps = 2 s) for both. */
const SETTLE_MS = 3_000;
/** The chain Antrea's NPL installs in the nat table (v2.x), jumped to from PREROUTING and OUTPUT. */
const ANTREA_CHAIN = 'ANTREA-NODE-PORT-LOCAL';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
/** packages/agent, from either bench/ (ts) or dist-bench/bench/ (js). */
const packageDir = path.basename(path.dirname(benchDir)) === 'dist-bench' ? path.resolve(benchDir, '..', '..') : path.resolve(benchDir, '..');

export type Which = 'antrea' | 'ours';

export interface CompareRow {
  readonly which: Which;
  readonly run: number;
  readonly annotatedS: number;
  readonly reachableS: number;
  /**
   * Agent CPU seconds from Service creation until all pods were annotated: its own, and its helper
   * processes' (Antrea: the iptables runs it waited for; ours: the live `nft -i` session and any
   * reaped children).
   */
  readonly cpuSelfS: number;
  readonly cpuChildrenS: number;
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

async function startAntrea(env: BenchEnv, bin: string, kubeconfig: string, logFile: string): Promise<RunningAgent> {
  const fd = openSync(logFile, 'a');
  const child = spawn(
    'ip',
    ['netns', 'exec', env.node.netns, bin, '--kubeconfig', kubeconfig, '--node-name', env.node.name, '--qps', String(QPS), '--burst', String(BURST), '--logtostderr', '-v=0'],
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

async function startAgent(env: BenchEnv, which: Which, antrea: { bin: string; kubeconfig: string; logFile: string }): Promise<RunningAgent> {
  if (which === 'antrea') return startAntrea(env, antrea.bin, antrea.kubeconfig, antrea.logFile);
  const agent = await env.fleet.start(env.node);
  await env.fleet.waitReady();
  return { child: agent.child, exited: agent.exited.then(() => undefined) };
}

async function oneRun(env: BenchEnv, which: Which, run: number, parallel: number, antrea: { bin: string; kubeconfig: string; logFile: string }): Promise<CompareRow> {
  const { cluster, node, pods } = env;
  const agent = await startAgent(env, which, antrea);
  try {
    await sleep(SETTLE_MS);
    const pid = agent.child.pid!;
    const cpu0 = treeCpu(pid);
    const t0 = performance.now();
    await createBenchService(cluster);
    const annotated = await pollAnnotations(cluster, (a) => annotatedCount(a) === pods.length, 300_000, `${which}: all pods annotated`, (a) =>
      log(`  ${annotatedCount(a)}/${pods.length} annotated at ${((performance.now() - t0) / 1000).toFixed(1)} s`),
    );
    const cpu1 = treeCpu(pid);
    const annotatedS = (annotated.at - t0) / 1000;
    const pairs = [...annotated.annotations].map(([name, ports]) => [ports[0]!, name] as [number, string]);
    const check = await checkAllReachable(cluster.outsideNetns, node.ip, pairs, parallel);
    const reachableS = (performance.now() - t0) / 1000;
    if (!check.ok) throw new Error(`${which}: not all node ports answered within the client's deadline: ${JSON.stringify(check.failed)}`);
    const annotations = await rawAnnotations(env);
    log(`  ${which}: annotated ${annotatedS.toFixed(2)} s, reachable ${reachableS.toFixed(2)} s, CPU ${(cpu1.self - cpu0.self).toFixed(2)} s + children ${(cpu1.children - cpu0.children).toFixed(2)} s`);
    log(`  deleting the Service, waiting until all annotations are gone`);
    await deleteBenchServiceAndWait(cluster);
    return {
      which,
      run,
      annotatedS,
      reachableS,
      cpuSelfS: round2(cpu1.self - cpu0.self),
      cpuChildrenS: round2(cpu1.children - cpu0.children),
      uniquePorts: new Set(pairs.map(([p]) => p)).size,
      annotations,
    };
  } finally {
    await stopProcess(agent);
    if (which === 'antrea') await removeAntreaRules(env);
  }
}

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
  readonly agentArgs: readonly string[];
  readonly name: string;
  readonly parallel: number;
  readonly antreaBin: string;
}

/** Runs A (Antrea) and B (ours) alternately, `runs` each, on one cluster. */
export function runCompareBench(opts: CompareOptions): Promise<CompareRow[]> {
  return withBenchEnv(opts, async (env) => {
    await env.fleet.stopAll();
    const kubeconfig = await serviceAccountKubeconfig(env.cluster, AGENT_IDENTITY);
    const logFile = path.join(os.tmpdir(), `${opts.name}-antrea-npl.log`);
    writeFileSync(logFile, '');
    log(`Antrea NPL log: ${logFile}`);
    const rows: CompareRow[] = [];
    for (let run = 1; run <= opts.runs; run++) {
      for (const which of ['antrea', 'ours'] as const) {
        log(`run ${run}/${opts.runs} of ${which}: creating Service selecting ${opts.pods} pods`);
        rows.push(await oneRun(env, which, run, opts.parallel, { bin: opts.antreaBin, kubeconfig, logFile }));
      }
    }
    return rows;
  });
}

export function compareTable(rows: readonly CompareRow[]): string {
  const lines = ['| agent | run | annotated (s) | reachable (s) | CPU s until annotated: self + children | CPU ms per pod | unique ports |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const pods = r.annotations.size || 1;
    lines.push(`| ${r.which} | ${r.run} | ${fmt(r.annotatedS)} | ${fmt(r.reachableS)} | ${fmt(r.cpuSelfS)} + ${fmt(r.cpuChildrenS)} | ${fmt(((r.cpuSelfS + r.cpuChildrenS) / pods) * 1000, 2)} | ${r.uniquePorts} |`);
  }
  return lines.join('\n');
}


interface FigureGoal {
  readonly op: '<' | '<=';
  readonly value: number;
  readonly text: string;
}

/** One contract figure: ours with Antrea, measured in the same run, as its baseline. */
function figure(name: string, unit: string, values: { ours: number[]; antrea: number[]; baselineName: string }, goal?: FigureGoal) {
  const m = median(values.ours);
  const b = median(values.antrea);
  return { name, unit, median: m, runs: values.ours, baseline: { name: values.baselineName, median: b, runs: values.antrea }, ratio: round2(m / b), ...(goal ? { goal } : {}) };
}

/** The result file of the benchmark contract (docs/benchmarks/results/agent.antrea-compare.json). */
export function resultJson(rows: readonly CompareRow[], compat: CompatReport, o: { started: Date; loadavgStart: number; pods: number; runs: number; version: string; command: string }) {
  const of = (w: Which, f: (r: CompareRow) => number): number[] => rows.filter((r) => r.which === w).map((r) => round2(f(r)));
  const cpu = (r: CompareRow): number => r.cpuSelfS + r.cpuChildrenS;
  const perPod = (r: CompareRow): number => (cpu(r) / o.pods) * 1000;
  const baselineName = `Antrea ${o.version} NodePortLocal`;
  const both = (f: (r: CompareRow) => number) => ({ ours: of('ours', f), antrea: of('antrea', f), baselineName });
  const antreaAnnotated = median(of('antrea', (r) => r.annotatedS));
  const antreaCpu = median(of('antrea', cpu));
  const antreaPerPod = median(of('antrea', perPod));
  return {
    schema: 1,
    id: 'agent.antrea-compare',
    title: `npl-agent against Antrea's own NodePortLocal: a new Service selecting ${o.pods} pods on one node`,
    order: 35,
    section: 'npl-agent',
    command: o.command,
    date: o.started.toISOString(),
    durationSeconds: Math.round((Date.now() - o.started.getTime()) / 1000),
    machine: machineInfo(o.loadavgStart),
    description: [
      `Antrea's NodePortLocal controller (${o.version}, pkg/agent/nodeportlocal unchanged, built from source by \`packages/agent/bench/antrea-npl/build.sh\` and wired as antrea-agent wires it: node-filtered Pod informer, Service informer, default range 61000-62000, iptables rules) and npl-agent (nftables), each alone in the node's network namespace of the same 1-node local cluster, as the same ServiceAccount and with the same API client limits (QPS ${QPS}, burst ${BURST}).`,
      `Set-up (not timed): ${o.pods} Running pods on the node; the agent is started and synced, then ${SETTLE_MS / 1000} s pass (full token bucket). Timed: from creating the Service until a LIST shows every pod annotated, and until every node port answers with the right pod name from the outside namespace. CPU: the agent's user+system seconds from Service creation until all were annotated, from /proc: the agent process itself, and its helper processes (Antrea: the iptables/iptables-restore runs it waits for; ours: the long-lived \`nft -j -i\` session, read live). Antrea's dataplane work happens in those helpers, so the goal compares the totals; the process alone is shown too.`,
      `Between runs the Service is deleted, all annotations are awaited gone, the agent is stopped and Antrea's iptables chain is removed. Runs alternate Antrea, ours, Antrea, ... (${o.runs} each).`,
    ].join('\n\n'),
    figures: [
      figure(`annotated, ${o.pods} pods`, 's', both((r) => r.annotatedS), { op: '<', value: antreaAnnotated, text: 'faster than Antrea at equal API limits' }),
      figure(`reachable from outside, ${o.pods} pods`, 's', both((r) => r.reachableS)),
      figure('agent CPU until annotated, with its iptables/nft processes', 's', both(cpu), { op: '<=', value: round2(2 * antreaCpu), text: "within 2x Antrea's CPU" }),
      figure('agent CPU per pod, with its iptables/nft processes', 'ms', both(perPod), { op: '<=', value: round2(2 * antreaPerPod), text: "within 2x Antrea's CPU per pod" }),
      figure('agent process alone (without helper processes) until annotated', 's', both((r) => r.cpuSelfS)),
    ],
    tables: [
      {
        title: 'Every run',
        columns: ['agent', 'run', 'annotated (s)', 'reachable (s)', 'CPU agent process (s)', 'CPU helper processes (s)', 'CPU per pod, all (ms)', 'unique node ports'],
        rows: rows.map((r) => [r.which === 'antrea' ? baselineName : 'npl-agent', r.run, round2(r.annotatedS), round2(r.reachableS), r.cpuSelfS, r.cpuChildrenS, round2(perPod(r)), r.uniquePorts]),
      },
      {
        title: 'Annotation compatibility (last run of each)',
        columns: ['pods compared', 'byte-identical', 'same fields and order except nodePort', 'fields only in Antrea', 'fields only in ours', 'same set of node ports'],
        rows: [[compat.pods, compat.identicalBytes, compat.sameButNodePort, compat.onlyAntrea.join(', ') || '–', compat.onlyOurs.join(', ') || '–', compat.samePortSet ? 'yes' : 'no']],
      },
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

/** Repository root (the bench runs from packages/agent or its dist-bench). */
function repoRoot(): string {
  return execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: packageDir, encoding: 'utf8' }).trim();
}

export function writeResult(result: object): string {
  const dir = path.join(repoRoot(), 'docs', 'benchmarks', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'agent.antrea-compare.json');
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** Runs the comparison and writes the result file; returns the markdown table. */
export async function runAndRecord(opts: CompareOptions & { write: boolean; command: string }): Promise<string> {
  const started = new Date();
  const loadavgStart = os.loadavg()[0]!;
  const rows = await runCompareBench(opts);
  const last = (w: Which): ReadonlyMap<string, string> => rows.filter((r) => r.which === w).at(-1)?.annotations ?? new Map<string, string>();
  const compat = compareAnnotations(last('antrea'), last('ours'));
  const result = resultJson(rows, compat, { started, loadavgStart, pods: opts.pods, runs: opts.runs, version: antreaVersion(opts.antreaBin), command: opts.command });
  if (opts.write) log(`wrote ${writeResult(result)}`);
  return `${compareTable(rows)}\n\n${result.notes}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pods: { type: 'string', default: '500' },
      runs: { type: 'string', default: '3' },
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
  const antreaBin = antreaBinary(values['antrea-bin']);
  const command = `node packages/agent/dist-bench/bench/antrea-compare.js --pods ${values.pods} --runs ${values.runs}`;
  const out = await runAndRecord({
    pods: Number(values.pods),
    runs: Number(values.runs),
    agentArgs,
    name: values.name,
    parallel: Number(values.parallel),
    antreaBin,
    write: !values['no-write'],
    command,
  });
  process.stdout.write(`${out}\n`);
}

runAsScript(import.meta.url, main);
