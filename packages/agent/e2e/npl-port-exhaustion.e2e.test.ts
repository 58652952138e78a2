/**
 * Port range exhausted (issue 11), on the local cluster with a range of 3 node ports and 4 Pods: the
 * 4th gets one Warning Event naming it (NodePortLocalPortsExhausted, not repeated while the agent
 * keeps retrying) and no annotation; when another Pod is deleted, the 4th gets the freed port at
 * once (the agent requeues Pods waiting for a port when a mapping is deleted, instead of leaving
 * them to their backoff) and the outside reaches it.
 */
import { afterAll, expect, it } from '@jest/globals';
import type { CoreV1Event } from '@kubernetes/client-node';
import { describeWithCluster } from '@npl/cluster/testing';
import { eventually } from '@npl/runtime';
import { AgentFleet, annotation, core, createPod, createService, deletePod, NS, nftMappings, request, waitAnnotation, waitPodRunning } from './harness.js';
import { metricTotal, scrape } from './testing/churn.js';

const T = 300_000;
const RANGE = '61000-61002';

describeWithCluster('npl-agent: port range exhausted', { name: 'nplexhaust', nodes: 1, ipFamily: 'ipv4' }, (get) => {
  const fleet = new AgentFleet(get, ['--port-range', RANGE]);

  afterAll(async () => {
    await fleet.stopAll();
  }, T);

  const exhaustedEvents = async (pod: string): Promise<CoreV1Event[]> =>
    (await core(get()).listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${pod}` })).items.filter((e) => e.reason === 'NodePortLocalPortsExhausted');

  it('the 4th Pod gets one Warning Event naming it and no annotation; a deleted Pod frees its port for it at once', async () => {
    const c = get();
    const node = c.nodes[0]!;
    await fleet.startAll();
    await createService(c, 'web', { app: 'web' }, [{ port: 80, targetPort: 80 }]);
    for (const name of ['web-0', 'web-1', 'web-2']) await createPod(c, { name, node: node.name, labels: { app: 'web' }, ports: [{ containerPort: 80 }] });
    const held = new Map<string, number>();
    for (const name of ['web-0', 'web-1', 'web-2']) held.set(name, (await waitAnnotation(c, name, 1))[0]!.nodePort);
    expect([...held.values()].sort()).toEqual([61000, 61001, 61002]);

    await createPod(c, { name: 'web-3', node: node.name, labels: { app: 'web' }, ports: [{ containerPort: 80 }] });
    const pod3 = await waitPodRunning(c, 'web-3');
    const [event] = await eventually(async () => {
      const events = await exhaustedEvents('web-3');
      return events.length > 0 ? events : undefined;
    }, 60_000, 'a NodePortLocalPortsExhausted Event for web-3');
    expect(event).toMatchObject({ type: 'Warning', involvedObject: { kind: 'Pod', namespace: NS, name: 'web-3', uid: pod3.metadata!.uid } });
    expect(event!.message).toBe(`Pod default/web-3: add IPv4 80/tcp -> ${pod3.status!.podIP} failed: no free port found: every IPv4 tcp node port in ${RANGE} is in use`);
    expect(await annotation(c, 'web-3')).toEqual([]);

    // The agent keeps retrying (backoff 2 s doubling); the repeats are not new Events.
    await eventually(async () => metricTotal(await scrape(node), 'npl_agent_port_allocation_failures_total') >= 3, 60_000, 'three failed allocations', 500);
    expect(await exhaustedEvents('web-3')).toHaveLength(1);
    expect(await annotation(c, 'web-3')).toEqual([]);

    const t0 = Date.now();
    await deletePod(c, 'web-0');
    const [entry] = await waitAnnotation(c, 'web-3', 1, () => true, 15_000);
    process.stderr.write(`exhaustion: web-3 mapped ${Date.now() - t0} ms after web-0 was deleted\n`);
    expect(entry!.nodePort).toBe(held.get('web-0'));
    expect(await nftMappings(c, node)).toContainEqual(expect.objectContaining({ nodePort: entry!.nodePort, podIP: pod3.status!.podIP, podPort: 80 }));
    expect(await request(c, c.outsideNetns, node.ip, entry!.nodePort)).toBe('web-3');
    expect(await exhaustedEvents('web-3')).toHaveLength(1);
  }, T);
});
