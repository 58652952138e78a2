/**
 * Stale conntrack entries on a real kernel, for both dataplanes: a UDP client in the outside
 * namespace keeps sending from one source port to nodeIP:nodePort while (a) the mapping is added
 * after the client started and (b) the node port is moved to another pod endpoint. Netfilter NATs
 * only a flow's first packet, so without the clean-up the datagrams keep going where the old
 * conntrack entry says (the node itself, then the old endpoint) and never reach the new one.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { DnatMapping } from '@npl/core';
import { eventually } from '@npl/runtime';
import { describeUnless } from '@npl/testkit';
import { ConntrackCleaningDataplane } from './conntrack-dataplane.js';
import { CliConntrackCleaner } from './conntrack.js';
import { IptablesDataplane } from './iptables.js';
import { NftablesDataplane } from './nftables.js';
import type { PodServer as PodServerType, Topology } from './testing/netns.js';
import { NODE_IP, NODE_OUTSIDE_IP, POD_IP, PodServer, UdpStream, createTopology, kernelSkipReason } from './testing/netns.js';
import type { Dataplane } from './types.js';

const NODE_PORT = 61010;
const CLIENT_PORT = 40123;
const DEADLINE_MS = 5_000;
const T = 30_000;
const udp = (podPort: number): DnatMapping => ({ family: 'IPv4', protocol: 'udp', nodePort: NODE_PORT, podIP: POD_IP, podPort });

const dataplanes: { name: string; tools: string[]; make: (topo: Topology) => Dataplane }[] = [
  { name: 'nftables', tools: ['ip', 'nft', 'conntrack'], make: (topo) => new NftablesDataplane({ family: 'IPv4', runner: topo.runner, session: false }) },
  { name: 'iptables-nft', tools: ['ip', 'nft', 'iptables-nft', 'conntrack'], make: (topo) => new IptablesDataplane({ family: 'IPv4', backend: 'nft', runner: topo.runner }) },
];

for (const { name, tools, make } of dataplanes) {
  describeUnless(kernelSkipReason(tools), `stale UDP conntrack entries are deleted on mapping changes (${name}, real kernel)`, () => {
    let topo: Topology;
    let server: PodServerType;
    let client: UdpStream | undefined;
    let dp: ConntrackCleaningDataplane;
    const cleared: number[] = [];

    beforeAll(async () => {
      topo = createTopology(`ct${name.slice(0, 3)}`);
      server = await PodServer.start(topo, { tcp: [], udp: [5353, 5354] });
      // Connection tracking on in the node namespace, as on every Kubernetes node (kube-proxy, the
      // CNI): iptables-nft with no DNAT rule yet would not turn it on, and without it no stale entry
      // could exist before the first mapping.
      topo.exec(topo.node, 'nft', 'add table ip npl-test-ct');
      topo.exec(topo.node, 'nft', 'add chain ip npl-test-ct pre { type filter hook prerouting priority 0; }');
      topo.exec(topo.node, 'nft', 'add rule ip npl-test-ct pre ct state new counter');
      dp = new ConntrackCleaningDataplane(make(topo), {
        family: 'IPv4',
        cleaner: new CliConntrackCleaner(topo.runner),
        nodeAddresses: () => [NODE_IP, NODE_OUTSIDE_IP],
        onCleared: (_f, n) => cleared.push(n),
        onFailed: (_f, err) => {
          throw err;
        },
      });
      await dp.init();
      await dp.replaceAll([]);
    }, T);

    afterAll(async () => {
      await client?.stop();
      dp?.close();
      await server?.stop();
      topo?.destroy();
    });

    const flowExists = (): boolean => topo.exec(topo.node, 'conntrack', '-L', '-p', 'udp', '--orig-port-dst', String(NODE_PORT)).includes(`sport=${CLIENT_PORT}`);
    const replyAfter = (from: number, want: string) => () => Promise.resolve(client!.replies().slice(from).includes(want));

    it('(a) a client that sent before the mapping existed reaches the pod once it is added', async () => {
      client = await UdpStream.start(topo.outside, NODE_OUTSIDE_IP, NODE_PORT, CLIENT_PORT);
      // The flow's conntrack entry exists, without DNAT, before the mapping does.
      await eventually(() => Promise.resolve(flowExists()), DEADLINE_MS, 'conntrack entry of the client flow', 20);
      expect(client.replies()).toEqual([]);
      await dp.add(udp(5353));
      await eventually(replyAfter(0, 'pod:udp:5353'), DEADLINE_MS, 'a reply from the pod through the new mapping', 20);
      expect(cleared.some((n) => n > 0)).toBe(true);
    }, T);

    it('(b) the same flow follows the node port when it is moved to another pod endpoint', async () => {
      const from = client!.replies().length;
      await dp.delete(udp(5353));
      await dp.add(udp(5354));
      await eventually(replyAfter(from, 'pod:udp:5354'), DEADLINE_MS, 'a reply from the new endpoint on the same flow', 20);
      expect(flowExists()).toBe(true);
    }, T);
  });
}
