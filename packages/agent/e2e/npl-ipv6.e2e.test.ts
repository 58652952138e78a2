/**
 * npl-agent end to end on a dual-stack local cluster (Antrea's TestDualStack, spec §8, at e2e
 * level): agent processes in the node namespaces program the `ip` and `ip6` nftables tables; a
 * PreferDualStack Service's pods get one annotation entry per family, byte for byte as Antrea
 * writes them, and TCP and UDP from the outside namespace to [nodeIPv6]:nodePort reach the pod.
 */
import { expect, it } from '@jest/globals';
import type { V1ContainerPort, V1Pod } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { describeWithCluster, eventually } from '@npl/cluster/testing';
import { formatNplAnnotation, NPL_ANNOTATION_KEY } from '@npl/core';
import { core, deletePod, NS, readPod, waitAnnotation } from './harness.js';
import { agentSuite } from './testing/agent-suite.js';
import { antreaAnnotationText, familyMappingProblems, nftMappingsOf, requestTo, socketHeldOf } from './testing/families.js';

const T = 240_000;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describeWithCluster('npl-agent end to end over IPv6, dual-stack (TestDualStack)', { name: 'npldual', nodes: 2, ipFamily: 'dual' }, (get) => {
  const suite = agentSuite(get, T);
  const { node, service } = suite;

  async function pod(name: string, labels: Record<string, string>, ports?: V1ContainerPort[]): Promise<V1Pod> {
    const p = await suite.pod(name, labels, ports);
    expect(p.status?.podIPs?.map((x) => x.ip)).toHaveLength(2);
    return p;
  }

  it('TestDualStack: a PreferDualStack Service gives IPv4 and IPv6 entries for TCP and UDP, in Antrea JSON, each reachable from outside and from another node', async () => {
    const p = await pod('ds', { app: 'ds' }, [
      { containerPort: 80, protocol: 'TCP' },
      { containerPort: 53, protocol: 'UDP' },
    ]);
    await service('ds', { app: 'ds' }, [{ name: 'http', port: 80, targetPort: 80 }, { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' }], { ipFamilyPolicy: 'PreferDualStack' });
    const entries = await waitAnnotation(get(), 'ds', 4);
    expect(entries.map((e) => `${e.ipFamily}/${e.protocol}/${e.podPort}`).sort()).toEqual(['IPv4/tcp/80', 'IPv4/udp/53', 'IPv6/tcp/80', 'IPv6/udp/53']);
    expect(entries.filter((e) => e.ipFamily === 'IPv6').map((e) => e.nodeIP)).toEqual([node().ipv6, node().ipv6]);
    const raw = (await readPod(get(), 'ds'))!.metadata!.annotations![NPL_ANNOTATION_KEY]!;
    expect(raw).toBe(antreaAnnotationText(entries));
    expect(raw).toBe(formatNplAnnotation(entries));
    for (const e of entries) expect(await familyMappingProblems(get(), node(), p, e)).toEqual([]);
  }, T);

  it('a SingleStack Service gets IPv4 entries only; upgrading it to PreferDualStack adds the IPv6 entry, downgrading removes it (rule and socket)', async () => {
    const p = await pod('updown', { app: 'updown' });
    await service('updown', { app: 'updown' }, [{ port: 80, targetPort: 80 }]);
    const [v4] = await waitAnnotation(get(), 'updown', 1, (a) => a[0]!.ipFamily === 'IPv4');
    expect(await familyMappingProblems(get(), node(), p, v4!)).toEqual([]);
    await core(get()).patchNamespacedService({ name: 'updown', namespace: NS, body: { spec: { ipFamilyPolicy: 'PreferDualStack' } } }, mergePatch);
    const both = await waitAnnotation(get(), 'updown', 2);
    const v6 = both.find((e) => e.ipFamily === 'IPv6')!;
    expect(both.find((e) => e.ipFamily === 'IPv4')).toMatchObject({ nodePort: v4!.nodePort });
    expect(await familyMappingProblems(get(), node(), p, v6)).toEqual([]);
    const svc = await core(get()).readNamespacedService({ name: 'updown', namespace: NS });
    await core(get()).patchNamespacedService(
      { name: 'updown', namespace: NS, body: { spec: { ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'], clusterIPs: [svc.spec!.clusterIPs![0]!] } } },
      mergePatch,
    );
    await waitAnnotation(get(), 'updown', 1, (a) => a[0]!.ipFamily === 'IPv4' && a[0]!.nodePort === v4!.nodePort);
    await eventually(
      async () => !(await nftMappingsOf(get(), node(), 'IPv6')).some((m) => m.nodePort === v6.nodePort) && !(await socketHeldOf(get(), node(), v6.nodePort, 'tcp', 'IPv6')),
      60_000,
      'IPv6 rule and socket removed',
    );
    expect(await requestTo(get(), get().outsideNetns, v6.nodeIP, v6.nodePort)).toBe('');
    expect(await familyMappingProblems(get(), node(), p, v4!)).toEqual([]);
  }, T);

  it('NPLTestLocalAccess over IPv6: the node itself, another Pod on the node and the Pod itself (hairpin) reach [nodeIPv6]:nodePort', async () => {
    const p = await pod('local6', { app: 'local6' });
    const client = await pod('local6-client', { app: 'client6' });
    await service('local6', { app: 'local6' }, [{ port: 80, targetPort: 80 }], { ipFamilyPolicy: 'RequireDualStack' });
    const entries = await waitAnnotation(get(), 'local6', 2);
    const e = entries.find((x) => x.ipFamily === 'IPv6')!;
    expect(await familyMappingProblems(get(), node(), p, e)).toEqual([]);
    expect(await requestTo(get(), node().netns, e.nodeIP, e.nodePort)).toBe('local6');
    expect(await requestTo(get(), get().podNetns(client.metadata!.uid!), e.nodeIP, e.nodePort)).toBe('local6');
    expect(await requestTo(get(), get().podNetns(p.metadata!.uid!), e.nodeIP, e.nodePort)).toBe('local6');
  }, T);

  it('deleting the Pod removes the rules and sockets of both families', async () => {
    await pod('gone6', { app: 'gone6' });
    await service('gone6', { app: 'gone6' }, [{ port: 80, targetPort: 80 }], { ipFamilyPolicy: 'PreferDualStack' });
    const entries = await waitAnnotation(get(), 'gone6', 2);
    await deletePod(get(), 'gone6');
    await eventually(
      async () => {
        for (const e of entries) {
          if ((await nftMappingsOf(get(), node(), e.ipFamily)).some((m) => m.nodePort === e.nodePort)) return false;
          if (await socketHeldOf(get(), node(), e.nodePort, e.protocol, e.ipFamily)) return false;
        }
        return true;
      },
      60_000,
      'rules and sockets of both families removed',
    );
  }, T);
});
