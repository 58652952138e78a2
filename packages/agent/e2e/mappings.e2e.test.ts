/**
 * GET /mappings of real npl-agents on the local cluster (real API server, real nftables, real
 * sockets): what it reports agrees with the annotation, with `nft list` and with `ss`, and a rule
 * deleted by hand reads `missing` (the agents run without drift repair, so nothing puts it back).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { ClusterNode } from '@npl/cluster';
import { describeWithCluster } from '@npl/cluster/testing';
import { eventually } from '@npl/runtime';
import { AgentFleet, createPod, createService, healthAddress, nftMappings, socketHeld, waitAnnotation, waitPodRunning } from './harness.js';

const T = 240_000;

interface Report {
  schemaVersion: number;
  node: string;
  synced: boolean;
  dataplanes: { family: string; read: string }[];
  mappings: { pod: { namespace: string; name: string; uid: string | null }; podIP: string; podPort: number; protocol: string; family: string; nodeIP: string | null; nodePort: number; rule: string; socketHeld: boolean | null; annotation: string }[];
}

async function mappings(node: ClusterNode, query = ''): Promise<Report> {
  const res = await fetch(`http://${healthAddress(node)}/mappings${query}`, { signal: AbortSignal.timeout(5_000) });
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
}

describeWithCluster('npl-agent: GET /mappings on the local cluster', { name: 'nplmaps', nodes: 2 }, (get) => {
  // No drift repair: a rule deleted by hand stays deleted, so /mappings must say so.
  const fleet = new AgentFleet(get, ['--verify-period', '0']);
  const node = () => get().nodes[1]!;

  beforeAll(async () => {
    await fleet.startAll();
    for (const name of ['web-0', 'web-1']) await createPod(get(), { name, node: node().name, labels: { app: 'web' }, ports: [{ containerPort: 80 }] });
    await createService(get(), 'web', { app: 'web' }, [{ name: 'http', port: 80, targetPort: 80 }, { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' }]);
    for (const name of ['web-0', 'web-1']) await waitPodRunning(get(), name);
  }, T);

  afterAll(async () => {
    await fleet.stopAll();
  }, T);

  it('reports every mapping as the annotation, the nftables table and the sockets have it', async () => {
    const c = get();
    const annotations = { 'web-0': await waitAnnotation(c, 'web-0', 2), 'web-1': await waitAnnotation(c, 'web-1', 2) };
    const report = await mappings(node());
    expect(report).toMatchObject({ schemaVersion: 1, node: node().name, synced: true });
    expect(report.dataplanes).toContainEqual({ family: 'IPv4', read: 'ok' });
    expect(report.dataplanes.filter((d) => d.read !== 'ok')).toEqual([]);
    expect(report.mappings.map((m) => `${m.pod.name} ${m.protocol}/${m.podPort}`)).toEqual(['web-0 tcp/80', 'web-0 udp/53', 'web-1 tcp/80', 'web-1 udp/53']);
    const installed = await nftMappings(c, node());
    for (const m of report.mappings) {
      const pod = await waitPodRunning(c, m.pod.name);
      const entry = annotations[m.pod.name as 'web-0' | 'web-1'].find((a) => a.protocol === m.protocol && a.podPort === m.podPort);
      expect(m).toMatchObject({ pod: { namespace: 'default', uid: pod.metadata!.uid }, podIP: pod.status!.podIP, family: 'IPv4', nodeIP: node().ip, nodePort: entry!.nodePort });
      expect(m).toMatchObject({ rule: 'present', socketHeld: true, annotation: 'match' });
      expect(installed).toContainEqual(expect.objectContaining({ nodePort: m.nodePort, protocol: m.protocol, podIP: m.podIP, podPort: m.podPort }));
      expect(await socketHeld(c, node(), m.nodePort, m.protocol as 'tcp' | 'udp')).toBe(true);
    }
    expect((await mappings(node(), '?pod=default/web-1')).mappings.map((m) => m.pod.name)).toEqual(['web-1', 'web-1']);
    expect((await mappings(c.nodes[0]!)).mappings).toEqual([]);
  }, T);

  it('a rule deleted by hand reads missing while the others stay present', async () => {
    const c = get();
    const before = await mappings(node(), '?pod=default/web-0');
    const victim = before.mappings.find((m) => m.protocol === 'tcp')!;
    await c.exec(node().netns, ['nft', 'delete', 'element', 'ip', 'npl', 'addrs', `{ tcp . ${victim.nodePort} }`]);
    await c.exec(node().netns, ['nft', 'delete', 'element', 'ip', 'npl', 'ports', `{ tcp . ${victim.nodePort} }`]);
    const after = await eventually(
      async () => {
        const r = await mappings(node());
        return r.mappings.some((m) => m.rule === 'missing') ? r : undefined;
      },
      10_000,
      'the deleted rule reported missing',
    );
    expect(after.mappings.filter((m) => m.rule !== 'present').map((m) => [m.pod.name, m.protocol, m.nodePort, m.rule, m.socketHeld, m.annotation])).toEqual([['web-0', 'tcp', victim.nodePort, 'missing', true, 'match']]);
  }, T);
});
