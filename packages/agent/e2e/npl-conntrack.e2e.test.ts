/**
 * Stale UDP conntrack entries on the local cluster, with each dataplane: a UDP client outside the
 * node keeps sending from one source port to nodeIP:nodePort. Netfilter NATs only a flow's first
 * packet, so without the agent's clean-up the client's datagrams keep going where the flow's first
 * packet went: (a) to the node itself when the client started before the Service was NPL-enabled,
 * (b) to the old Pod, which still runs and answers, when the node port moves to another Pod. The
 * range has two ports (the agent, like Antrea, takes no range of one) and each test first gives one
 * to a filler Pod, so the mapping's node port is known before it exists and is reused for the new Pod.
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ClusterNode } from '@npl/cluster';
import { describeWithCluster } from '@npl/cluster/testing';
import { NPL_ENABLED_ANNOTATION_KEY } from '@npl/core';
import { eventually } from '@npl/runtime';
import { UdpStream } from '../src/dataplane/testing/netns.js';
import type { DataplaneKind } from './harness.js';
import { AgentFleet, annotation, core, createPod, dataplaneArgs, deletePod, deleteService, NS, request, udpFlows, waitAnnotation, waitPodRunning } from './harness.js';
import { metricTotal, scrape } from './testing/churn.js';

const T = 300_000;
const RANGE = [61000, 61001] as const;
const POD_PORT = 5353;
/** Long enough for a reconcile, far below the 30 s after which an idle UDP entry would go by itself (and the client never idles). */
const DEADLINE_MS = 20_000;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const DATAPLANES: readonly { kind: DataplaneKind; cluster: string }[] = [
  { kind: 'nftables', cluster: 'nplctnft' },
  { kind: 'iptables', cluster: 'nplctipt' },
];

for (const dp of DATAPLANES) {
  describeWithCluster(`npl-agent (${dp.kind}): stale UDP conntrack entries of node ports`, { name: dp.cluster, nodes: 1, ipFamily: 'ipv4' }, (get) => {
    const fleet = new AgentFleet(get, ['--port-range', RANGE.join('-'), ...dataplaneArgs(dp.kind)]);
    const node = (): ClusterNode => get().nodes[0]!;
    const created = { pods: [] as string[], services: [] as string[], streams: [] as UdpStream[] };

    beforeAll(async () => {
      await fleet.startAll();
    }, T);

    afterAll(async () => {
      await fleet.stopAll();
    }, T);

    afterEach(async () => {
      for (const s of created.streams) await s.stop();
      for (const s of created.services) await deleteService(get(), s);
      for (const p of created.pods) await deletePod(get(), p);
      created.streams = [];
      created.services = [];
      created.pods = [];
      // The next test's mapping must be able to take the one port.
      await eventually(async () => (await scrapeMappings(node())) === 0, 60_000, 'no mapping left on the node');
    }, T);

    const udpPod = async (name: string) => {
      await createPod(get(), { name, node: node().name, labels: { app: name }, ports: [{ containerPort: POD_PORT, protocol: 'UDP' }] });
      created.pods.push(name);
      return waitPodRunning(get(), name);
    };

    /** A UDP Service for the Pods labelled app=`app`, NPL-enabled unless `enabled` is false. */
    const udpService = async (name: string, app: string, enabled = true) => {
      await core(get()).createNamespacedService({
        namespace: NS,
        body: {
          metadata: { name, ...(enabled ? { annotations: { [NPL_ENABLED_ANNOTATION_KEY]: 'true' } } : {}) },
          spec: { selector: { app }, ports: [{ port: 53, targetPort: POD_PORT, protocol: 'UDP' }] },
        },
      });
      created.services.push(name);
    };

    /** Maps a filler Pod to one port of the range and returns the other, the only one left for the test's mapping. */
    const onlyFreePort = async (): Promise<number> => {
      await udpPod('ct-fill');
      await udpService('fill', 'ct-fill');
      const [filler] = await waitAnnotation(get(), 'ct-fill', 1);
      return filler!.nodePort === RANGE[0] ? RANGE[1] : RANGE[0];
    };

    /** A client in the outside namespace sending to nodeIP:nodePort every 50 ms from `sport`. */
    const stream = async (nodePort: number, sport: number): Promise<UdpStream> => {
      const s = await UdpStream.start(get().outsideNetns, node().ip, nodePort, sport);
      created.streams.push(s);
      return s;
    };

    /** Resolves once the client got `want` among the replies after the first `from`. */
    const replyFrom = (s: UdpStream, from: number, want: string, what: string) =>
      eventually(() => Promise.resolve(s.replies().slice(from).includes(want)), DEADLINE_MS, what, 50);

    /** The flow to `nodePort` from source port `sport`, once its reply direction comes from `replySrc`. */
    const flowTo = (nodePort: number, sport: number, replySrc: string) =>
      eventually(
        async () => (await udpFlows(get(), node(), nodePort)).find((f) => f.sport === sport && f.replySrc === replySrc),
        DEADLINE_MS,
        `conntrack entry of source port ${sport} to ${nodePort} replied by ${replySrc}`,
        50,
      );

    it('(a) a client that sent before the Service was NPL-enabled reaches the Pod once the mapping exists', async () => {
      const c = get();
      const nodePort = await onlyFreePort();
      const pod = await udpPod('ct-a');
      const podIP = pod.status!.podIP!;
      await udpService('ct', 'ct-a', false);
      const client = await stream(nodePort, 40123);
      // The client's flow exists before any mapping: not DNATed, the node itself is its other end.
      const first = await flowTo(nodePort, 40123, node().ip);
      expect(first.src).toBe(c.outsideIP);
      expect(client.replies()).toEqual([]);
      const deletedBefore = metricTotal(await scrape(node()), 'npl_agent_conntrack_entries_deleted_total');

      await core(c).patchNamespacedService({ name: 'ct', namespace: NS, body: { metadata: { annotations: { [NPL_ENABLED_ANNOTATION_KEY]: 'true' } } } }, mergePatch);
      const [entry] = await waitAnnotation(c, 'ct-a', 1);
      expect(entry).toMatchObject({ nodePort, protocol: 'udp', podPort: POD_PORT });

      await replyFrom(client, 0, 'ct-a', 'a reply from ct-a to the client that started before the mapping');
      await flowTo(nodePort, 40123, podIP);
      expect(metricTotal(await scrape(node()), 'npl_agent_conntrack_entries_deleted_total')).toBeGreaterThan(deletedBefore);
    }, T);

    it('(b) a client whose node port moves to another Pod reaches the new Pod (the old one still runs)', async () => {
      const c = get();
      const nodePort = await onlyFreePort();
      const podA = await udpPod('ct-a');
      const podB = await udpPod('ct-b');
      const ipA = podA.status!.podIP!;
      const ipB = podB.status!.podIP!;
      expect(ipB).not.toBe(ipA);
      await udpService('ct', 'ct-a');
      await waitAnnotation(c, 'ct-a', 1, (a) => a[0]!.nodePort === nodePort);
      const client = await stream(nodePort, 40124);
      await replyFrom(client, 0, 'ct-a', 'a reply from ct-a through the mapping');
      await flowTo(nodePort, 40124, ipA);

      const mark = client.replies().length;
      await core(c).patchNamespacedService({ name: 'ct', namespace: NS, body: { spec: { selector: { app: 'ct-b' } } } }, mergePatch);
      // The only free port moves: ct-a loses it, ct-b gets it.
      await waitAnnotation(c, 'ct-b', 1, (a) => a[0]!.nodePort === nodePort);
      expect(await annotation(c, 'ct-a')).toEqual([]);

      await replyFrom(client, mark, 'ct-b', 'a reply from ct-b to the client whose flow went to ct-a');
      await flowTo(nodePort, 40124, ipB);
      // The old Pod still answers: a stale entry would have kept the client on it.
      expect(await request(c, node().netns, ipA, POD_PORT, 'udp')).toBe('ct-a');
    }, T);
  });
}

async function scrapeMappings(node: ClusterNode): Promise<number> {
  return metricTotal(await scrape(node), 'npl_agent_mappings');
}
