/**
 * Figures for the local cluster (not a timed test): warm `up` to Ready nodes, time to 3 Ready pods
 * of a Deployment, `down`, and optionally many pods on one node and a cold build of the binaries.
 *
 *   node --import ./bin/ts-hooks.mjs bench/up.bench.ts [--runs 3] [--pods 500] [--cold] [--ip-family dual|ipv4|ipv6]
 *
 * Prints one line per run and medians. Needs root; uses cluster name `bench`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
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
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
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

async function oneRun(i: number, manyPods: number): Promise<{ up: number; pods3: number; many?: number; down: number }> {
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
  if (manyPods > 0) {
    const t2 = Date.now();
    await apps.createNamespacedDeployment({ namespace: 'default', body: deployment('many', manyPods, { 'kubernetes.io/hostname': 'node-0' }) });
    await readyPods(core, manyPods, 'app=many');
    many = Date.now() - t2;
    const state = JSON.parse(await readFile(path.join(c.dir, 'state.json'), 'utf8')) as { pids: Record<string, number> };
    const rss = await rssMiB(state.pids.standin!);
    const api = await rssMiB(state.pids.apiserver!);
    console.log(`run ${i}: ${manyPods} pods on one node Ready in ${sec(many)}; RSS ${fmt(rss)}, ${fmt(api)}`);
  }
  const t3 = Date.now();
  await c.stop();
  const down = Date.now() - t3;
  console.log(`run ${i}: up to Ready nodes ${sec(up)}, 3 Ready pods ${sec(pods3)}, down ${sec(down)}`);
  return { up, pods3, many, down };
}

async function coldBuild(): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'npl-cold-'));
  try {
    const t = Date.now();
    await execa('bash', [path.join(packageDir, 'scripts', 'build-binaries.sh')], {
      env: { ...process.env, NPL_CACHE_DIR: path.join(tmp, 'cache'), GOCACHE: path.join(tmp, 'gocache') },
      stderr: 'inherit',
    });
    console.log(`cold build of the control plane binaries (empty Go build cache, warm module cache): ${sec(Date.now() - t)}`);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (values.cold) await coldBuild();
  const runs = Number(values.runs);
  const results = [];
  for (let i = 1; i <= runs; i++) results.push(await oneRun(i, i === 1 ? Number(values.pods) : 0));
  console.log(`median of ${runs}: up to Ready nodes ${sec(median(results.map((r) => r.up)))}, 3 Ready pods ${sec(median(results.map((r) => r.pods3)))}, down ${sec(median(results.map((r) => r.down)))}`);
}

await main();
