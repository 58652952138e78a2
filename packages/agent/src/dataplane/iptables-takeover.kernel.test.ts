/**
 * "Either can take over the other's rules" (README, spec §4), with real iptables in a netns: the
 * agent's iptables dataplane with its DEFAULT chain, next to Antrea's start-up done by hand exactly
 * as spec §4.2 says (EnsureChain, `-C` then `-A` of both jumps, `iptables-restore --noflush` of its
 * payload). No renderer of ours writes the Antrea side.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { DnatMapping } from '@npl/core';
import { describeUnless } from '@npl/testkit';
import { parseAgentConfig } from '../config.js';
import { IptablesDataplane } from './iptables.js';
import type { PodServer as PodServerType, Topology } from './testing/netns.js';
import { NODE_IP, NODE_OUTSIDE_IP, POD_IP, PodServer, createTopology, kernelSkipReason, request } from './testing/netns.js';

const skip = kernelSkipReason(['ip', 'iptables-nft', 'iptables-nft-restore']);

function defaultChain(): string {
  const parsed = parseAgentConfig(['--node-name', 'n'], {});
  if (parsed.help) throw new Error('unexpected help');
  return parsed.config.iptablesChain;
}

describeUnless(skip, 'iptables takeover between npl-agent and Antrea (iptables-nft, real kernel)', () => {
  const CHAIN = 'ANTREA-NODE-PORT-LOCAL';
  let topo: Topology;
  let server: PodServerType;
  const ipt = (...args: string[]): string => topo.exec(topo.node, 'iptables-nft', '-w', '10', ...args);
  const natRules = (): string[] =>
    topo
      .exec(topo.node, 'iptables-nft-save', '-t', 'nat')
      .split('\n')
      .filter((l) => l.includes(CHAIN));

  /** Antrea's agent start-up on this node, command by command (spec §4.2 Init + AddAllRules). */
  function antreaStartup(payloadRules: readonly string[]): void {
    try {
      ipt('-t', 'nat', '-n', '-L', CHAIN);
    } catch {
      ipt('-t', 'nat', '-N', CHAIN);
    }
    for (const from of ['PREROUTING', 'OUTPUT']) {
      const jump = ['-t', 'nat', '-p', 'all', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', CHAIN];
      try {
        ipt('-C', from, ...jump);
      } catch {
        ipt('-A', from, ...jump);
      }
    }
    const payload = ['*nat', `:${CHAIN} - [0:0]`, ...payloadRules, 'COMMIT', ''].join('\n');
    topo.exec(topo.node, 'sh', '-c', `printf '%s' '${payload}' | iptables-nft-restore --noflush -w 10`);
  }

  const web: DnatMapping = { family: 'IPv4', protocol: 'tcp', nodePort: 61000, podIP: POD_IP, podPort: 8080 };
  const dns: DnatMapping = { family: 'IPv4', protocol: 'udp', nodePort: 61001, podIP: POD_IP, podPort: 5353 };

  beforeAll(async () => {
    topo = createTopology('takeover');
    server = await PodServer.start(topo, { tcp: [8080], udp: [5353] });
  });

  afterAll(async () => {
    await server?.stop();
    topo?.destroy();
  });

  it("the agent's default chain is Antrea's", () => {
    expect(defaultChain()).toBe(CHAIN);
  });

  it('Antrea takes over rules our agent wrote: no second jump, its restore replaces the chain, traffic keeps flowing', async () => {
    const ours = new IptablesDataplane({ family: 'IPv4', backend: 'nft', chain: defaultChain(), runner: topo.runner });
    await ours.init();
    await ours.replaceAll([web, dns]);
    expect(request(topo.outside, [['tcp', NODE_OUTSIDE_IP, 61000], ['udp', NODE_IP, 61001]])).toEqual(['pod:tcp:8080', 'pod:udp:5353']);

    // Antrea restarts on this node with the same mappings restored from the annotations (web only now).
    antreaStartup([`-A ${CHAIN} -p tcp -m tcp --dport 61000 -j DNAT --to-destination ${POD_IP}:8080`]);
    expect(natRules()).toEqual([
      `:${CHAIN} - [0:0]`,
      `-A PREROUTING -m addrtype --dst-type LOCAL -j ${CHAIN}`,
      `-A OUTPUT -m addrtype --dst-type LOCAL -j ${CHAIN}`,
      `-A ${CHAIN} -p tcp -m tcp --dport 61000 -j DNAT --to-destination ${POD_IP}:8080`,
    ]);
    expect(request(topo.outside, [['tcp', NODE_OUTSIDE_IP, 61000], ['udp', NODE_IP, 61001]], 800)).toEqual(['pod:tcp:8080', null]);
    await ours.teardown();
    expect(natRules()).toEqual([]);
  });

  it('our agent takes over Antrea-shaped rules written by hand: they verify as ours, init adds no jump, traffic keeps flowing', async () => {
    antreaStartup([
      `-A ${CHAIN} -p tcp -m tcp --dport 61000 -j DNAT --to-destination ${POD_IP}:8080`,
      `-A ${CHAIN} -p udp -m udp --dport 61001 -j DNAT --to-destination ${POD_IP}:5353`,
    ]);
    const before = natRules();
    const ours = new IptablesDataplane({ family: 'IPv4', backend: 'nft', chain: defaultChain(), runner: topo.runner });
    await ours.init();
    expect(natRules()).toEqual(before);
    expect(await ours.verify([web, dns])).toMatchObject({ inSync: true, tableMissing: false, staticDrift: false, missing: [], unexpected: [] });
    expect(request(topo.outside, [['tcp', NODE_OUTSIDE_IP, 61000], ['udp', NODE_IP, 61001]])).toEqual(['pod:tcp:8080', 'pod:udp:5353']);
    // The agent's start-up sync with the mappings restored from the annotations leaves the chain as it was.
    await ours.replaceAll([web, dns]);
    expect(natRules()).toEqual(before);
    await ours.delete(dns);
    expect(await ours.verify([web])).toMatchObject({ inSync: true });
    expect(request(topo.outside, [['tcp', NODE_OUTSIDE_IP, 61000]])).toEqual(['pod:tcp:8080']);
    await ours.teardown();
    expect(natRules()).toEqual([]);
  });
});
