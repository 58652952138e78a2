/**
 * Shared set-up of the agent benchmarks on the local cluster (issue 4, benchmarks 3 and 4): a
 * 1-node cluster, npl-agent on it (AgentFleet: the real process in the node's namespace as the
 * npl-agent ServiceAccount), N pods pinned to the node, plus the measuring helpers — annotations
 * read by LISTING the pods, the agent's /metrics, its log, and the outside clients.
 * Nothing here is timed by itself.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, ClusterNode } from '@npl/cluster';
import { startCluster } from '@npl/cluster';
import { isCompleteNplEntry, NPL_ANNOTATION_KEY, parseNplAnnotation } from '@npl/core';
import type { AgentBuild } from '../e2e/harness.js';
import { AgentFleet, core, createService, deleteService, NS } from '../e2e/harness.js';
import { allOutput, firstLine, spawnInNs } from './netns.js';

export const APP_LABEL = { app: 'nplbench' } as const;
export const POD_PORT = 80;
export const SERVICE = 'nplbench';
/** Pause between annotation LISTs (the reported times are late by at most this plus one LIST). */
export const POLL_MS = 200;
/** The agent's shipped verify period (the e2e harness passes 1s, which re-lists the table every second). */
export const DEFAULT_AGENT_ARGS = '--verify-period 60s';

export function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${line}\n`);
}

export interface BenchEnv {
  readonly cluster: Cluster;
  readonly node: ClusterNode;
  readonly fleet: AgentFleet;
  readonly pods: readonly string[];
  readonly agentArgs: readonly string[];
  /** The agent's log file (in the cluster dir: gone after `tearDown`, which copies it to /tmp). */
  readonly agentLog: string;
}

export function podName(i: number): string {
  return `nb-${String(i).padStart(4, '0')}`;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

/** Pod name → node ports of its complete annotation entries ([] when none), from one LIST. */
export async function listAnnotations(cluster: Cluster): Promise<Map<string, number[]>> {
  const list = await core(cluster).listNamespacedPod({ namespace: NS, labelSelector: `app=${APP_LABEL.app}` });
  const out = new Map<string, number[]>();
  for (const p of list.items) {
    const text = p.metadata?.annotations?.[NPL_ANNOTATION_KEY];
    const entries = text === undefined ? [] : parseNplAnnotation(text).filter(isCompleteNplEntry);
    out.set(p.metadata!.name!, entries.map((e) => e.nodePort));
  }
  return out;
}

/**
 * Polls `listAnnotations` every POLL_MS until `done` holds; resolves with the last listing, the
 * time it was taken (performance.now() when the LIST returned) and the LIST latencies.
 */
export async function pollAnnotations(
  cluster: Cluster,
  done: (a: Map<string, number[]>) => boolean,
  timeoutMs: number,
  what: string,
  onProgress?: (a: Map<string, number[]>) => void,
): Promise<{ at: number; annotations: Map<string, number[]>; listMs: number[] }> {
  const deadline = performance.now() + timeoutMs;
  const listMs: number[] = [];
  let lastReport = 0;
  for (;;) {
    const t0 = performance.now();
    const a = await listAnnotations(cluster);
    const at = performance.now();
    listMs.push(at - t0);
    if (done(a)) return { at, annotations: a, listMs };
    if (onProgress && at - lastReport > 2_000) {
      onProgress(a);
      lastReport = at;
    }
    if (at > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    // Not back to back: each LIST of 500 pods costs the API server ~50 ms of CPU on this machine.
    await sleep(POLL_MS);
  }
}

export const annotatedCount = (a: Map<string, number[]>): number => [...a.values()].filter((p) => p.length === 1).length;

export async function createBenchService(cluster: Cluster): Promise<void> {
  await createService(cluster, SERVICE, { ...APP_LABEL }, [{ port: POD_PORT, targetPort: POD_PORT }]);
}

export async function deleteBenchServiceAndWait(cluster: Cluster, timeoutMs = 180_000): Promise<void> {
  await deleteService(cluster, SERVICE);
  await pollAnnotations(cluster, (a) => [...a.values()].every((p) => p.length === 0), timeoutMs, 'all annotations removed', (a) =>
    log(`  waiting for removal: ${a.size - [...a.values()].filter((p) => p.length === 0).length} annotated`),
  );
}

/** The agent's Prometheus text, parsed into `name{labels}` → value ({} when it does not answer). */
export { scrape as agentMetrics } from '../e2e/testing/churn.js';

/** Sum of all series of `name` (any labels). */
export function metricSum(m: Map<string, number>, name: string): number {
  let s = 0;
  for (const [k, v] of m) if (k === name || k.startsWith(`${name}{`)) s += v;
  return s;
}

export interface ReconcileStats {
  readonly reconciles: number;
  readonly reconcileSecondsSum: number;
  readonly patches: number;
}

export function reconcileStats(m: Map<string, number>): ReconcileStats {
  return {
    reconciles: metricSum(m, 'npl_agent_pod_reconcile_duration_seconds_count'),
    reconcileSecondsSum: metricSum(m, 'npl_agent_pod_reconcile_duration_seconds_sum'),
    patches: metricSum(m, 'npl_agent_annotation_patches_total'),
  };
}

export function statsDelta(after: ReconcileStats, before: ReconcileStats): ReconcileStats {
  return {
    reconciles: after.reconciles - before.reconciles,
    reconcileSecondsSum: after.reconcileSecondsSum - before.reconcileSecondsSum,
    patches: after.patches - before.patches,
  };
}

/** Lines of the agent log (pino JSON) from byte `offset`, with their time in epoch ms. */
export function agentLogSince(file: string, offset: number): { t: number; msg: string; line: Record<string, unknown> }[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file).subarray(offset).toString('utf8');
  const out: { t: number; msg: string; line: Record<string, unknown> }[] = [];
  for (const l of text.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      const line = JSON.parse(l) as Record<string, unknown>;
      out.push({ t: Date.parse(String(line.time)), msg: String(line.msg), line });
    } catch {
      // partial line
    }
  }
  return out;
}

export function logSize(file: string): number {
  return existsSync(file) ? readFileSync(file).length : 0;
}

/** First and last time (epoch ms) of log lines whose msg is `msg`, and their count. */
export function logSpan(lines: ReturnType<typeof agentLogSince>, msg: string): { first?: number; last?: number; count: number } {
  const ts = lines.filter((l) => l.msg === msg).map((l) => l.t);
  return ts.length ? { first: Math.min(...ts), last: Math.max(...ts), count: ts.length } : { count: 0 };
}

/** Cluster + agent + `pods` Running pods on the node. On failure everything made is torn down. */
export async function setUp(opts: { name: string; pods: number; agentArgs: readonly string[]; concurrency?: number; build?: AgentBuild }): Promise<BenchEnv> {
  log(`starting 1-node cluster ${opts.name}`);
  let cluster: Cluster | undefined;
  let fleet: AgentFleet | undefined;
  try {
    cluster = await startCluster({ name: opts.name, nodes: 1, onProgress: (l) => log(`  ${l}`) });
    const c = cluster;
    const node = c.nodes[0]!;
    fleet = new AgentFleet(() => c, opts.agentArgs, opts.build);
    log(`starting npl-agent on ${node.name} (${node.ip}) with ${opts.agentArgs.join(' ') || 'default flags'}`);
    await fleet.startAll();
    const pods = Array.from({ length: opts.pods }, (_, i) => podName(i));
    log(`creating ${pods.length} pods on ${node.name}, ${opts.concurrency ?? 25} at a time`);
    const t0 = performance.now();
    await mapLimit(pods, opts.concurrency ?? 25, async (name) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await core(c).createNamespacedPod({
            namespace: NS,
            body: {
              metadata: { name, labels: { ...APP_LABEL } },
              spec: { nodeName: node.name, containers: [{ name: 'server', image: 'npl-e2e/server:1', ports: [{ containerPort: POD_PORT }] }] },
            },
          });
          return;
        } catch (err) {
          if (attempt >= 5) throw err;
          await sleep(500 * (attempt + 1));
        }
      }
    });
    log(`  created in ${((performance.now() - t0) / 1000).toFixed(1)} s; waiting until all are Running`);
    let lastReport = 0;
    for (const deadline = performance.now() + 300_000; ; ) {
      const list = await core(c).listNamespacedPod({ namespace: NS, labelSelector: `app=${APP_LABEL.app}` });
      const running = list.items.filter((p) => p.status?.phase === 'Running' && p.status.podIP).length;
      if (running === pods.length) break;
      if (performance.now() > deadline) throw new Error(`only ${running}/${pods.length} pods Running after 300 s`);
      if (performance.now() - lastReport > 5_000) {
        log(`  ${running}/${pods.length} Running`);
        lastReport = performance.now();
      }
      await sleep(1_000);
    }
    log(`  all ${pods.length} pods Running after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const agentLog = path.join(c.dir, 'logs', `${node.name}-e2e-agent.log`);
    return { cluster: c, node, fleet, pods, agentArgs: opts.agentArgs, agentLog };
  } catch (err) {
    await tearDown({ cluster, fleet, name: opts.name });
    throw err;
  }
}

/** Stop the agents and delete the cluster; keeps a copy of the agent log in the temp dir. Never throws. */
export async function tearDown(env: { cluster?: Cluster; fleet?: AgentFleet; name: string; agentLog?: string }): Promise<void> {
  try {
    await env.fleet?.stopAll();
  } catch (err) {
    log(`stopping the agent failed: ${(err as Error).message}`);
  }
  if (env.agentLog && existsSync(env.agentLog)) {
    const copy = path.join(tmpdir(), `${env.name}-agent.log`);
    try {
      copyFileSync(env.agentLog, copy);
      log(`agent log kept at ${copy}`);
    } catch {
      // best effort
    }
  }
  if (env.cluster) {
    log(`deleting cluster ${env.name}`);
    await env.cluster.stop().catch((err: unknown) => log(`deleting the cluster failed: ${(err as Error).message}`));
  }
}

/** Run `fn` with cleanup on SIGINT/SIGTERM too (the `finally` of an interrupted run never comes). */
/** Set up the bench cluster, run `body`, and always tear down (also on SIGINT/SIGTERM). */
export async function withBenchEnv<T>(
  opts: { name: string; pods: number; agentArgs: readonly string[]; build?: AgentBuild },
  body: (env: BenchEnv) => Promise<T>,
): Promise<T> {
  let env: BenchEnv | undefined;
  const cleanup = (): Promise<void> => tearDown({ ...env, name: opts.name, agentLog: env?.agentLog });
  const offInterrupt = onInterrupt(cleanup);
  try {
    env = await setUp(opts);
    return await body(env);
  } finally {
    await cleanup();
    offInterrupt();
  }
}

export function onInterrupt(cleanup: () => Promise<void>): () => void {
  const handler = (sig: NodeJS.Signals): void => {
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** The flags every local-cluster benchmark takes; `name` and `parallel` default per benchmark. */
export function clusterBenchOptions(defaults: { name: string; parallel: string }) {
  return {
    pods: { type: 'string', default: '500' },
    runs: { type: 'string', default: '3' },
    'agent-args': { type: 'string', default: DEFAULT_AGENT_ARGS },
    name: { type: 'string', default: defaults.name },
    parallel: { type: 'string', default: defaults.parallel },
    help: { type: 'boolean', default: false },
  } as const;
}

/**
 * The common start of a local-cluster benchmark's main: with --help, writes `help` to stdout and
 * returns undefined; otherwise throws unless run as root (the local cluster needs network
 * namespaces and nftables) and returns the agent flags from --agent-args.
 */
export function clusterBenchAgentArgs(bench: string, help: string, values: { readonly help: boolean; readonly 'agent-args': string }): string[] | undefined {
  if (values.help) {
    process.stdout.write(help);
    return undefined;
  }
  if (process.getuid?.() !== 0) throw new Error(`${bench} needs root (the local cluster: network namespaces, nftables)`);
  return splitArgs(values['agent-args']);
}

/** Runs `main` when the module at `moduleUrl` is the script node started; on failure prints the stack and exits 1. */
export function runAsScript(moduleUrl: string, main: () => Promise<void>): void {
  if (moduleUrl !== `file://${process.argv[1]}`) return;
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}

/** Parse `--agent-args` ("--api-qps 0 --workers 8") into argv. */
export function splitArgs(text: string): string[] {
  return text.split(/\s+/).filter((s) => s !== '');
}

export const fmt = (s: number | undefined, digits = 2): string => (s === undefined || Number.isNaN(s) ? '–' : s.toFixed(digits));

/**
 * One HTTP GET over a fresh TCP connection: resolves true when the body is exactly `name`.
 * Shared by both clients below (inlined into their scripts).
 */
const GET_ONE = `
import net from 'node:net';
function getOne(host, port, name, timeoutMs) {
  return new Promise((resolve) => {
    let buf = '';
    let settled = false;
    const done = (ok, why) => { if (!settled) { settled = true; clearTimeout(timer); s.destroy(); resolve(ok ? null : why); } };
    const s = net.connect({ host, port });
    const timer = setTimeout(() => done(false, 'timeout'), timeoutMs);
    s.setEncoding('utf8');
    s.once('connect', () => s.write('GET / HTTP/1.0\\r\\nHost: npl\\r\\n\\r\\n'));
    s.on('data', (d) => (buf += d));
    s.once('end', () => {
      s.end();
      const i = buf.indexOf('\\r\\n\\r\\n');
      const body = i < 0 ? '' : buf.slice(i + 4).trim();
      done(body === name, i < 0 ? 'no response' : 'answered ' + JSON.stringify(body.slice(0, 40)));
    });
    s.once('error', (e) => done(false, e.code ?? e.message));
  });
}
`;

/**
 * Checks every port→name pair with bounded parallelism, retrying failures in rounds until all pass
 * or the deadline; prints one JSON line {ok, elapsedMs, attempts, rounds, failed}.
 */
const CHECK_CLIENT = `${GET_ONE}
const [host, pairsJson, parallel, deadlineMs] = process.argv.slice(1);
let pending = JSON.parse(pairsJson);
const t0 = performance.now();
let attempts = 0, rounds = 0, lastFail = [];
while (pending.length) {
  rounds++;
  const failed = [];
  let next = 0;
  await Promise.all(Array.from({ length: Number(parallel) }, async () => {
    while (next < pending.length) {
      const [port, name] = pending[next++];
      attempts++;
      const why = await getOne(host, port, name, 1000);
      if (why) failed.push([port, name, why]);
    }
  }));
  pending = failed.map(([p, n]) => [p, n]);
  lastFail = failed;
  if (pending.length && performance.now() - t0 > Number(deadlineMs)) break;
  if (pending.length) await new Promise((r) => setTimeout(r, 20));
}
console.log(JSON.stringify({ ok: pending.length === 0, elapsedMs: performance.now() - t0, attempts, rounds, failed: lastFail.slice(0, 20) }));
`;

export interface CheckResult {
  readonly ok: boolean;
  readonly elapsedMs: number;
  readonly attempts: number;
  readonly rounds: number;
  readonly failed: readonly [number, string, string][];
}

/** Run the checking client in `netns` against host; resolves when all pairs answered right (or the deadline passed). */
export async function checkAllReachable(netns: string, host: string, pairs: readonly [number, string][], parallel = 25, deadlineMs = 120_000): Promise<CheckResult> {
  const out = await allOutput(spawnInNs(netns, CHECK_CLIENT, [host, JSON.stringify(pairs), String(parallel), String(deadlineMs)]));
  return JSON.parse(out.trim().split('\n').pop()!) as CheckResult;
}

/**
 * Loops through every port→name pair continuously (\`parallel\` connections in flight, each a new
 * connection: connect, GET, read the name, compare, close) until SIGTERM; then prints one JSON line
 * with successes, failures, the failed ports and the longest gap between two successes.
 */
const LOOP_CLIENT = `${GET_ONE}
const [host, pairsJson, parallel, timeoutMs] = process.argv.slice(1);
const pairs = JSON.parse(pairsJson);
let ok = 0, failed = 0, next = 0, stopping = false, lastOk = performance.now(), maxGapMs = 0;
const failedPorts = new Map();
const failures = [];
process.once('SIGTERM', () => (stopping = true));
const workers = Array.from({ length: Number(parallel) }, async () => {
  while (!stopping) {
    const [port, name] = pairs[next++ % pairs.length];
    const why = await getOne(host, port, name, Number(timeoutMs));
    if (why) {
      failed++;
      failedPorts.set(port, (failedPorts.get(port) ?? 0) + 1);
      if (failures.length < 20) failures.push({ port, name, why, at: Date.now() });
    } else {
      ok++;
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - lastOk);
      lastOk = now;
    }
  }
});
console.log('ready');
await Promise.all(workers);
console.log(JSON.stringify({ ok, failed, failedPorts: [...failedPorts.keys()].sort((a, b) => a - b), failures, maxGapMs, loops: next / pairs.length }));
`;

export interface LoopResult {
  readonly ok: number;
  readonly failed: number;
  readonly failedPorts: readonly number[];
  readonly failures: readonly { port: number; name: string; why: string; at: number }[];
  readonly maxGapMs: number;
  readonly loops: number;
}

/** Start the looping client (a request not answered in `timeoutMs` fails); `stop()` ends it and resolves with its counts. */
export async function startLoopClient(netns: string, host: string, pairs: readonly [number, string][], parallel = 2, timeoutMs = 1_000): Promise<{ stop(): Promise<LoopResult> }> {
  const child = spawnInNs(netns, LOOP_CLIENT, [host, JSON.stringify(pairs), String(parallel), String(timeoutMs)]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await firstLine(child);
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
      const last = out.trim().split('\n').pop() ?? '';
      if (!last.startsWith('{')) throw new Error(`loop client printed no result: ${out.slice(-300)}`);
      return JSON.parse(last) as LoopResult;
    },
  };
}

/**
 * CPU seconds (user + system) a process has used so far, and those of its waited-for children
 * (for the agent: the nft processes it runs); 0 when it is gone. Clock ticks of 1/100 s.
 */
export function cpuSeconds(pid: number): { self: number; children: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    return { self: (Number(f[11]) + Number(f[12])) / 100, children: (Number(f[13]) + Number(f[14])) / 100 };
  } catch {
    return { self: 0, children: 0 };
  }
}

/** Pid of the process listening on the agent's health port in the node's namespace. */
export async function agentPid(env: BenchEnv): Promise<number | undefined> {
  const out = await env.cluster.exec(env.node.netns, ['ss', '-Hltnp', 'sport', '= :10361']).catch(() => '');
  const m = /pid=(\d+)/.exec(out);
  return m ? Number(m[1]) : undefined;
}

/** Pids of the cluster's daemons by role (etcd, apiserver, controller-manager, scheduler, standin). */
export function clusterPids(env: BenchEnv): Record<string, number> {
  try {
    return (JSON.parse(readFileSync(path.join(env.cluster.dir, 'state.json'), 'utf8')) as { pids: Record<string, number> }).pids;
  } catch {
    return {};
  }
}

/** CPU seconds of the agent and each cluster daemon, to diff around a timed section. */
export async function cpuSnapshot(env: BenchEnv): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const pid = await agentPid(env);
  if (pid) {
    const c = cpuSeconds(pid);
    out.agent = c.self;
    out.agentChildren = c.children;
  }
  for (const [role, p] of Object.entries(clusterPids(env))) out[role] = cpuSeconds(p).self;
  return out;
}

export function cpuDelta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, Math.round((v - (before[k] ?? 0)) * 100) / 100]));
}
