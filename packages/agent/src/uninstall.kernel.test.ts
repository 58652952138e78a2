/**
 * `npl-agent uninstall` on a real kernel: the nftables tables and the iptables chains of both
 * families, as agents of each dataplane leave them, are all removed in one run; a second run finds
 * nothing and succeeds.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { DnatMapping } from '@npl/core';
import { createLogger } from '@npl/runtime';
import { describeUnless } from '@npl/testkit';
import { parseAgentConfig } from './config.js';
import { createDataplane } from './dataplane/index.js';
import type { Topology } from './dataplane/testing/netns.js';
import { POD_IP, createTopology, kernelSkipReason } from './dataplane/testing/netns.js';
import { uninstall } from './uninstall.js';

const skip = kernelSkipReason(['ip', 'nft', 'iptables-nft', 'ip6tables-nft']);

describeUnless(skip, 'npl-agent uninstall on a real kernel (both dataplanes, both families)', () => {
  let topo: Topology;
  const config = (() => {
    const r = parseAgentConfig(['--node-name', 'node-a'], {});
    if (r.help) throw new Error('unexpected');
    return r.config;
  })();
  const logger = createLogger({ name: 'uninstall-test', level: 'silent' });
  const dataplane = (kind: 'nftables' | 'iptables', family: 'IPv4' | 'IPv6') =>
    createDataplane({ kind, family, table: config.nftTable, chain: config.iptablesChain, iptablesBackend: 'nft', runner: topo.runner });
  const state = (): string[] => {
    const nft = topo.exec(topo.node, 'nft', 'list', 'tables').split('\n').filter((l) => l.includes(config.nftTable));
    const v4 = topo.exec(topo.node, 'iptables-nft-save', '-t', 'nat').split('\n').filter((l) => l.includes(config.iptablesChain));
    const v6 = topo.exec(topo.node, 'ip6tables-nft-save', '-t', 'nat').split('\n').filter((l) => l.includes(config.iptablesChain));
    return [...nft, ...v4.map((l) => `v4 ${l}`), ...v6.map((l) => `v6 ${l}`)];
  };

  beforeAll(() => {
    topo = createTopology('uninst');
  });

  afterAll(() => {
    topo?.destroy();
  });

  it('removes nft tables ip/ip6 and the iptables chain with its jumps in iptables and ip6tables', async () => {
    const v4: DnatMapping = { family: 'IPv4', protocol: 'tcp', nodePort: 61000, podIP: POD_IP, podPort: 8080 };
    const v6: DnatMapping = { family: 'IPv6', protocol: 'udp', nodePort: 61001, podIP: '2001:db8:200::2', podPort: 5353 };
    for (const kind of ['nftables', 'iptables'] as const) {
      for (const m of [v4, v6]) {
        const dp = dataplane(kind, m.family);
        await dp.init();
        await dp.replaceAll([m]);
        dp.close();
      }
    }
    expect(state()).toEqual([
      `table ip ${config.nftTable}`,
      `table ip6 ${config.nftTable}`,
      ...['v4', 'v6'].flatMap((f) => [
        `${f} :${config.iptablesChain} - [0:0]`,
        `${f} -A PREROUTING -m addrtype --dst-type LOCAL -j ${config.iptablesChain}`,
        `${f} -A OUTPUT -m addrtype --dst-type LOCAL -j ${config.iptablesChain}`,
        f === 'v4'
          ? `v4 -A ${config.iptablesChain} -p tcp -m tcp --dport 61000 -j DNAT --to-destination ${POD_IP}:8080`
          : `v6 -A ${config.iptablesChain} -p udp -m udp --dport 61001 -j DNAT --to-destination [2001:db8:200::2]:5353`,
      ]),
    ]);

    const first = await uninstall(config, logger, { dataplane, detectAgent: () => Promise.resolve([]) });
    expect(first.errors).toEqual([]);
    expect(first.dataplanesRemoved).toEqual(['nftables IPv4', 'nftables IPv6', 'iptables IPv4', 'iptables IPv6']);
    expect(state()).toEqual([]);

    const again = await uninstall(config, logger, { dataplane, detectAgent: () => Promise.resolve([]) });
    expect([again.errors, again.dataplanesRemoved.length]).toEqual([[], 4]);
  });
});
