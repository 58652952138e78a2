/**
 * npl-agent end to end on an IPv6-only local cluster (Antrea's TestIPv6Only at e2e level): the
 * agent finds only an IPv6 node address, so it programs only the `ip6` table, and Services (IPv6
 * SingleStack) get IPv6 entries reachable from outside at [nodeIP]:nodePort.
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { describeWithCluster } from '@npl/cluster/testing';
import { NPL_ANNOTATION_KEY } from '@npl/core';
import { AgentFleet, createPod, createService, deletePod, deleteService, readPod, waitAnnotation, waitPodRunning } from './harness.js';
import { antreaAnnotationText, familyMappingProblems, nftMappingsOf } from './testing/families.js';

const T = 240_000;

describeWithCluster('npl-agent end to end, IPv6-only (TestIPv6Only)', { name: 'nplsix', nodes: 2, ipFamily: 'ipv6' }, (get) => {
  const fleet = new AgentFleet(get);
  const node = () => get().nodes[1]!;
  const created: { pods: string[]; services: string[] } = { pods: [], services: [] };

  beforeAll(async () => {
    await fleet.startAll();
  }, T);

  afterAll(async () => {
    await fleet.stopAll();
  }, T);

  afterEach(async () => {
    for (const s of created.services.splice(0)) await deleteService(get(), s);
    for (const p of created.pods.splice(0)) await deletePod(get(), p);
  }, T);

  it('TestIPv6Only: TCP and UDP Services give IPv6 entries only, in Antrea JSON, mapped in the ip6 table and reachable from outside; no ip table', async () => {
    await createPod(get(), { name: 'six', node: node().name, labels: { app: 'six' }, ports: [{ containerPort: 8080, protocol: 'TCP' }, { containerPort: 8080, protocol: 'UDP' }] });
    created.pods.push('six');
    const p = await waitPodRunning(get(), 'six');
    expect(p.status?.podIPs?.map((x) => x.ip)).toEqual([p.status!.podIP]);
    await createService(get(), 'six', { app: 'six' }, [{ name: 'tcp', port: 8080, targetPort: 8080 }, { name: 'udp', port: 8080, targetPort: 8080, protocol: 'UDP' }]);
    created.services.push('six');
    const entries = await waitAnnotation(get(), 'six', 2);
    expect(entries.map((e) => `${e.ipFamily}/${e.protocol}/${e.nodeIP}`).sort()).toEqual([`IPv6/tcp/${node().ip}`, `IPv6/udp/${node().ip}`]);
    expect((await readPod(get(), 'six'))!.metadata!.annotations![NPL_ANNOTATION_KEY]).toBe(antreaAnnotationText(entries));
    for (const e of entries) expect(await familyMappingProblems(get(), node(), p, e)).toEqual([]);
    expect(await nftMappingsOf(get(), node(), 'IPv4')).toEqual([]);
    await expect(get().exec(node().netns, ['nft', 'list', 'table', 'ip', 'npl'])).rejects.toThrow();
  }, T);
});
