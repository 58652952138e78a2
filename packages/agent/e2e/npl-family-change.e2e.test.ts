/**
 * A dual-stack node that loses, then regains, its IPv6 address in the Node status while the agent
 * runs (no restart), with each dataplane: the IPv6 table (`ip6 npl`) or chain (ip6tables nat
 * ANTREA-NODE-PORT-LOCAL), the IPv6 annotation entries and IPv6 traffic go away and come back; the
 * IPv4 mapping keeps its node port and keeps working throughout.
 */
import { afterAll, expect, it } from '@jest/globals';
import { describeWithCluster, eventually } from '@npl/cluster/testing';
import type { Cluster, ClusterNode } from '@npl/cluster';
import type { DataplaneKind } from './harness.js';
import { dataplaneArgs, iptablesChainOf, waitAnnotation } from './harness.js';
import { agentSuite } from './testing/agent-suite.js';
import type { RulesReader } from './testing/families.js';
import { familyMappingProblems, iptablesMappingsOf, nftMappingsOf, requestTo } from './testing/families.js';

const T = 300_000;

interface DataplaneUnderTest {
  readonly kind: DataplaneKind;
  readonly cluster: string;
  readonly what: string;
  /** True while the node has the dataplane's IPv6 table or chain. */
  readonly hasIPv6: (c: Cluster, node: ClusterNode) => Promise<boolean>;
  readonly rules: RulesReader;
}

const DATAPLANES: readonly DataplaneUnderTest[] = [
  {
    kind: 'nftables',
    cluster: 'nplfam',
    what: 'the ip6 npl table',
    hasIPv6: async (c, node) => (await c.exec(node.netns, ['nft', 'list', 'tables'])).split('\n').includes('table ip6 npl'),
    rules: nftMappingsOf,
  },
  {
    kind: 'iptables',
    cluster: 'nplfamipt',
    what: 'the ip6tables chain',
    hasIPv6: async (c, node) => (await iptablesChainOf(c, node, 'IPv6')).exists,
    rules: iptablesMappingsOf,
  },
];

for (const dp of DATAPLANES) {
  describeWithCluster(`npl-agent (${dp.kind}): a node losing and regaining its IPv6 address at run time`, { name: dp.cluster, nodes: 2, ipFamily: 'dual' }, (get) => {
    const suite = agentSuite(get, T, dataplaneArgs(dp.kind));
    const { node, service } = suite;
    const problems = (p: Parameters<typeof familyMappingProblems>[2], e: Parameters<typeof familyMappingProblems>[3]) => familyMappingProblems(get(), node(), p, e, dp.rules);

    afterAll(async () => {
      // Leave the node as the cluster made it, even when a test failed half-way.
      await get().setNodeAddress(node().name, { internalIPv6: true }).catch(() => undefined);
    }, T);

    it(`${dp.what}, the IPv6 annotation entry and IPv6 traffic follow the IPv6 InternalIP; IPv4 is untouched`, async () => {
      const c = get();
      const p = await suite.pod('fam', { app: 'fam' });
      await service('fam', { app: 'fam' }, [{ port: 80, targetPort: 80 }], { ipFamilyPolicy: 'PreferDualStack' });
      const both = await waitAnnotation(c, 'fam', 2);
      const v4 = both.find((e) => e.ipFamily === 'IPv4')!;
      const v6 = both.find((e) => e.ipFamily === 'IPv6')!;
      expect(await problems(p, v6)).toEqual([]);
      expect(await dp.hasIPv6(c, node())).toBe(true);

      await c.setNodeAddress(node().name, { internalIPv6: false });
      const only4 = await waitAnnotation(c, 'fam', 1, (a) => a[0]!.ipFamily === 'IPv4');
      expect(only4[0]).toMatchObject({ nodePort: v4.nodePort, nodeIP: v4.nodeIP });
      await eventually(async () => !(await dp.hasIPv6(c, node())), 60_000, `${dp.what} removed`);
      expect(await dp.rules(c, node(), 'IPv6')).toEqual([]);
      expect(await requestTo(c, c.outsideNetns, v6.nodeIP, v6.nodePort)).toBe('');
      expect(await problems(p, v4)).toEqual([]);

      await c.setNodeAddress(node().name, { internalIPv6: true });
      const again = await waitAnnotation(c, 'fam', 2);
      expect(again.find((e) => e.ipFamily === 'IPv4')).toMatchObject({ nodePort: v4.nodePort });
      const v6again = again.find((e) => e.ipFamily === 'IPv6')!;
      expect(v6again.nodeIP).toBe(v6.nodeIP);
      expect(await dp.hasIPv6(c, node())).toBe(true);
      expect(await problems(p, v6again)).toEqual([]);
      expect(await problems(p, v4)).toEqual([]);
    }, T);
  });
}
