/**
 * Chaos on the control plane (issue 11): the API server stopped for 60 s (a crash: SIGKILL) and then
 * started, and the API server hung (SIGSTOP) until the agent notices, then resumed. Throughout, a
 * client in the outside namespace loops through the node ports: not one request may fail. The agent
 * is the same process before and after, its /readyz goes unready while the API server is away
 * (README "Health": no successful list for --unready-after) and ready again after; mappings keep
 * their node ports, rules and sockets; a Pod created after recovery is mapped; no annotation entry
 * or Event is duplicated.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Cluster, ClusterNode } from '@npl/cluster';
import { describeWithCluster } from '@npl/cluster/testing';
import { eventually } from '@npl/runtime';
import { AgentFleet, core, createPod, createService, NS, nftMappings, readyz, request, socketHeld, waitAnnotation, waitPodRunning } from './harness.js';
import { startLoopClient } from '../bench/cluster-setup.js';
import { processFootprint } from './testing/churn.js';

const T = 600_000;
const OUTAGE_MS = 60_000;
const UNREADY_AFTER = '15s';
const PODS = ['web-0', 'web-1', 'web-2'];

/** Polls /readyz every 250 ms and records each change (time, ok). */
function watchReadiness(node: ClusterNode): { transitions: { at: number; ok: boolean }[]; stop(): Promise<void> } {
  const transitions: { at: number; ok: boolean }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { ok } = await readyz(node);
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

describeWithCluster('npl-agent: API server outage and hang', { name: 'nploutage', nodes: 1, ipFamily: 'ipv4' }, (get) => {
  const fleet = new AgentFleet(get, ['--unready-after', UNREADY_AFTER]);
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
    const readiness = watchReadiness(node());
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
    }
    const loop = await client.stop();
    const readyAgain = readiness.transitions.find((t) => t.ok && t.at > startedAt)!;
    const unready = readiness.transitions.find((t) => !t.ok && t.at > stoppedAt)!;
    process.stderr.write(
      `outage: ${loop.ok} requests ok, ${loop.failed} failed, longest gap ${Math.round(loop.maxGapMs)} ms; unready ${((unready.at - stoppedAt) / 1_000).toFixed(1)} s after the stop, ready ${((readyAgain.at - startedAt) / 1_000).toFixed(1)} s after the start\n`,
    );
    expect(loop.failures).toEqual([]);
    expect(loop.failed).toBe(0);
    expect(loop.ok).toBeGreaterThan(10);
    expect(readiness.transitions.map((t) => t.ok)).toEqual([true, false, true]);
    await expectUntouched(c, 'web-after-outage');
  }, T);

  it('API server hung (SIGSTOP): the agent notices (watch and list time out), /readyz drops; resumed, it recovers in place', async () => {
    const c = get();
    const pairs = PODS.map((p) => [ports[p]![0]!, p] as [number, string]);
    await eventually(async () => (await readyz(node())).ok, 60_000, 'ready before the hang');
    const client = await startLoopClient(c.outsideNetns, node().ip, pairs, 1, 5_000);
    const readiness = watchReadiness(node());
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
    try {
      await eventually(async () => (await readyz(node())).ok, 180_000, '/readyz ready again', 250);
    } finally {
      await readiness.stop();
    }
    const loop = await client.stop();
    const unready = readiness.transitions.find((t) => !t.ok)!;
    const readyAgain = readiness.transitions.find((t) => t.ok && t.at > thawedAt)!;
    process.stderr.write(
      `hang: ${loop.ok} requests ok, ${loop.failed} failed; unready ${((unready.at - frozenAt) / 1_000).toFixed(1)} s after the freeze, ready ${((readyAgain.at - thawedAt) / 1_000).toFixed(1)} s after the thaw\n`,
    );
    expect(loop.failed).toBe(0);
    expect(readiness.transitions.map((t) => t.ok)).toEqual([true, false, true]);
    await expectUntouched(c, 'web-after-hang');
  }, T);
});
