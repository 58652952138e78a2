/**
 * Chaos on the control plane (issue 11): the API server stopped for 60 s (a crash: SIGKILL) and then
 * started, and the API server hung (SIGSTOP) until the agent notices, then resumed. Throughout, a
 * client in the outside namespace loops through the node ports: not one request may fail. The agent
 * is the same process before and after, its /readyz goes unready while the API server is away
 * (README "Health": no successful list for --unready-after) and ready again after, its /healthz never
 * fails; mappings keep their node ports, rules and sockets; a Pod created after recovery is mapped; no
 * annotation entry or Event is duplicated. During the hang, annotation PATCHes are in flight (arranged
 * with --api-qps 1): they time out and are retried, so no worker stays stuck (the stall check of
 * /healthz, --stall-limit, would fail otherwise) and every Pod is annotated after the thaw, each with
 * its own node port. The recovery times are logged (docs/operations.md "Health endpoints").
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Cluster, ClusterNode } from '@npl/cluster';
import { describeWithCluster } from '@npl/cluster/testing';
import { eventually } from '@npl/runtime';
import { AgentFleet, annotation, core, createPod, createService, healthz, NS, nftMappings, readyz, request, socketHeld, waitAnnotation, waitPodRunning } from './harness.js';
import { startLoopClient } from '../bench/cluster-setup.js';
import { processFootprint } from './testing/churn.js';

const T = 600_000;
const OUTAGE_MS = 60_000;
const UNREADY_AFTER = '15s';
// Below the hang's length (the hung watch is named after 75 s at the earliest), above the 30 s PATCH deadline.
const STALL_LIMIT = '45s';
const PODS = ['web-0', 'web-1', 'web-2'];
// Created just before the hang: with one annotation PATCH a second, most are written during it.
const HANG_PODS = Array.from({ length: 12 }, (_, i) => `hang-${i}`);

interface ProbeWatch {
  readonly transitions: { at: number; ok: boolean }[];
  stop(): Promise<void>;
}

/** Polls /readyz (or /healthz) every 250 ms and records each change (time, ok). */
function watchProbe(node: ClusterNode, probe: typeof readyz = readyz): ProbeWatch {
  const transitions: { at: number; ok: boolean }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { ok } = await probe(node);
      if (transitions[transitions.length - 1]?.ok !== ok) transitions.push({ at: Date.now(), ok });
      await sleep(250);
    }
  })();
  return {
    transitions,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** Each Pod's node ports, from its annotation. */
async function nodePorts(c: Cluster, pods: readonly string[]): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = {};
  for (const p of pods) out[p] = (await waitAnnotation(c, p, 1)).map((e) => e.nodePort);
  return out;
}

/** Events about our objects, as `kind/name reason` → count of Event objects (a repeat shows as > 1). */
async function eventCounts(c: Cluster): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const e of (await core(c).listNamespacedEvent({ namespace: NS })).items) {
    if (!e.reason?.startsWith('NodePortLocal')) continue;
    const key = `${e.involvedObject.kind}/${e.involvedObject.name} ${e.reason}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** Seconds from `from` to the first transition to `ok` after it, for the log ('-' when there is none). */
function secondsTo(w: ProbeWatch, ok: boolean, from: number): string {
  const t = w.transitions.find((x) => x.ok === ok && x.at > from);
  return t ? ((t.at - from) / 1_000).toFixed(1) : '-';
}

/** The transitions as `+12.3s ok` relative to `from`, for the log. */
function timeline(w: ProbeWatch, from: number): string {
  return w.transitions.map((t) => `${((t.at - from) / 1_000).toFixed(1)}s ${t.ok ? 'ok' : 'failing'}`).join(', ');
}

/** How many of `pods` carry an annotation entry. */
async function annotatedCount(c: Cluster, pods: readonly string[]): Promise<number> {
  let n = 0;
  for (const p of pods) if ((await annotation(c, p)).length > 0) n++;
  return n;
}

describeWithCluster('npl-agent: API server outage and hang', { name: 'nploutage', nodes: 1, ipFamily: 'ipv4' }, (get) => {
  const fleet = new AgentFleet(get, ['--unready-after', UNREADY_AFTER, '--stall-limit', STALL_LIMIT, '--api-qps', '1', '--api-burst', '1']);
  const node = (): ClusterNode => get().nodes[0]!;
  let ports: Record<string, number[]>;
  let pid: number | undefined;

  beforeAll(async () => {
    const c = get();
    await fleet.startAll();
    pid = fleet.pid(node());
    await createService(c, 'web', { app: 'web' }, [{ port: 80, targetPort: 80 }]);
    // A Service the agent must ignore: its Warning Event exists once, and must stay once.
    await createService(c, 'web-np', { app: 'web' }, [{ port: 80, targetPort: 80 }], { type: 'NodePort' });
    for (const name of PODS) await createPod(c, { name, node: node().name, labels: { app: 'web' }, ports: [{ containerPort: 80 }] });
    for (const name of PODS) await waitPodRunning(c, name);
    ports = await nodePorts(c, PODS);
    await eventually(async () => (await eventCounts(c))['Service/web-np NodePortLocalIgnored'] === 1, 60_000, 'the NodePortLocalIgnored Event');
  }, T);

  afterAll(async () => {
    await get().controlPlane.start('apiserver').catch(() => undefined);
    await fleet.stopAll();
  }, T);

  /** Everything that must hold after a recovery, plus a new Pod mapped. */
  async function expectUntouched(c: Cluster, newPod: string): Promise<void> {
    expect(await nodePorts(c, PODS)).toEqual(ports);
    const rules = await nftMappings(c, node());
    for (const p of PODS) {
      const podIP = (await waitPodRunning(c, p)).status!.podIP;
      expect(rules).toContainEqual(expect.objectContaining({ nodePort: ports[p]![0], podIP, podPort: 80, protocol: 'tcp' }));
      expect(await socketHeld(c, node(), ports[p]![0]!, 'tcp')).toBe(true);
    }
    expect(rules).toHaveLength(PODS.length);
    expect(fleet.pid(node())).toBe(pid);
    expect(processFootprint(pid!)).toBeDefined();
    await createPod(c, { name: newPod, node: node().name, labels: { app: 'web' }, ports: [{ containerPort: 80 }] });
    const [entry] = await waitAnnotation(c, newPod, 1, () => true, 120_000);
    expect(Object.values(ports).flat()).not.toContain(entry!.nodePort);
    expect(await request(c, c.outsideNetns, node().ip, entry!.nodePort)).toBe(newPod);
    expect(await eventCounts(c)).toEqual({ 'Service/web-np NodePortLocalIgnored': 1 });
    await core(c).deleteNamespacedPod({ name: newPod, namespace: NS, gracePeriodSeconds: 0 });
    await eventually(async () => (await nftMappings(c, node())).length === PODS.length, 60_000, `mapping of ${newPod} removed`);
  }

  it('API server stopped for 60 s, then started: no request fails, readiness drops and returns, the agent recovers in place', async () => {
    const c = get();
    const pairs = PODS.map((p) => [ports[p]![0]!, p] as [number, string]);
    const client = await startLoopClient(c.outsideNetns, node().ip, pairs, 1, 5_000);
    const readiness = watchProbe(node());
    const liveness = watchProbe(node(), healthz);
    let stoppedAt = 0;
    let startedAt = 0;
    try {
      await eventually(async () => (await readyz(node())).ok, 30_000, 'ready before the outage');
      stoppedAt = Date.now();
      await c.controlPlane.stop('apiserver');
      await eventually(async () => !(await readyz(node())).ok, OUTAGE_MS - 5_000, `/readyz unready (--unready-after ${UNREADY_AFTER})`, 250);
      await sleep(Math.max(0, stoppedAt + OUTAGE_MS - Date.now())); // the scenario: an outage of this length
      // Taken before start() returns: start waits until the API server is healthy, and the agent may be ready by then.
      startedAt = Date.now();
      await c.controlPlane.start('apiserver');
      await eventually(async () => (await readyz(node())).ok, 120_000, '/readyz ready again', 250);
      await sleep(3_000); // the client keeps looping a little after recovery
    } finally {
      await readiness.stop();
      await liveness.stop();
    }
    const loop = await client.stop();
    process.stderr.write(
      `outage: ${loop.ok} requests ok, ${loop.failed} failed, longest gap ${Math.round(loop.maxGapMs)} ms; unready ${secondsTo(readiness, false, stoppedAt)} s after the stop, ready ${secondsTo(readiness, true, startedAt)} s after the start; /readyz ${timeline(readiness, stoppedAt)}; /healthz ${timeline(liveness, stoppedAt)}\n`,
    );
    expect(loop.failures).toEqual([]);
    expect(loop.failed).toBe(0);
    expect(loop.ok).toBeGreaterThan(10);
    expect(readiness.transitions.map((t) => t.ok)).toEqual([true, false, true]);
    expect(readiness.transitions[2]!.at).toBeGreaterThan(startedAt);
    expect(liveness.transitions.map((t) => t.ok)).toEqual([true]);
    await expectUntouched(c, 'web-after-outage');
  }, T);

  it('API server hung (SIGSTOP) during annotation PATCHes: no worker stuck, /healthz never fails, /readyz drops; resumed, every Pod is annotated and the agent recovers in place', async () => {
    const c = get();
    const pairs = PODS.map((p) => [ports[p]![0]!, p] as [number, string]);
    await eventually(async () => (await readyz(node())).ok, 60_000, 'ready before the hang');
    const client = await startLoopClient(c.outsideNetns, node().ip, pairs, 1, 5_000);
    const readiness = watchProbe(node());
    const liveness = watchProbe(node(), healthz);
    await Promise.all(HANG_PODS.map((name) => createPod(c, { name, node: node().name, labels: { app: 'web' }, ports: [{ containerPort: 80 }] })));
    await Promise.all(HANG_PODS.map((name) => waitPodRunning(c, name)));
    // Rules come before the annotation: once every hang-* Pod has its rule, the agent has seen them all.
    await eventually(async () => (await nftMappings(c, node())).length === PODS.length + HANG_PODS.length, 60_000, 'the rules of every hang-* Pod');
    const annotatedBefore = await annotatedCount(c, HANG_PODS);
    const frozenAt = Date.now();
    let thawedAt = 0;
    try {
      await c.controlPlane.freeze('apiserver');
      // Idle watch timeout (30 s) + an unanswered watch (30 s) or list (60 s) + --unready-after.
      await eventually(async () => /\[-\] (pods|services|node)-watch: /.test((await readyz(node())).body), 240_000, '/readyz naming a hung watch', 500);
    } finally {
      // Taken before thaw() returns: thaw waits until the API server is healthy, and the agent may be ready by then.
      thawedAt = Date.now();
      await c.controlPlane.thaw('apiserver');
    }
    let annotated: Record<string, number[]> = {};
    try {
      await eventually(async () => (await readyz(node())).ok, 180_000, '/readyz ready again', 250);
      annotated = await nodePorts(c, HANG_PODS);
    } finally {
      await readiness.stop();
      await liveness.stop();
    }
    const loop = await client.stop();
    process.stderr.write(
      `hang: ${loop.ok} requests ok, ${loop.failed} failed; ${HANG_PODS.length - annotatedBefore} of ${HANG_PODS.length} Pods to annotate at the freeze; unready ${secondsTo(readiness, false, frozenAt)} s after the freeze, ready ${secondsTo(readiness, true, thawedAt)} s after the thaw; /readyz ${timeline(readiness, frozenAt)}; /healthz ${timeline(liveness, frozenAt)} (thaw at ${((thawedAt - frozenAt) / 1_000).toFixed(1)}s)\n`,
    );
    expect(loop.failed).toBe(0);
    // The arrangement: annotation PATCHes were still to be sent when the API server stopped.
    expect(annotatedBefore).toBeLessThan(HANG_PODS.length);
    expect(readiness.transitions.map((t) => t.ok)).toEqual([true, false, true]);
    expect(readiness.transitions[2]!.at).toBeGreaterThan(thawedAt);
    expect(liveness.transitions.map((t) => t.ok)).toEqual([true]);
    // Every Pod annotated once, each with a node port of its own.
    const all = [...Object.values(ports), ...Object.values(annotated)].flat();
    expect(new Set(all).size).toBe(PODS.length + HANG_PODS.length);
    expect(Object.values(annotated).map((p) => p.length)).toEqual(HANG_PODS.map(() => 1));
    await Promise.all(HANG_PODS.map((name) => core(c).deleteNamespacedPod({ name, namespace: NS, gracePeriodSeconds: 0 })));
    await eventually(async () => (await nftMappings(c, node())).length === PODS.length, 60_000, 'mappings of the hang-* Pods removed');
    await expectUntouched(c, 'web-after-hang');
  }, T);
});
