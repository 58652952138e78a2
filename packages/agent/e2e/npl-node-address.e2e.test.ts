/**
 * Which node address the annotation carries (spec §2.6: the Node's ExternalIPs if it has any, else
 * its InternalIPs) on the local cluster with ExternalIPs: real npl-agents, real nftables, traffic
 * from the outside namespace to ExternalIP:nodePort; and the annotations and traffic following a
 * change of the Node's address while everything runs.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Cluster } from '@npl/cluster';
import { defaultExternalIP } from '@npl/cluster';
import { describeWithCluster } from '@npl/cluster/testing';
import { AgentFleet, createPod, createService, nftMappings, request, waitAnnotation, waitPodRunning } from './harness.js';

const T = 240_000;

describeWithCluster('npl-agent: node address selection (ExternalIP first) and address changes', { name: 'npladdr', nodes: 2, externalIPs: true }, (get) => {
  const fleet = new AgentFleet(get);
  const node = () => get().nodes[1]!;
  const externalIP = (c: Cluster) => defaultExternalIP(c.layout.slot, c.layout.nodes[1]!.index);

  beforeAll(async () => {
    await fleet.startAll();
    await createPod(get(), { name: 'web', node: node().name, labels: { app: 'web' }, ports: [{ containerPort: 80 }] });
    await createService(get(), 'web', { app: 'web' }, [{ port: 80, targetPort: 80 }]);
    await waitPodRunning(get(), 'web');
  }, T);

  afterAll(async () => {
    await fleet.stopAll();
  }, T);

  it('the annotation carries the ExternalIP, and the outside reaches the pod at ExternalIP:nodePort', async () => {
    const c = get();
    const [entry] = await waitAnnotation(c, 'web', 1);
    expect(entry).toMatchObject({ podPort: 80, nodeIP: externalIP(c), protocol: 'tcp', ipFamily: 'IPv4' });
    const pod = await waitPodRunning(c, 'web');
    expect(await nftMappings(c, node())).toEqual(expect.arrayContaining([expect.objectContaining({ nodePort: entry!.nodePort, podIP: pod.status!.podIP, podPort: 80 })]));
    expect(await request(c, c.outsideNetns, externalIP(c), entry!.nodePort)).toBe('web');
  }, T);

  /** The rule keeps mapping the same node port to the pod (rules match any local address, so they need no change). */
  async function expectRuleKept(c: Cluster, nodePort: number): Promise<void> {
    const [first] = await waitAnnotation(c, 'web', 1);
    expect(first!.nodePort).toBe(nodePort);
    const pod = await waitPodRunning(c, 'web');
    expect(await nftMappings(c, node())).toEqual([expect.objectContaining({ nodePort, podIP: pod.status!.podIP, podPort: 80, protocol: 'tcp' })]);
  }

  it('when the ExternalIP changes, the annotation follows, the rule keeps the node port, and traffic to the new address reaches the pod', async () => {
    const c = get();
    const next = `198.51.100.${10 + c.layout.slot}`;
    const [before] = await waitAnnotation(c, 'web', 1);
    await c.setNodeAddress(node().name, { externalIP: next });
    const [entry] = await waitAnnotation(c, 'web', 1, (a) => a[0]?.nodeIP === next);
    await expectRuleKept(c, before!.nodePort);
    expect(await request(c, c.outsideNetns, next, entry!.nodePort)).toBe('web');
    expect(await request(c, c.outsideNetns, externalIP(c), entry!.nodePort)).toBe('');
  }, T);

  it('when the node loses its ExternalIP, the annotation falls back to the InternalIP, which the outside reaches', async () => {
    const c = get();
    const [before] = await waitAnnotation(c, 'web', 1);
    await c.setNodeAddress(node().name, { externalIP: null });
    const [entry] = await waitAnnotation(c, 'web', 1, (a) => a[0]?.nodeIP === node().ip);
    await expectRuleKept(c, before!.nodePort);
    expect(await request(c, c.outsideNetns, node().ip, entry!.nodePort)).toBe('web');
  }, T);
});
