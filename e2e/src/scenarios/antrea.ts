/**
 * Antrea's NodePortLocal e2e cases (spec §8.6, test/e2e/nodeportlocal_test.go), by name, against
 * whatever agent installation the driver made: server Pods on one node ("node B"), traffic from
 * outside the cluster and from the other node, in Antrea's order of checks.
 */
import { expect } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import type { CompleteNplEntry } from '@npl/core';
import { mappingProblems, waitGone } from '../checks.js';
import type { ScenarioObjects, PortRef } from '../checks.js';
import type { Origin } from '../driver.js';
import type { Scenario } from './scenario.js';

/** Node B carries the server Pods; node A is "another node" for traffic. */
function nodes(o: ScenarioObjects): { a: Origin; b: ReturnType<ScenarioObjects['driver']['nodes']>[number] } {
  const [a, b] = o.driver.nodes();
  if (!a || !b) throw new Error(`the e2e scenarios need two nodes for test pods, ${o.driver.name} has ${o.driver.nodes().length}`);
  return { a: { kind: 'node', node: a }, b };
}

/** Every entry of the Pod's annotation (waited for `count`) maps, holds its port and carries traffic. */
async function expectWorking(o: ScenarioObjects, pod: V1Pod, count: number, also: readonly Origin[]): Promise<CompleteNplEntry[]> {
  const entries = await o.waitAnnotation(pod.metadata!.name!, count);
  for (const e of entries) expect(await mappingProblems(o.driver, pod, e, also)).toEqual([]);
  return entries;
}

export const multiplePods: Scenario = {
  name: 'NPLTestMultiplePods',
  title: 'three Pods on one node each get a working mapping; deleting them removes rules and sockets',
  needs: [],
  async run(o) {
    const { a, b } = nodes(o);
    const pods = [];
    for (const n of ['mp-a', 'mp-b', 'mp-c']) pods.push(await o.pod(n, b, { app: 'multi' }));
    await o.service('multi', { app: 'multi' }, [{ port: 80, targetPort: 80 }]);
    const used: PortRef[] = [];
    for (const p of pods) used.push(...(await expectWorking(o, p, 1, [a])));
    expect(new Set(used.map((u) => u.nodePort)).size).toBe(3);
    for (const p of pods) await o.deletePod(p.metadata!.name!);
    await waitGone(o.driver, b, used);
  },
};

export const podAddMultiPort: Scenario = {
  name: 'NPLTestPodAddMultiPort',
  title: 'two Services on target ports 80 and 8080 give two working mappings, removed with the Pod',
  needs: [],
  async run(o) {
    const { a, b } = nodes(o);
    const p = await o.pod('multiport', b, { app: 'mport' }, [
      { name: 'http1', containerPort: 80 },
      { name: 'http2', containerPort: 8080 },
    ]);
    await o.service('mport-a', { app: 'mport' }, [{ port: 80, targetPort: 80 }]);
    await o.service('mport-b', { app: 'mport' }, [{ port: 8080, targetPort: 8080 }]);
    const used = await expectWorking(o, p, 2, [a]);
    expect(used.map((e) => e.podPort).sort((x, y) => x - y)).toEqual([80, 8080]);
    await o.deletePod('multiport');
    await waitGone(o.driver, b, used);
  },
};

export const podAddMultiProtocol: Scenario = {
  name: 'NPLTestPodAddMultiProtocol',
  title: 'TCP and UDP Services on 8080 give tcp and udp mappings; deleting the UDP Service keeps tcp working',
  needs: [],
  async run(o) {
    const { a, b } = nodes(o);
    const p = await o.pod('multiproto', b, { app: 'mproto' }, [
      { containerPort: 8080, protocol: 'TCP' },
      { containerPort: 8080, protocol: 'UDP' },
    ]);
    await o.service('mproto-tcp', { app: 'mproto' }, [{ port: 8080, targetPort: 8080, protocol: 'TCP' }]);
    await o.service('mproto-udp', { app: 'mproto' }, [{ port: 8080, targetPort: 8080, protocol: 'UDP' }]);
    const entries = await expectWorking(o, p, 2, [a]);
    expect(entries.map((e) => e.protocol).sort()).toEqual(['tcp', 'udp']);
    const udp = entries.find((e) => e.protocol === 'udp')!;
    await o.deleteService('mproto-udp');
    const [tcp] = await o.waitAnnotation('multiproto', 1, (x) => x[0]!.protocol === 'tcp');
    expect(await mappingProblems(o.driver, p, tcp!, [a])).toEqual([]);
    await waitGone(o.driver, b, [udp]);
  },
};

export const localAccess: Scenario = {
  name: 'NPLTestLocalAccess',
  title: 'the node itself, another Pod on the node and the Pod itself (hairpin) reach the mapping',
  needs: [],
  async run(o) {
    const { b } = nodes(o);
    const p = await o.pod('local', b, { app: 'local' });
    await o.pod('local-client', b, { app: 'client' });
    await o.service('local', { app: 'local' }, [{ port: 80, targetPort: 80 }]);
    const [e] = await expectWorking(o, p, 1, [
      { kind: 'node', node: b },
      { kind: 'pod', namespace: o.namespace, pod: 'local-client' },
      { kind: 'pod', namespace: o.namespace, pod: 'local' },
    ]);
    expect(e!.podPort).toBe(80);
    await o.deletePod('local');
    await waitGone(o.driver, b, [e!]);
  },
};

export const multiplePodsAgentRestart: Scenario = {
  name: 'testNPLMultiplePodsAgentRestart',
  title: 'a rule deleted by hand comes back after the agents restart, with the same node ports and working traffic',
  needs: [],
  async run(o) {
    const { a, b } = nodes(o);
    const pods = [];
    for (const n of ['rs-a', 'rs-b', 'rs-c', 'rs-d']) pods.push(await o.pod(n, b, { app: 'restart' }));
    await o.service('restart', { app: 'restart' }, [{ port: 80, targetPort: 80 }]);
    const before = new Map<string, number>();
    for (const p of pods) before.set(p.metadata!.name!, (await o.waitAnnotation(p.metadata!.name!, 1))[0]!.nodePort);
    const victim = before.get('rs-a')!;
    // As Antrea's `iptables -D` of one rule: our rule is the element pair of the node port.
    const table = o.driver.layout.nftTable;
    await o.driver.execOnNode(b, ['nft', 'delete', 'element', 'ip', table, 'addrs', `{ tcp . ${victim} }`]);
    await o.driver.execOnNode(b, ['nft', 'delete', 'element', 'ip', table, 'ports', `{ tcp . ${victim} }`]);
    await o.driver.restartAgents();
    for (const p of pods) {
      const [e] = await o.waitAnnotation(p.metadata!.name!, 1);
      expect(e!.nodePort).toBe(before.get(p.metadata!.name!));
      expect(await mappingProblems(o.driver, p, e!, [a])).toEqual([]);
    }
  },
};

export const changePortRangeAgentRestart: Scenario = {
  name: 'testNPLChangePortRangeAgentRestart',
  title: 'after the port range changes to 28000-29000 (an upgrade), old rules and sockets are gone and mappings move into the new range',
  needs: [],
  async run(o) {
    const { a, b } = nodes(o);
    const p = await o.pod('range', b, { app: 'range' });
    await o.service('range', { app: 'range' }, [{ port: 80, targetPort: 80 }]);
    const [old] = await o.waitAnnotation('range', 1, (x) => x[0]!.nodePort >= 61000);
    try {
      await o.driver.upgrade({ portRange: '28000-29000' });
      const [moved] = await o.waitAnnotation('range', 1, (x) => x[0]!.nodePort >= 28000 && x[0]!.nodePort <= 29000);
      expect(await mappingProblems(o.driver, p, moved!, [a])).toEqual([]);
      await waitGone(o.driver, b, [old!]);
    } finally {
      await o.driver.upgrade({ portRange: '61000-62000' });
    }
  },
};

export const ANTREA_SCENARIOS: readonly Scenario[] = [
  multiplePods,
  podAddMultiPort,
  podAddMultiProtocol,
  localAccess,
  multiplePodsAgentRestart,
  changePortRangeAgentRestart,
];
