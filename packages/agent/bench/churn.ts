/**
 * Churn benchmark (issue 11): Pods of an NPL Service created and deleted `--rate` times a second on
 * one node for `--duration` (default 10 min) while the agent's memory is sampled every
 * `--sample-every` s (resident set from /proc, V8 heap in use from its /metrics, open descriptors);
 * afterwards every churn Pod is deleted and the node is checked for leaks (rules, reserved sockets,
 * held ports, annotations; e2e/testing/churn.ts). Memory is "flat" when the least-squares slope of
 * the resident set after the first minute is near zero.
 *
 * By default the Pods are bound to a Node without kubelet (bench/kubeletless.ts) served by the agent
 * on node-0, and the bench writes their status (Running, a unique IP, freed IPs reused) as a kubelet
 * would: the local cluster's node stand-in cannot start 10 Pods a second on a 2-core machine, so with
 * real Pods (`--kubelet`) most are deleted before they run and the agent never sees the rate. A pod
 * watch counts the Pods that were mapped (annotation seen).
 *
 * Set-up (not measured): a 1-node local cluster, npl-agent with the shipped verify period, the
 * Service. Writes docs/benchmarks/results/agent.churn.json (the benchmark result contract) and prints
 * a markdown table. Run as root: `node dist-bench/bench/churn.js [--duration 10m] [--rate 10]`.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { BenchResult, Figure, ResultHeader, RunFrame } from '@npl/benchkit';
import { beginRun, validateHeader, writeResult } from '@npl/benchkit';
import type { V1Pod } from '@kubernetes/client-node';
import { Watch } from '@kubernetes/client-node';
import type { Cluster, ClusterNode } from '@npl/cluster';
import { agentCli, agentNodeArgs, agentNodeEnv } from '@npl/cluster';
import type { AgentBuild } from '../e2e/harness.js';
import { parseVariant } from './memory.js';
import { isCompleteNplEntry, NPL_ANNOTATION_KEY, parseNplAnnotation } from '@npl/core';
import type { BenchEnv } from './cluster-setup.js';
import { DEFAULT_AGENT_ARGS, fmt, log, runAsScript, splitArgs, withBenchEnv } from './cluster-setup.js';
import { createKubeletlessNode, KubeletlessIPs, kubeletlessPod, withRetry, writeRunningStatus } from './kubeletless.js';
import { createService, NS } from '../e2e/harness.js';
import type { ChurnOptions, ChurnResult, LeakReport } from '../e2e/testing/churn.js';
import { CHURN_LABEL, CHURN_POD_PORT, deleteChurnPods, leakCount, metricTotal, processFootprint, runChurn, scrape, settledLeakReport } from '../e2e/testing/churn.js';

const HELP = `Usage: node dist-bench/bench/churn.js [options]   (as root)

Create and delete Pods of an NPL Service at --rate per second on one node for --duration, sampling the
agent's memory; then count leaked rules, sockets, ports and annotations. Writes
docs/benchmarks/results/agent.churn.json and prints a markdown table.

  --duration D       how long to churn: seconds, or Nm / Ns (default 10m)
  --rate R           Pod creations (and deletions) per second (default 10)
  --population P     Pods alive at once; each lives about P/R s (default 100)
  --sample-every S   seconds between memory samples (default 5)
  --agent-args="..." extra npl-agent flags (default "${DEFAULT_AGENT_ARGS}")
  --node-flags="..." Node.js flags for the agent after the ones its shebang declares (e.g. --v8-pool-size=1)
  --compare="L=..."  first churn with this variant of the agent, labelled L, side by side in the same cluster:
                     Node flags and VAR=value tokens (e.g. 'glibc default arenas=--max-semi-space-size=1
                     --optimize-for-size MALLOC_ARENA_MAX=16'); the shipped build runs second
  --agent-env="V=x"  environment variables for the agent process, space-separated (e.g. MALLOC_ARENA_MAX=2)
  --kubelet          churn Pods the node's kubelet stand-in runs (the old mode; it cannot start 10 a
                     second on 2 cores) instead of Pods on a kubelet-less Node whose status the bench writes
  --name NAME        local cluster name (default nplbchurn)
  --out FILE         result file (default docs/benchmarks/results/agent.churn.json in the repository)
  --help             this text
`;

const RANGE = [61000, 62000] as const;
const WARM_UP_S = 60;
const MiB = 1024 * 1024;

export interface ChurnBenchOptions {
  readonly durationS: number;
  readonly rate: number;
  readonly population: number;
  readonly sampleEveryS: number;
  readonly agentArgs: readonly string[];
  /** Node.js flags for the agent after the shipped ones (none by default). */
  readonly nodeFlags: readonly string[];
  /** Environment variables for the agent process on top of its shebang's (none by default). */
  readonly agentEnv: Readonly<Record<string, string>>;
  /** A variant measured first, side by side: `label=node-flags VAR=value` (bench/memory.ts's --variant grammar). */
  readonly compare?: string;
  readonly name: string;
  /** Churn Pods run by the node's kubelet stand-in instead of kubelet-less Pods. */
  readonly kubelet: boolean;
}

/**
 * One sample: seconds since the churn started (negative before), memory in MiB, 1-minute load.
 * RSS splits into anonymous memory (V8's heap, malloc) and file-backed pages (the node binary's and
 * libraries' code read so far); V8's committed heap and its external memory (Buffers, ArrayBuffers)
 * are parts of the anonymous RSS.
 */
export interface MemorySample {
  readonly t: number;
  readonly rssMiB: number;
  readonly rssAnonMiB: number;
  readonly rssFileMiB: number;
  readonly heapMiB: number;
  readonly heapCommittedMiB: number;
  readonly externalMiB: number;
  readonly fds: number;
  readonly mappings: number;
  readonly load1: number;
}

/** One churn run of one agent build. */
export interface ChurnSession {
  readonly churn: ChurnResult;
  readonly samples: readonly MemorySample[];
  readonly leaks: LeakReport;
  readonly mappingsAdded: number;
  /** Churn Pods whose annotation the pod watch saw complete. */
  readonly mapped: number;
  /** Distinct Pod IPs the bench handed out (kubelet-less mode; 0 otherwise). */
  readonly ipsUsed: number;
  readonly rssSlopeMiBPerMin: number;
  readonly heapSlopeMiBPerMin: number;
  /** Slopes (MiB/min after the first minute) of RSS's parts, to tell which one moves. */
  readonly partSlopes: { readonly rssAnon: number; readonly rssFile: number; readonly heapCommitted: number; readonly external: number };
}

/** The shipped build's session, and the compared variant's when --compare was given. */
export interface ChurnBenchResult extends ChurnSession {
  readonly options: ChurnBenchOptions;
  readonly compared?: { readonly label: string; readonly nodeArgs: readonly string[]; readonly env: Readonly<Record<string, string>>; readonly session: ChurnSession };
}

/** Parses `MALLOC_ARENA_MAX=2 OTHER=x` into an environment. */
export function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const token of text.split(/\s+/).filter(Boolean)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(token);
    if (!m) throw new Error(`--agent-env: ${JSON.stringify(token)} is not NAME=value`);
    env[m[1]!] = m[2]!;
  }
  return env;
}

/** Parses `600`, `600s` or `10m` into seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`--duration ${JSON.stringify(text)}: expected seconds, Ns or Nm (e.g. 600, 30s, 10m)`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
}

/** Least-squares slope of y over x. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? NaN : sxy / sxx;
}

async function sample(env: BenchEnv, t: number): Promise<MemorySample | undefined> {
  const pid = env.fleet.pid(env.node);
  const fp = pid === undefined ? undefined : processFootprint(pid);
  if (!fp) return undefined;
  const m = await scrape(env.node);
  const mib = (bytes: number): number => Math.round((bytes / MiB) * 100) / 100;
  return {
    t: Math.round(t * 10) / 10,
    rssMiB: mib(fp.rss),
    rssAnonMiB: mib(fp.rssAnon),
    rssFileMiB: mib(fp.rssFile),
    heapMiB: mib(metricTotal(m, 'nodejs_heap_size_used_bytes')),
    heapCommittedMiB: mib(metricTotal(m, 'nodejs_heap_size_total_bytes')),
    externalMiB: mib(metricTotal(m, 'nodejs_external_memory_bytes')),
    fds: fp.fds,
    mappings: metricTotal(m, 'npl_agent_mappings'),
    load1: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}

/** Samples every `everyS` until `done` resolves; times relative to `t0` (performance.now()). */
async function sampleUntil(env: BenchEnv, t0: number, everyS: number, done: Promise<unknown>, out: MemorySample[]): Promise<void> {
  let finished = false;
  void done.finally(() => (finished = true));
  for (let i = 1; !finished; i++) {
    const s = await sample(env, (performance.now() - t0) / 1_000);
    if (s) out.push(s);
    if (s && out.length % 12 === 0) log(`  t=${s.t.toFixed(0)} s  RSS ${s.rssMiB} MiB (anon ${s.rssAnonMiB}, file ${s.rssFileMiB})  heap ${s.heapMiB} MiB of ${s.heapCommittedMiB}  external ${s.externalMiB}  fds ${s.fds}  mappings ${s.mappings}  load ${s.load1}`);
    const wait = t0 + i * everyS * 1_000 - performance.now();
    if (wait > 0) await Promise.race([sleep(wait), done]);
  }
}

/** The kubelet-less Node the agent serves in the default mode. */
const CHURN_NODE = 'nplchurn-0';

/** Where the Pods churn: the node, the agent's extra flags for it, and the hooks that write and free the Pods' status. */
interface ChurnTarget {
  readonly node: ClusterNode;
  readonly agentArgs: readonly string[];
  /** Hooks for one session; `ips` is that session's Pod IP pool (kubelet-less mode). */
  hooks(ips: KubeletlessIPs): Pick<ChurnOptions, 'pod' | 'afterCreate' | 'afterDelete'>;
}

/** The kubelet-less Node CHURN_NODE (InternalIP = node-0's), served by the agent on node-0. */
async function kubeletlessTarget(env: BenchEnv): Promise<ChurnTarget> {
  await createKubeletlessNode(env.cluster, CHURN_NODE, env.node, { 'npl.bench/churn': 'true' });
  return {
    node: { ...env.node, name: CHURN_NODE },
    agentArgs: ['--node-name', CHURN_NODE],
    hooks: (ips) => ({
      pod: (name) => kubeletlessPod(name, CHURN_NODE, CHURN_LABEL, CHURN_POD_PORT),
      afterCreate: (name) => withRetry(() => writeRunningStatus(env.cluster, name, ips.take(name), env.node)),
      afterDelete: (name) => ips.release(name),
    }),
  };
}

/** The agent build of the shipped session: its shebang's flags and environment, plus the bench's --node-flags and --agent-env. */
function shippedBuild(opts: ChurnBenchOptions): AgentBuild {
  return { env: { ...agentNodeEnv(), ...opts.agentEnv }, nodeArgs: [...agentNodeArgs(), ...opts.nodeFlags] };
}

/** One churn session: (re)starts the node's agent with `build`, churns, cleans up, checks leaks. */
async function churnSession(env: BenchEnv, target: ChurnTarget, opts: ChurnBenchOptions, build: AgentBuild): Promise<ChurnSession> {
  env.fleet.build = build;
  await env.fleet.start(env.node, target.agentArgs);
  await env.fleet.waitReady();
  const ips = new KubeletlessIPs();
  const samples: MemorySample[] = [];
  const first = await sample(env, 0);
  if (first) samples.push({ ...first, t: -1 });
  const addedBefore = metricTotal(await scrape(env.node), 'npl_agent_mappings_added_total');
  log(`churning ${opts.rate} Pods/s (population ${opts.population}) on ${target.node.name} for ${opts.durationS} s; RSS at start ${first?.rssMiB} MiB`);
  const watch = await watchMapped(env.cluster);
  const t0 = performance.now();
  const churning = runChurn(env.cluster, { node: target.node, rate: opts.rate, durationMs: opts.durationS * 1_000, population: opts.population, ...target.hooks(ips) });
  await sampleUntil(env, t0, opts.sampleEveryS, churning, samples);
  const churn = await churning;
  log(`churn done: ${JSON.stringify(churn)}; ${watch.mapped()} mapped; deleting the remaining churn Pods`);
  await deleteChurnPods(env.cluster);
  watch.stop();
  const leaks = await settledLeakReport(env.cluster, target.node, RANGE);
  const mappingsAdded = metricTotal(await scrape(env.node), 'npl_agent_mappings_added_total') - addedBefore;
  const last = await sample(env, (performance.now() - t0) / 1_000);
  if (last) samples.push(last);
  const steady = samples.filter((s) => s.t >= WARM_UP_S && s.t <= opts.durationS);
  const perMin = (pick: (s: MemorySample) => number): number => slope(steady.map((s) => [s.t / 60, pick(s)] as const));
  const session: ChurnSession = {
    churn,
    samples,
    leaks,
    mappingsAdded,
    mapped: watch.mapped(),
    ipsUsed: opts.kubelet ? 0 : ips.used,
    rssSlopeMiBPerMin: perMin((s) => s.rssMiB),
    heapSlopeMiBPerMin: perMin((s) => s.heapMiB),
    partSlopes: { rssAnon: perMin((s) => s.rssAnonMiB), rssFile: perMin((s) => s.rssFileMiB), heapCommitted: perMin((s) => s.heapCommittedMiB), external: perMin((s) => s.externalMiB) },
  };
  log(`session done: RSS slope ${fmt(session.rssSlopeMiBPerMin, 3)} MiB/min (anonymous ${fmt(session.partSlopes.rssAnon, 3)}), leaks ${leakCount(leaks)}`);
  return session;
}

/**
 * Runs the churn with the shipped agent; with `opts.compare`, first (same cluster, same Service,
 * the agent restarted) with that variant of it, so the two are measured side by side.
 */
export async function runChurnBench(opts: ChurnBenchOptions): Promise<ChurnBenchResult> {
  return withBenchEnv({ name: opts.name, pods: 0, agentArgs: opts.agentArgs }, async (env) => {
    const target: ChurnTarget = opts.kubelet ? { node: env.node, agentArgs: [], hooks: () => ({}) } : await kubeletlessTarget(env);
    await createService(env.cluster, 'churn', { ...CHURN_LABEL }, [{ port: CHURN_POD_PORT, targetPort: CHURN_POD_PORT }]);
    let compared: ChurnBenchResult['compared'];
    if (opts.compare) {
      const v = parseVariant(opts.compare, agentCli());
      log(`session 1 of 2: ${v.name} (Node ${v.nodeArgs.join(' ') || '(no flags)'}; ${Object.entries(v.env).map(([k, x]) => `${k}=${x}`).join(' ') || 'no extra environment'})`);
      compared = { label: v.name, nodeArgs: v.nodeArgs, env: v.env, session: await churnSession(env, target, opts, { nodeArgs: v.nodeArgs, env: v.env }) };
      log('session 2 of 2: the shipped build');
    }
    const shipped = await churnSession(env, target, opts, shippedBuild(opts));
    return { options: opts, ...shipped, ...(compared ? { compared } : {}) };
  });
}

/**
 * Watches the churn Pods and remembers every one whose annotation was seen complete; the watch is
 * re-opened when the API server ends it.
 */
async function watchMapped(cluster: Cluster): Promise<{ mapped(): number; stop(): void }> {
  const seen = new Set<string>();
  let stopped = false;
  let ctl: AbortController | undefined;
  const open = async (): Promise<void> => {
    ctl = await new Watch(cluster.kubeConfig).watch(
      `/api/v1/namespaces/${NS}/pods`,
      { labelSelector: 'churned=true' },
      (_type: string, pod: V1Pod) => {
        const name = pod.metadata?.name;
        const text = pod.metadata?.annotations?.[NPL_ANNOTATION_KEY];
        if (name && text !== undefined && parseNplAnnotation(text).some(isCompleteNplEntry)) seen.add(name);
      },
      () => {
        if (!stopped) void open().catch((err: unknown) => log(`re-opening the pod watch failed: ${String(err)}`));
      },
    );
  };
  await open();
  return {
    mapped: () => seen.size,
    stop: () => {
      stopped = true;
      ctl?.abort();
    },
  };
}

/** Markdown summary of one session. */
function sessionTable(r: ChurnSession, durationS: number): string {
  const at = (t: number): MemorySample | undefined => r.samples.find((s) => s.t >= t);
  const start = r.samples[0];
  const warm = at(WARM_UP_S);
  const end = [...r.samples].reverse().find((s) => s.t <= durationS);
  const after = r.samples[r.samples.length - 1];
  return [
    '| | RSS MiB | anonymous | file-backed | heap used MiB | heap committed | external | fds | mappings |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...(
      [
        ['before the churn', start],
        [`after ${WARM_UP_S} s`, warm],
        ['end of the churn', end],
        ['after clean-up', after],
      ] as const
    ).map(([label, s]) => `| ${label} | ${fmt(s?.rssMiB, 1)} | ${fmt(s?.rssAnonMiB, 1)} | ${fmt(s?.rssFileMiB, 1)} | ${fmt(s?.heapMiB, 1)} | ${fmt(s?.heapCommittedMiB, 1)} | ${fmt(s?.externalMiB, 1)} | ${s?.fds ?? '–'} | ${s?.mappings ?? '–'} |`),
    '',
    `RSS slope after ${WARM_UP_S} s: ${fmt(r.rssSlopeMiBPerMin, 3)} MiB/min; heap slope ${fmt(r.heapSlopeMiBPerMin, 3)} MiB/min; slopes of RSS's parts: anonymous ${fmt(r.partSlopes.rssAnon, 3)}, file-backed ${fmt(r.partSlopes.rssFile, 3)}, heap committed ${fmt(r.partSlopes.heapCommitted, 3)}, external ${fmt(r.partSlopes.external, 3)} MiB/min.`,
    `Pods created ${r.churn.created}, mapped ${r.mapped} (annotation seen), deleted ${r.churn.deleted} (+ clean-up), API errors ${apiErrors(r)}, skipped ticks ${r.churn.skippedTicks}; mappings added ${r.mappingsAdded}.`,
    `Leaks: rules ${r.leaks.leakedRules.length}, sockets ${r.leaks.leakedSockets.length}, stale annotations ${r.leaks.staleAnnotations.length}, held-port surplus ${r.leaks.heldPortsSurplus}.`,
  ].join('\n');
}

export function churnTable(r: ChurnBenchResult): string {
  const shipped = sessionTable(r, r.options.durationS);
  if (!r.compared) return shipped;
  return [`### ${r.compared.label} (first)`, sessionTable(r.compared.session, r.options.durationS), '', '### shipped build', shipped].join('\n');
}

const apiErrors = (r: ChurnSession): number => r.churn.createErrors + r.churn.deleteErrors + r.churn.afterCreateErrors;

const rssOf = (s: MemorySample | undefined): number => s?.rssMiB ?? NaN;

/** The samples taken while the Pods churned. */
const duringChurn = (r: ChurnSession, durationS: number): MemorySample[] => r.samples.filter((s) => s.t >= 0 && s.t <= durationS);

function churnFigures(r: ChurnBenchResult, start: MemorySample | undefined, end: MemorySample | undefined): Figure[] {
  const c = r.compared;
  const one = (v: number): Pick<Figure, 'median' | 'runs'> => ({ median: round(v, 3), runs: [round(v, 3)] });
  return [
      { name: 'RSS slope after the first minute', unit: 'MiB/min', ...one(r.rssSlopeMiBPerMin), goal: { op: '<=', value: 0.5, text: 'flat: under 5 MiB over 10 min' } },
      ...(c
        ? [
            { name: `RSS slope after the first minute, ${c.label}`, unit: 'MiB/min', ...one(c.session.rssSlopeMiBPerMin) },
            { name: `anonymous RSS slope after the first minute, ${c.label}`, unit: 'MiB/min', ...one(c.session.partSlopes.rssAnon) },
            { name: `RSS at the end of the churn, ${c.label}`, unit: 'MiB', median: rssOf(duringChurn(c.session, r.options.durationS).at(-1)), runs: [rssOf(duringChurn(c.session, r.options.durationS).at(-1))] },
          ]
        : []),
      { name: 'heap slope after the first minute', unit: 'MiB/min', ...one(r.heapSlopeMiBPerMin) },
      ...(
        [
          ['anonymous RSS', r.partSlopes.rssAnon],
          ['file-backed RSS', r.partSlopes.rssFile],
          ['V8 heap committed', r.partSlopes.heapCommitted],
          ['external memory', r.partSlopes.external],
        ] as const
      ).map(([what, v]): Figure => ({ name: `${what} slope after the first minute`, unit: 'MiB/min', ...one(v) })),
      { name: 'RSS before the churn', unit: 'MiB', median: rssOf(start), runs: [rssOf(start)] },
      { name: 'RSS at the end of the churn', unit: 'MiB', median: rssOf(end), runs: [rssOf(end)] },
      { name: 'leaked rules, sockets, ports and annotations', unit: 'count', median: leakCount(r.leaks), runs: [leakCount(r.leaks)], goal: { op: '==', value: 0 } },
      { name: 'Pods created', unit: 'count', median: r.churn.created, runs: [r.churn.created], lowerIsBetter: false },
      { name: 'Pods mapped (annotation seen)', unit: 'count', median: r.mapped, runs: [r.mapped], lowerIsBetter: false },
      { name: 'mappings added', unit: 'count', median: r.mappingsAdded, runs: [r.mappingsAdded], lowerIsBetter: false },
    ];
}

/** `word` as a POSIX shell reads it back: single-quoted when it holds anything but safe characters. */
export const shellWord = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

const envText = (env: Readonly<Record<string, string>>): string => Object.entries(env).map(([k, v]) => `, environment ${k}=${v}`).join('');

/** The part of the result known before the run (from its options), checked at its start. */
export function churnHeader(o: ChurnBenchOptions, command: string): ResultHeader {
  return {
    id: 'agent.churn',
    title: `Pod churn: ${o.rate} creations and deletions a second for ${Math.round(o.durationS / 60)} min`,
    order: 60,
    section: 'npl-agent',
    command,
    description:
      `A 1-node local cluster running npl-agent (\`${o.agentArgs.join(' ')}\`${o.nodeFlags.length ? `, extra Node.js flags \`${o.nodeFlags.join(' ')}\`` : ''}${envText(o.agentEnv)}) and an NPL Service. ` +
      `Set-up, not measured: cluster, agent, Service. Measured: for ${o.durationS} s a Pod of the Service is created every ` +
      `${1 / o.rate} s on the node and, once ${o.population} exist, the oldest is deleted (grace period 0), so each lives about ` +
      `${o.population / o.rate} s. Every ${o.sampleEveryS} s the agent's resident set (VmRSS), V8 heap in use ` +
      '(`nodejs_heap_size_used_bytes`) and open descriptors are sampled. Then every churn Pod is deleted and, within 60 s, the node is checked ' +
      'for leaks: nft mappings, sockets in the port range, held ports (`npl_agent_mappings`) and annotation entries that no existing Pod explains. ' +
      `Slopes are least-squares fits over the samples after the first ${WARM_UP_S} s. ` +
      (o.compare
        ? `Side by side in the same cluster and Service: the churn runs first with a variant of the agent (\`${o.compare}\`: its Node flags and environment instead of the shipped ones), then, the agent restarted, with the shipped build (its shebang's flags and environment). `
        : '') +
      (o.kubelet
        ? "The Pods are run by the local cluster's node stand-in (`--kubelet`), which cannot start this many a second on 2 cores: most are deleted before they run, so the agent maps only some of them."
        : `The local cluster's node stand-in cannot start ${o.rate} Pods a second on 2 cores, so the agent (on node-0's namespace and IP) serves a Node without kubelet (\`${CHURN_NODE}\`): the bench binds the Pods to it and writes their status as a kubelet would (Running, a unique IP from 198.19.128.0/17, freed IPs reused); the API server, watches, PATCHes, nftables and sockets are real. ` +
          '"Pods mapped" counts the churn Pods whose annotation a pod watch saw complete.'),
  };
}

/** The result's prose summary: the shipped session, the compared one, the machine's load. */
function churnNotes(r: ChurnBenchResult, start: MemorySample | undefined, end: MemorySample | undefined, loads: readonly number[]): string {
  const c = r.compared;
  return (
      `${r.churn.created} Pods created, ${r.mapped} of them mapped (annotation seen by a pod watch; the agent counted ${r.mappingsAdded} mappings added)` +
      `${r.options.kubelet ? '' : `, ${r.ipsUsed} distinct Pod IPs used`}; leaks after clean-up: ${leakCount(r.leaks)}. ` +
      `RSS ${fmt(start?.rssMiB, 1)} MiB before and ${fmt(end?.rssMiB, 1)} MiB at the end of the churn (slope after ${WARM_UP_S} s ${fmt(r.rssSlopeMiBPerMin, 3)} MiB/min); ` +
      `V8 heap used ${fmt(start?.heapMiB, 1)} → ${fmt(end?.heapMiB, 1)} MiB (slope ${fmt(r.heapSlopeMiBPerMin, 3)} MiB/min). ` +
      `Open descriptors ${String(start?.fds)} before, ${String(end?.fds)} at the end of the churn. ` +
      (c
        ? `${c.label}, measured first in the same cluster: RSS slope ${fmt(c.session.rssSlopeMiBPerMin, 3)} MiB/min (anonymous ${fmt(c.session.partSlopes.rssAnon, 3)}, V8 heap committed ${fmt(c.session.partSlopes.heapCommitted, 3)}), ` +
          `RSS ${fmt(c.session.samples[0]?.rssMiB, 1)} → ${fmt(duringChurn(c.session, r.options.durationS).at(-1)?.rssMiB, 1)} MiB; leaks ${leakCount(c.session.leaks)}. `
        : '') +
      `The machine is shared (2 cores): the 1-minute load ranged ${Math.min(...loads)}–${Math.max(...loads)} during the run.`
  );
}

/** The result in the shape of docs/benchmarks (schema 1). */
export function churnResult(frame: RunFrame, header: ResultHeader, r: ChurnBenchResult): BenchResult {
  const during = duringChurn(r, r.options.durationS);
  const start = r.samples[0];
  const end = during[during.length - 1];
  const sessions: [string, ChurnSession][] = r.compared ? [[r.compared.label, r.compared.session], ['shipped build', r]] : [['shipped build', r]];
  const loadsOf = (x: ChurnSession): number[] => x.samples.map((s) => s.load1);
  const loads = sessions.flatMap(([, x]) => loadsOf(x));
  const point = (s: MemorySample): [number, number] => [round(s.t / 60, 3), s.rssMiB];
  const c = r.compared;
  return {
    ...frame,
    ...header,
    figures: churnFigures(r, start, end),
    tables: [
      {
        title: 'Churn and leaks',
        columns: ['agent', 'Pods created', 'Pods mapped', 'Pods deleted', 'API errors', 'skipped ticks', 'leaked rules', 'leaked sockets', 'stale annotations', 'held-port surplus', 'RSS slope MiB/min', 'load (1 min) min / max'],
        rows: sessions.map(([label, x]) => [
          label,
          x.churn.created,
          x.mapped,
          x.churn.deleted,
          apiErrors(x),
          x.churn.skippedTicks,
          x.leaks.leakedRules.length,
          x.leaks.leakedSockets.length,
          x.leaks.staleAnnotations.length,
          x.leaks.heldPortsSurplus,
          round(x.rssSlopeMiBPerMin, 3),
          `${Math.min(...loadsOf(x))} / ${Math.max(...loadsOf(x))}`,
        ]),
      },
    ],
    charts: [
      {
        id: 'agent-churn-memory',
        title: 'npl-agent memory during Pod churn',
        x: { label: 'time since the churn started', unit: 'min' },
        y: { label: 'memory', unit: 'MiB' },
        series: [
          { name: 'RSS', points: during.map(point) },
          ...(c ? [{ name: `RSS, ${c.label}`, points: duringChurn(c.session, r.options.durationS).map(point) }] : []),
          { name: 'RSS anonymous', points: during.map((s) => [round(s.t / 60, 3), s.rssAnonMiB]) },
          { name: 'RSS file-backed', points: during.map((s) => [round(s.t / 60, 3), s.rssFileMiB]) },
          { name: 'V8 heap committed', points: during.map((s) => [round(s.t / 60, 3), s.heapCommittedMiB]) },
          { name: 'V8 heap used', points: during.map((s) => [round(s.t / 60, 3), s.heapMiB]) },
        ],
      },
    ],
    notes: churnNotes(r, start, end, loads),
  };
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs the benchmark and writes its result file (to `out` when given); returns the markdown table. */
export async function churnBenchAndWrite(opts: ChurnBenchOptions, command: string, out?: string): Promise<string> {
  const run = beginRun();
  const header = validateHeader(churnHeader(opts, command));
  const minS = WARM_UP_S + 2 * opts.sampleEveryS;
  if (!(opts.durationS >= minS)) throw new Error(`--duration ${opts.durationS} s: the result's memory slopes are fitted to the samples after the first ${WARM_UP_S} s, so the churn must last at least ${minS} s`);
  const r = await runChurnBench(opts);
  writeResult(churnResult(run.finish(), header, r), out === undefined ? {} : { file: out });
  return churnTable(r);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10m' },
      rate: { type: 'string', default: '10' },
      population: { type: 'string', default: '100' },
      'sample-every': { type: 'string', default: '5' },
      'agent-args': { type: 'string', default: DEFAULT_AGENT_ARGS },
      'agent-env': { type: 'string', default: '' },
      'node-flags': { type: 'string', default: '' },
      compare: { type: 'string' },
      name: { type: 'string', default: 'nplbchurn' },
      kubelet: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('churn needs root (the local cluster: network namespaces, nftables)');
  const opts: ChurnBenchOptions = {
    durationS: parseDuration(values.duration),
    rate: Number(values.rate),
    population: Number(values.population),
    sampleEveryS: Number(values['sample-every']),
    agentArgs: splitArgs(values['agent-args']),
    agentEnv: parseEnv(values['agent-env']),
    nodeFlags: splitArgs(values['node-flags']),
    ...(values.compare ? { compare: values.compare } : {}),
    name: values.name,
    kubelet: values.kubelet,
  };
  const command = `node packages/agent/dist-bench/bench/churn.js ${process.argv.slice(2).map(shellWord).join(' ')}`.trim();
  process.stdout.write(`${await churnBenchAndWrite(opts, command, values.out)}\n`);
}

runAsScript(import.meta.url, main);
