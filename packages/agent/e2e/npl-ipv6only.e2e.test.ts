/**
 * npl-agent end to end on an IPv6-only local cluster (Antrea's TestIPv6Only at e2e level): the
 * agent finds only an IPv6 node address, so it programs only the `ip6` table, and Services (IPv6
 * SingleStack) get IPv6 entries reachable from outside at [nodeIP]:nodePort.
 */
import { expect, it } from '@jest/globals';
import { describeWithCluster } from '@npl/cluster/testing';
import { NPL_ANNOTATION_KEY } from '@npl/core';
import { readPod, waitAnnotation } from './harness.js';
import { agentSuite } from './testing/agent-suite.js';
import { antreaAnnotationText, familyMappingProblems, nftMappingsOf } from './testing/families.js';

const T = 240_000;

describeWithCluster('npl-agent end to end, IPv6-only (TestIPv6Only)', { name: 'nplsix', nodes: 2, ipFamily: 'ipv6' }, (get) => {
  const { node, pod, service } = agentSuite(get, T);

  it('TestIPv6Only: TCP and UDP Services give IPv6 entries only, in Antrea JSON, mapped in the ip6 table and reachable from outside; no ip table', async () => {
    const p = await pod('six', { app: 'six' }, [{ containerPort: 8080, protocol: 'TCP' }, { containerPort: 8080, protocol: 'UDP' }]);
    expect(p.status?.podIPs?.map((x) => x.ip)).toEqual([p.status!.podIP]);
    await service('six', { app: 'six' }, [{ name: 'tcp', port: 8080, targetPort: 8080 }, { name: 'udp', port: 8080, targetPort: 8080, protocol: 'UDP' }]);
    const entries = await waitAnnotation(get(), 'six', 2);
    expect(entries.map((e) => `${e.ipFamily}/${e.protocol}/${e.nodeIP}`).sort()).toEqual([`IPv6/tcp/${node().ip}`, `IPv6/udp/${node().ip}`]);
    expect((await readPod(get(), 'six'))!.metadata!.annotations![NPL_ANNOTATION_KEY]).toBe(antreaAnnotationText(entries));
    for (const e of entries) expect(await familyMappingProblems(get(), node(), p, e)).toEqual([]);
    expect(await nftMappingsOf(get(), node(), 'IPv4')).toEqual([]);
    await expect(get().exec(node().netns, ['nft', 'list', 'table', 'ip', 'npl'])).rejects.toThrow();
  }, T);
});
