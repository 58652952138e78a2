/**
 * Figures for the local cluster (not a timed test): warm `up` to Ready nodes, time to 3 Ready pods
 * of a Deployment, `down`, and optionally many pods on one node and a cold build of the binaries.
 *
 *   node --import ./bin/ts-hooks.mjs bench/up.bench.ts [--runs 3] [--pods 500] [--cold] [--ip-family dual|ipv4|ipv6]
 *
 * Prints one line per run and medians, and writes docs/benchmarks/results/cluster.up.json (the
 * figures of docs/benchmarks.md). Needs root; uses cluster name `bench`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { BenchResult, Figure } from '@npl/benchkit';
import { beginRun, median, writeResult } from '@npl/benchkit';
import { execa } from 'execa';
import { pino } from 'pino';
import { startCluster } from '../src/cluster.js';
import { packageDir } from '../src/binaries.js';
import { validateIPFamily } from '../src/layout.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    pods: { type: 'string', default: '0' },
    cold: { type: 'boolean', default: false },
    'ip-family': { type: 'string', default: 'dual' },
  },
});
const log = pino({ level: 'warn' }, pino.destination(2));
const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function readyPods(core: CoreV1Api, n: number, label: string): Promise<void> {
  for (;;) {
    const pods = (await core.listNamespacedPod({ namespace: 'default', labelSelector: label })).items;
    const ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (ready.length >= n) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** RSS in MiB of each process in `pid`'s process group, by command name (stand-in: node + podnet). */
async function rssMiB(pid: number): Promise<Record<string, number>> {
  const { stdout } = await execa('ps', ['-e', '-o', 'pgid=,rss=,comm=']);
  const out: Record<string, number> = {};
  for (const line of stdout.split('\n')) {
    const [pgid, rss, comm] = line.trim().split(/\s+/);
    if (Number(pgid) === pid && comm) out[comm] = (out[comm] ?? 0) + Number(rss) / 1024;
  }
  return out;
}
const fmt = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k} ${v.toFixed(0)} MiB`).join(', ');

function deployment(name: string, replicas: number, nodeSelector?: Record<string, string>) {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { ...(nodeSelector ? { nodeSelector } : {}), containers: [{ name: 'c', image: 'bench:1', ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }] }] },
      },
    },
  };
}

interface RunTimes {
  readonly up: number;
  readonly pods3: number;
  readonly many?: number;
  readonly manyRss?: string;
  readonly down: number;
}

async function oneRun(i: number, manyPods: number): Promise<RunTimes> {
  const t0 = Date.now();
  const c = await startCluster({ name: 'bench', nodes: 2, logger: log, ipFamily: validateIPFamily(values['ip-family']) });
  const up = Date.now() - t0;
  const core = c.kubeConfig.makeApiClient(CoreV1Api);
  const apps = c.kubeConfig.makeApiClient(AppsV1Api);
  const t1 = Date.now();
  await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('three', 3) });
  await readyPods(core, 3, 'app=three');
  const pods3 = Date.now() - t1;
  let many: number | undefined;
  let manyRss: string | undefined;
  if (manyPods > 0) {
    const t2 = Date.now();
    await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('many', manyPods, { 'kubernetes.io/hostname': 'node-0' }) });
    await readyPods(core, manyPods, 'app=many');
    many = Date.now() - t2;
    const state = JSON.parse(await readFile(path.join(c.dir, 'state.json'), 'utf8')) as { pids: Record<string, number> };
    const rss = await rssMiB(state.pids.standin!);
    const api = await rssMiB(state.pids.apiserver!);
    manyRss = `${fmt(rss)}, ${fmt(api)}`;
    console.log(`run ${i}: ${manyPods} pods on one node Ready in ${sec(many)}; RSS ${manyRss}`);
  }
  const t3 = Date.now();
  await c.stop();
  const down = Date.now() - t3;
  console.log(`run ${i}: up to Ready nodes ${sec(up)}, 3 Ready pods ${sec(pods3)}, down ${sec(down)}`);
  return { up, pods3, ...(many === undefined ? {} : { many, manyRss }), down };
}

async function coldBuild(): Promise<number> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'npl-cold-'));
  try {
    const t = Date.now();
    await execa('bash', [path.join(packageDir, 'scripts', 'build-binaries.sh')], {
      env: { ...process.env, NPL_CACHE_DIR: path.join(tmp, 'cache'), GOCACHE: path.join(tmp, 'gocache') },
      stderr: 'inherit',
    });
    const ms = Date.now() - t;
    console.log(`cold build of the control plane binaries (empty Go build cache, warm module cache): ${sec(ms)}`);
    return ms;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

const s2 = (ms: number): number => Math.round(ms) / 1000;

function figure(name: string, runs: number[], goal?: Figure['goal']): Figure {
  const secs = runs.map(s2);
  return { name, unit: 's', median: median(secs), runs: secs, ...(goal ? { goal } : {}) };
}

function result(frame: ReturnType<ReturnType<typeof beginRun>['finish']>, runs: RunTimes[], coldMs: number | undefined): BenchResult {
  const pods = Number(values.pods);
  const family = values['ip-family'];
  const many = runs.find((r) => r.many !== undefined);
  const flags = [`--runs ${runs.length}`, ...(pods ? [`--pods ${pods}`] : []), ...(coldMs !== undefined ? ['--cold'] : []), `--ip-family ${family}`];
  return {
    ...frame,
    id: 'cluster.up',
    order: 10,
    section: 'Local cluster',
    title: `Local cluster: warm \`up\` to Ready nodes (${family}), pods, \`down\``,
    command: `cd packages/cluster && node --import ./bin/ts-hooks.mjs bench/up.bench.ts ${flags.join(' ')}`,
    description: [
      `\`packages/cluster/bench/up.bench.ts\`: ${runs.length} × (\`cluster up\` with 2 nodes, ${family}, and cached binaries → both nodes Ready;`,
      'a Deployment of 3 → 3 Ready pods; `cluster down`). Timed from the call to its return, on the real clock.',
      pods ? `The first run also starts ${pods} pods on one node and times them to Ready.` : '',
      coldMs !== undefined ? 'Before the runs, one cold build of the control-plane binaries (`--cold`: empty Go build cache, warm module cache).' : '',
    ].filter(Boolean).join(' '),
    figures: [
      figure('warm `up` to Ready nodes', runs.map((r) => r.up), { op: '<', value: 15 }),
      figure('Deployment of 3 to 3 Ready pods', runs.map((r) => r.pods3)),
      figure('`down`', runs.map((r) => r.down)),
      ...(many?.many !== undefined ? [figure(`${pods} pods on one node to Ready`, [many.many])] : []),
      ...(coldMs !== undefined ? [figure('cold build of the control plane binaries', [coldMs])] : []),
    ],
    tables: [
      {
        title: 'Per run',
        columns: ['run', 'up to Ready nodes (s)', '3 Ready pods (s)', 'down (s)'],
        rows: runs.map((r, i) => [i + 1, s2(r.up), s2(r.pods3), s2(r.down)]),
      },
    ],
    ...(many?.manyRss ? { notes: `Memory with ${pods} pods on one node (RSS by process): ${many.manyRss}.` } : {}),
  };
}

async function main(): Promise<void> {
  const run = beginRun();
  const coldMs = values.cold ? await coldBuild() : undefined;
  const runs = Number(values.runs);
  const results: RunTimes[] = [];
  for (let i = 1; i <= runs; i++) results.push(await oneRun(i, i === 1 ? Number(values.pods) : 0));
  console.log(`median of ${runs}: up to Ready nodes ${sec(median(results.map((r) => r.up)))}, 3 Ready pods ${sec(median(results.map((r) => r.pods3)))}, down ${sec(median(results.map((r) => r.down)))}`);
  writeResult(result(run.finish(), results, coldMs));
}

await main();
