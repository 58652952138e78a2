/**
 * Benchmark 2 (issue 9): one pod added. A 1-node local cluster (real API server, as root, under the
 * flock), the BIG-IP emulator and npl-controller in this process (leader election on, as shipped). A
 * Service selects 10 annotated pods; then, --runs times: a pod is created without annotation, and
 * once the controller has seen it and is idle, the benchmark writes the pod's NodePortLocal
 * annotation (as the agent would) and measures the time from the PATCH call to the member being on
 * the emulator (polled every 2 ms in-process), and the BIG-IP writes (POST/PUT/PATCH/DELETE) and
 * requests that change caused. Goal: p99 < 2 s, <= 2 writes.
 *
 * `node dist-bench/bench/pod-added.js [--runs 30] [--backend icontrol|as3] [--name nplctlbench]` (root)
 * Writes docs/benchmarks/results/controller.pod-added.json.
 */
import { parseArgs } from 'node:util';
import type { BenchResult, Figure, RunFrame } from '@npl/benchkit';
import { beginRun, ecdf, tableFromMarkdown, writeResult } from '@npl/benchkit';
import { CoreV1Api } from '@kubernetes/client-node';
import type { RunningEmulator } from '@npl/bigip-emulator';
import { startEmulator } from '@npl/bigip-emulator';
import type { Cluster } from '@npl/cluster';
import { startCluster, stopCluster } from '@npl/cluster';
import { createLogger } from '@npl/runtime';
import { parseControllerConfig } from '../src/config.js';
import type { RunningController } from '../src/controller.js';
import { startController } from '../src/controller.js';
import { fmt, log, median, percentile } from './util.js';

const NS = 'default';
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface PodAddedResult {
  readonly backend: string;
  readonly latencyMs: number[];
  readonly writes: number[];
  readonly requests: number[];
}

async function until(ok: () => boolean, timeoutMs: number, what: string, everyMs = 2): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

function annotation(ip: string, nodePort: number): Record<string, string> {
  return { 'nodeportlocal.antrea.io': JSON.stringify([{ podPort: 80, nodeIP: ip, nodePort, protocol: 'tcp', ipFamily: 'IPv4' }]) };
}

interface Rig {
  readonly cluster: Cluster;
  readonly emu: RunningEmulator;
  readonly controller: RunningController;
}

/** Each backend's run has its own Service, pod label and node ports: the pods of one never feed the other. */
function podBody(cluster: Cluster, name: string, app: string, annotations?: Record<string, string>) {
  return {
    metadata: { name, labels: { app }, ...(annotations ? { annotations } : {}) },
    spec: { nodeName: cluster.nodes[0]!.name, containers: [{ name: 'server', image: 'npl-e2e/server:1', ports: [{ containerPort: 80 }] }] },
  };
}

async function setUp(cluster: Cluster, backend: string): Promise<Rig> {
  const emu = await startEmulator({ partitions: ['k8s'], traffic: false });
  const parsed = parseControllerConfig(['--bigip-url', emu.url, '--bigip-ca-file', emu.caFile ?? '', '--bigip-username', 'admin', '--health-address', '127.0.0.1:0', '--backend', backend, '--leader-election-id', `npl-bench-${backend}`], { BIGIP_PASSWORD: 'admin' });
  if (parsed.help) throw new Error('unexpected help');
  const controller = await startController(parsed.config, createLogger({ name: 'npl-controller-bench', level: 'warn' }), { kubeConfig: cluster.kubeConfig, env: { BIGIP_PASSWORD: 'admin' } });
  await controller.leading;
  return { cluster, emu, controller };
}

async function measure(rig: Rig, backend: string, runs: number): Promise<PodAddedResult> {
  const { cluster, emu, controller } = rig;
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const ip = cluster.nodes[0]!.ip;
  const app = `bench-${backend}`;
  const offset = backend === 'as3' ? 500 : 0;
  await core.createNamespacedService({ namespace: NS, body: { metadata: { name: app, annotations: { 'nodeportlocal.antrea.io/enabled': 'true' } }, spec: { selector: { app }, ports: [{ port: 80, targetPort: 80 }] } } });
  for (let i = 0; i < 10; i++) await core.createNamespacedPod({ namespace: NS, body: podBody(cluster, `${backend}-base-${i}`, app, annotation(ip, 61000 + offset + i)) });
  const memberLines = (): string[] => emu.state.dump().split('\n').filter((l) => l.startsWith('  member '));
  await until(() => memberLines().length === 10, 60_000, '10 members', 20);
  const result: PodAddedResult = { backend, latencyMs: [], writes: [], requests: [] };
  for (let i = 0; i < runs; i++) {
    const name = `${backend}-add-${i}`;
    const port = 62000 + offset + i;
    await core.createNamespacedPod({ namespace: NS, body: podBody(cluster, name, app) });
    await until(() => controller.cache.pods.list().some((p) => p.metadata?.name === name), 30_000, `${name} in the cache`);
    await controller.engine.idle();
    const before = emu.requestLog.entries().length;
    const t0 = performance.now();
    await core.patchNamespacedPod({ name, namespace: NS, body: [{ op: 'add', path: '/metadata/annotations', value: annotation(ip, port) }] });
    await until(() => memberLines().some((l) => l.includes(`${ip}:${port} `) || l.includes(`${ip}.${port} `) || l.endsWith(`${ip}:${port}`)), 30_000, `member of ${name}`);
    const latency = performance.now() - t0;
    await controller.engine.idle();
    if (memberLines().length !== 11 + i) throw new Error(`${backend}: ${memberLines().length} members after ${i + 1} pods added, ${11 + i} expected`);
    const entries = emu.requestLog.entries().slice(before);
    result.latencyMs.push(latency);
    result.writes.push(entries.filter((e) => WRITE_METHODS.has(e.method) && !e.path.startsWith('/mgmt/shared/authn')).length);
    result.requests.push(entries.length);
    log(`pod added (${backend}) ${i + 1}/${runs}: ${fmt(latency)}, ${result.writes.at(-1)} writes, ${result.requests.at(-1)} requests`);
  }
  return result;
}

export async function runPodAdded(runs: number, backends: readonly string[], name: string): Promise<PodAddedResult[]> {
  const cluster = await startCluster({ name, nodes: 1 });
  const results: PodAddedResult[] = [];
  try {
    for (const backend of backends) {
      const rig = await setUp(cluster, backend);
      try {
        results.push(await measure(rig, backend, runs));
      } finally {
        await rig.controller.stop();
        await rig.emu.close();
        // The next backend's controller would make a pool of this Service too.
        await cluster.kubeConfig.makeApiClient(CoreV1Api).deleteNamespacedService({ name: `bench-${backend}`, namespace: NS }).catch(() => undefined);
      }
    }
  } finally {
    await stopCluster(name);
  }
  return results;
}

export function podAddedTable(results: readonly PodAddedResult[]): string {
  const rows = results.map((r) => {
    const p99 = percentile(r.latencyMs, 99);
    const maxWrites = Math.max(...r.writes);
    return `| ${r.backend} | **${fmt(median(r.latencyMs))}** | ${fmt(p99)} | ${fmt(Math.min(...r.latencyMs))} - ${fmt(Math.max(...r.latencyMs))} | ${median(r.writes)} (max ${maxWrites}) | ${median(r.requests)} | ${r.latencyMs.length} | p99 < 2 s ${p99 < 2_000 ? '✔' : '✘'}, <= 2 writes ${maxWrites <= 2 ? '✔' : '✘'} |`;
  });
  return ['| backend | annotation to member, median | p99 | range | BIG-IP writes | requests | runs | goal |', '|---|---|---|---|---|---|---|---|', ...rows].join('\n');
}

const ms1 = (x: number): number => Math.round(x * 10) / 10;

/** The result file's content: annotation → member latency per backend (p99 under 2 s), writes per pod (at most 2), the distribution. */
export function podAddedResult(frame: RunFrame, results: readonly PodAddedResult[]): BenchResult {
  const figures: Figure[] = [];
  for (const r of results) {
    const runs = r.latencyMs.map(ms1);
    figures.push({ name: `${r.backend}: annotation → member`, unit: 'ms', median: median(runs), runs });
    figures.push({ name: `${r.backend}: annotation → member, p99 of ${runs.length}`, unit: 'ms', median: percentile(runs, 99), runs: [percentile(runs, 99)], goal: { op: '<', value: 2_000, text: '< 2 s' } });
    figures.push({ name: `${r.backend}: BIG-IP writes per pod added (max ${Math.max(...r.writes)})`, unit: 'count', median: median(r.writes), runs: r.writes, goal: { op: '<=', value: 2 } });
  }
  const runs = results[0]?.latencyMs.length ?? 0;
  return {
    ...frame,
    id: 'controller.pod-added',
    order: 31,
    section: 'npl-controller',
    title: 'One pod added',
    command: `node packages/controller/dist-bench/bench/pod-added.js --runs ${runs} ${results.map((r) => `--backend ${r.backend}`).join(' ')}`,
    description: [
      '`packages/controller/bench/pod-added.ts`: a 1-node local cluster (real API server), the BIG-IP emulator and npl-controller in',
      'the benchmark\'s process, as shipped (leader election on; it leads before measuring). A Service selects 10 annotated pods; then',
      `${runs} times: a pod is created without annotation and, once the controller has it in its cache and is idle, the benchmark writes`,
      'the pod\'s NodePortLocal annotation (a JSON patch, as the agent writes it) and measures from the PATCH call until the member is',
      'on the emulator (polled in-process every 2 ms); then counts the BIG-IP requests that change caused, and the writes among them',
      '(POST/PUT/PATCH/DELETE, login excluded). Each backend has its own Service, pods and node ports.',
    ].join('\n'),
    figures,
    tables: [tableFromMarkdown(podAddedTable(results))],
    charts: [
      {
        id: 'controller-pod-added',
        title: 'Annotation to BIG-IP member: distribution over the pods added',
        x: { label: 'annotation → member', unit: 'ms' },
        y: { label: 'fraction of pods added', min: 0 },
        series: results.map((r) => ({ name: r.backend, points: ecdf(r.latencyMs.map(ms1)) })),
      },
    ],
  };
}

async function main(): Promise<void> {
  const run = beginRun();
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '30' }, backend: { type: 'string', multiple: true }, name: { type: 'string', default: 'nplctlbench' } } });
  const results = await runPodAdded(Number(values.runs), values.backend ?? ['icontrol', 'as3'], values.name);
  process.stdout.write(`${podAddedTable(results)}\n${JSON.stringify(results)}\n`);
  writeResult(podAddedResult(run.finish(), results));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
