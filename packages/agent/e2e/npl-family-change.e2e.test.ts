/**
 * A dual-stack node that loses, then regains, its IPv6 address in the Node status while the agent
 * runs (no restart): the `ip6 npl` table, the IPv6 annotation entries and IPv6 traffic go away and
 * come back; the IPv4 mapping keeps its node port and keeps working throughout.
 */
import { afterAll, expect, it } from '@jest/globals';
import { describeWithCluster, eventually } from '@npl/cluster/testing';
import { waitAnnotation } from './harness.js';
import { agentSuite } from './testing/agent-suite.js';
import { familyMappingProblems, requestTo } from './testing/families.js';

const T = 300_000;

describeWithCluster('npl-agent: a node losing and regaining its IPv6 address at run time', { name: 'nplfam', nodes: 2, ipFamily: 'dual' }, (get) => {
  const suite = agentSuite(get, T);
  const { node, service } = suite;
  const ip6Table = async (): Promise<boolean> => (await get().exec(node().netns, ['nft', 'list', 'tables'])).split('\n').includes('table ip6 npl');

  afterAll(async () => {
    // Leave the node as the cluster made it, even when a test failed half-way.
    await get().setNodeAddress(node().name, { internalIPv6: true }).catch(() => undefined);
  }, T);

  it('the ip6 table, the IPv6 annotation entry and IPv6 traffic follow the IPv6 InternalIP; IPv4 is untouched', async () => {
    const c = get();
    const p = await suite.pod('fam', { app: 'fam' });
    await service('fam', { app: 'fam' }, [{ port: 80, targetPort: 80 }], { ipFamilyPolicy: 'PreferDualStack' });
    const both = await waitAnnotation(c, 'fam', 2);
    const v4 = both.find((e) => e.ipFamily === 'IPv4')!;
    const v6 = both.find((e) => e.ipFamily === 'IPv6')!;
    expect(await familyMappingProblems(c, node(), p, v6)).toEqual([]);
    expect(await ip6Table()).toBe(true);

    await c.setNodeAddress(node().name, { internalIPv6: false });
    const only4 = await waitAnnotation(c, 'fam', 1, (a) => a[0]!.ipFamily === 'IPv4');
    expect(only4[0]).toMatchObject({ nodePort: v4.nodePort, nodeIP: v4.nodeIP });
    await eventually(async () => !(await ip6Table()), 60_000, 'the ip6 npl table removed');
    expect(await requestTo(c, c.outsideNetns, v6.nodeIP, v6.nodePort)).toBe('');
    expect(await familyMappingProblems(c, node(), p, v4)).toEqual([]);

    await c.setNodeAddress(node().name, { internalIPv6: true });
    const again = await waitAnnotation(c, 'fam', 2);
    expect(again.find((e) => e.ipFamily === 'IPv4')).toMatchObject({ nodePort: v4.nodePort });
    const v6again = again.find((e) => e.ipFamily === 'IPv6')!;
    expect(v6again.nodeIP).toBe(v6.nodeIP);
    expect(await ip6Table()).toBe(true);
    expect(await familyMappingProblems(c, node(), p, v6again)).toEqual([]);
    expect(await familyMappingProblems(c, node(), p, v4)).toEqual([]);
  }, T);
});
