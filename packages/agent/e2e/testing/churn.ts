/**
 * Pod churn against a running npl-agent, shared by the CI churn test (e2e/npl-churn.e2e.test.ts) and
 * the churn benchmark (bench/churn.ts): Pods selected by an NPL Service are created and deleted at a
 * fixed rate on one node, and afterwards the node is checked for leaks — rules, reserved sockets,
 * ports the agent counts as held, and annotations — against the Pods that still exist.
 * No Jest here (benchmarks import it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import type { Cluster, ClusterNode } from '@npl/cluster';
import { eventually } from '@npl/runtime';
import { isCompleteNplEntry, NPL_ANNOTATION_KEY, parseNplAnnotation } from '@npl/core';
import { core, NS, nftMappings } from '../harness.js';

export const CHURN_LABEL = { app: 'nplchurn' } as const;
export const CHURN_POD_PORT = 80;
/** Marks the Pods `runChurn` makes (others may share CHURN_LABEL, e.g. a steady Pod). */
const CHURNED = 'churned=true';

export interface ChurnOptions {
  readonly node: ClusterNode;
  /** Pod creations per second (as many deletions once `population` Pods exist). */
  readonly rate: number;
  readonly durationMs: number;
  /** Pods alive at once: each Pod lives about population / rate seconds. */
  readonly population: number;
  /** API calls in flight at most; a tick finding them all busy is skipped and counted. */
  readonly maxInFlight?: number;
  readonly signal?: AbortSignal;
  /** Builds each Pod (default: a Pod of CHURN_LABEL on `node`); `runChurn` adds the `churned` label. */
  readonly pod?: (name: string) => V1Pod;
  /** Runs after each Pod is created (e.g. writing a kubelet-less Pod's status); failures are counted. */
  readonly afterCreate?: (name: string) => Promise<void>;
  /** Runs after each Pod is deleted. */
  readonly afterDelete?: (name: string) => void;
}

export interface ChurnResult {
  readonly created: number;
  readonly deleted: number;
  readonly createErrors: number;
  readonly deleteErrors: number;
  /** Ticks skipped because `maxInFlight` calls were still running (the API server fell behind). */
  readonly skippedTicks: number;
  /** Failures of `afterCreate`. */
  readonly afterCreateErrors: number;
  readonly seconds: number;
}

export const churnPodName = (i: number): string => `ch-${i.toString(36).padStart(5, '0')}`;

/**
 * Creates a Pod every 1/rate s and, once `population` exist, deletes the oldest (grace period 0)
 * at the same pace, for `durationMs`. Errors are counted, not thrown. The Pods left at the end are
 * not deleted (see `deleteChurnPods`).
 */
export async function runChurn(cluster: Cluster, opts: ChurnOptions): Promise<ChurnResult> {
  const api = core(cluster);
  const live: string[] = [];
  const counts = { created: 0, deleted: 0, createErrors: 0, deleteErrors: 0, skippedTicks: 0, afterCreateErrors: 0 };
  const podOf = opts.pod ?? ((name: string) => defaultPod(name, opts.node));
  const maxInFlight = opts.maxInFlight ?? 50;
  const inFlight = new Set<Promise<void>>();
  const track = (p: Promise<void>): void => {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  const intervalMs = 1_000 / opts.rate;
  const t0 = performance.now();
  for (let tick = 0; performance.now() - t0 < opts.durationMs && !opts.signal?.aborted; tick++) {
    if (inFlight.size >= maxInFlight) counts.skippedTicks++;
    else {
      const name = churnPodName(tick);
      live.push(name);
      const pod = podOf(name);
      const body = { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata?.labels, churned: 'true' } } };
      track(
        api.createNamespacedPod({ namespace: NS, body }).then(
          async () => {
            counts.created++;
            await opts.afterCreate?.(name).catch(() => void counts.afterCreateErrors++);
          },
          () => void counts.createErrors++,
        ),
      );
      if (live.length > opts.population) {
        const victim = live.shift()!;
        track(
          api.deleteNamespacedPod({ name: victim, namespace: NS, gracePeriodSeconds: 0 }).then(
            () => {
              counts.deleted++;
              opts.afterDelete?.(victim);
            },
            () => void counts.deleteErrors++,
          ),
        );
      }
    }
    const next = t0 + (tick + 1) * intervalMs;
    const wait = next - performance.now();
    // Pacing only: the schedule is absolute, so a late tick does not shift the later ones.
    if (wait > 0) await sleep(wait);
  }
  await Promise.all([...inFlight]);
  return { ...counts, seconds: (performance.now() - t0) / 1_000 };
}

function defaultPod(name: string, node: ClusterNode): V1Pod {
  return { metadata: { name, labels: { ...CHURN_LABEL } }, spec: { nodeName: node.name, containers: [{ name: 'server', image: 'npl-e2e/server:1', ports: [{ containerPort: CHURN_POD_PORT }] }] } };
}

/** Deletes every Pod `runChurn` made (grace period 0) and waits until none exists. */
export async function deleteChurnPods(cluster: Cluster, timeoutMs = 180_000): Promise<void> {
  const api = core(cluster);
  await api.deleteCollectionNamespacedPod({ namespace: NS, labelSelector: CHURNED, gracePeriodSeconds: 0 });
  await eventually(
    async () => (await api.listNamespacedPod({ namespace: NS, labelSelector: CHURNED })).items.length === 0,
    timeoutMs,
    'every churn Pod gone',
    1_000,
  );
}

export interface LeakReport {
  /** Node ports in the annotations of the Pods that exist on the node. */
  readonly expected: number;
  /** nft mappings whose node port no existing Pod's annotation holds. */
  readonly leakedRules: readonly number[];
  /** Sockets (TCP listening or UDP bound) in the port range that no existing Pod's annotation explains. */
  readonly leakedSockets: readonly number[];
  /** Annotation entries without a matching rule, or a node port claimed by two Pods. */
  readonly staleAnnotations: readonly string[];
  /** The agent's count of held ports (npl_agent_mappings) minus `expected`. */
  readonly heldPortsSurplus: number;
}

export const leakCount = (r: LeakReport): number => r.leakedRules.length + r.leakedSockets.length + r.staleAnnotations.length + Math.abs(r.heldPortsSurplus);

async function boundPorts(cluster: Cluster, node: ClusterNode, range: readonly [number, number]): Promise<number[]> {
  const out: number[] = [];
  for (const flag of ['-lt', '-lu']) {
    const text = await cluster.exec(node.netns, ['ss', '-Hn', flag]);
    for (const line of text.split('\n')) {
      const local = line.trim().split(/\s+/)[3];
      const port = Number(local?.slice(local.lastIndexOf(':') + 1));
      if (port >= range[0] && port <= range[1]) out.push(port);
    }
  }
  return out;
}

/** The agent's /metrics text parsed into `name{labels}` → value ({} when it does not answer). */
export async function scrape(node: ClusterNode): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const res = await fetch(`http://${node.ip}:10361/metrics`, { signal: AbortSignal.timeout(5_000) });
    for (const line of (await res.text()).split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const i = line.lastIndexOf(' ');
      out.set(line.slice(0, i), Number(line.slice(i + 1)));
    }
  } catch {
    // agent down: empty
  }
  return out;
}

export const metricTotal = (m: Map<string, number>, name: string): number =>
  [...m].filter(([k]) => k === name || k.startsWith(`${name}{`)).reduce((s, [, v]) => s + v, 0);

/** Compares the node's rules, sockets and the agent's counts with the annotations of the Pods that exist. */
export async function leakReport(cluster: Cluster, node: ClusterNode, range: readonly [number, number]): Promise<LeakReport> {
  const pods = (await core(cluster).listNamespacedPod({ namespace: NS, fieldSelector: `spec.nodeName=${node.name}` })).items;
  const owner = new Map<number, string>();
  const stale: string[] = [];
  const rules = await nftMappings(cluster, node);
  const ruleKey = new Set(rules.map((r) => `${r.protocol}/${r.nodePort}/${r.podIP}/${r.podPort}`));
  for (const p of pods) {
    const text = p.metadata?.annotations?.[NPL_ANNOTATION_KEY];
    if (text === undefined) continue;
    for (const e of parseNplAnnotation(text).filter(isCompleteNplEntry)) {
      const name = p.metadata!.name!;
      if (owner.has(e.nodePort)) stale.push(`${name}: node port ${e.nodePort} also held by ${owner.get(e.nodePort)}`);
      owner.set(e.nodePort, name);
      if (e.ipFamily === 'IPv4' && !ruleKey.has(`${e.protocol}/${e.nodePort}/${p.status?.podIP}/${e.podPort}`)) stale.push(`${name}: ${e.protocol}/${e.nodePort} has no rule`);
    }
  }
  const held = metricTotal(await scrape(node), 'npl_agent_mappings');
  return {
    expected: owner.size,
    leakedRules: rules.filter((r) => !owner.has(r.nodePort)).map((r) => r.nodePort),
    leakedSockets: (await boundPorts(cluster, node, range)).filter((p) => !owner.has(p)),
    staleAnnotations: stale,
    heldPortsSurplus: held - owner.size,
  };
}

/** Polls until the node has no leak or the deadline passes; returns the last report either way. */
export async function settledLeakReport(cluster: Cluster, node: ClusterNode, range: readonly [number, number], timeoutMs = 60_000): Promise<LeakReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await leakReport(cluster, node, range);
    if (leakCount(r) === 0 || Date.now() > deadline) return r;
    await sleep(1_000);
  }
}

/**
 * Resident memory of a process, bytes, from /proc/<pid>/status: VmRSS and its anonymous (heap, malloc)
 * and file-backed (the executable's and libraries' pages read so far) parts; and its open file
 * descriptors. Undefined when the process is gone.
 */
export function processFootprint(pid: number): { rss: number; rssAnon: number; rssFile: number; fds: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kib('VmRSS'), rssAnon: kib('RssAnon'), rssFile: kib('RssFile'), fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}
