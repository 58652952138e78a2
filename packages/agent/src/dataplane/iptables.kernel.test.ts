import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { describeUnless } from '@npl/testkit';
import { randomBytes } from 'node:crypto';
import type { DnatMapping } from '@npl/core';
import { isDataplaneError } from './dataplane-error.js';
import type { IptablesBackend } from './iptables-backend.js';
import { IptablesDataplane } from './iptables.js';
import type { PodServer as PodServerType, Topology } from './testing/netns.js';
import { NODE_IP, NODE_OUTSIDE_IP, POD_IP, PodServer, createTopology, kernelSkipReason, request, sh } from './testing/netns.js';

const CHAIN = 'ANTREA-NODE-PORT-LOCAL';
const baseSkip = kernelSkipReason(['ip', 'iptables-nft', 'iptables-legacy']);

/** iptables-legacy needs the kernel's ip_tables modules, which some kernels lack. */
function legacySkipReason(): string | undefined {
  if (baseSkip) return baseSkip;
  const ns = `npl-legacy-probe-${randomBytes(3).toString('hex')}`;
  try {
    sh(['ip', 'netns', 'add', ns]);
    sh(['ip', 'netns', 'exec', ns, 'iptables-legacy', '-w', '10', '-t', 'nat', '-n', '-L']);
    return undefined;
  } catch (err) {
    return `iptables-legacy cannot use the kernel's nat table here: ${(err as Error).message.split('\n')[0] ?? ''}`;
  } finally {
    try {
      sh(['ip', 'netns', 'del', ns]);
    } catch {
      // never created
    }
  }
}

const backends: { backend: IptablesBackend; skip: string | undefined }[] = [
  { backend: 'nft', skip: baseSkip },
  { backend: 'legacy', skip: legacySkipReason() },
];

const tcp = (nodePort: number, podPort: number): DnatMapping => ({ family: 'IPv4', protocol: 'tcp', nodePort, podIP: POD_IP, podPort });
const web = tcp(61000, 8080);
const dns: DnatMapping = { family: 'IPv4', protocol: 'udp', nodePort: 61002, podIP: POD_IP, podPort: 5353 };
const extra = tcp(61003, 8082);

for (const { backend, skip } of backends) {
  describeUnless(skip, `IptablesDataplane (iptables-${backend}) on a real kernel (netns node/pod/outside)`, () => {
    let topo: Topology;
    let server: PodServerType;
    let dp: IptablesDataplane;
    const ipt = (...args: string[]): string => topo.exec(topo.node, `iptables-${backend}`, '-w', '10', ...args);
    const saved = (): string[] =>
      topo
        .exec(topo.node, `iptables-${backend}-save`, '-t', 'nat')
        .split('\n')
        .filter((l) => l.startsWith('-A') || l.startsWith(':'));

    beforeAll(async () => {
      topo = createTopology(`ipt${backend.slice(0, 3)}`);
      server = await PodServer.start(topo, { tcp: [8080, 8082], udp: [5353] });
      dp = new IptablesDataplane({ family: 'IPv4', backend, runner: topo.runner });
    });

    afterAll(async () => {
      await server?.stop();
      topo?.destroy();
    });

    it("init and restore produce Antrea's exact rules; traffic from outside, from the node, and UDP reaches the pod", async () => {
      expect(await dp.available()).toContain(backend === 'nft' ? '(nf_tables)' : '(legacy)');
      await dp.init();
      await dp.init();
      await dp.replaceAll([web, dns]);
      expect(saved().filter((l) => l.includes(CHAIN))).toEqual([
        `:${CHAIN} - [0:0]`,
        `-A PREROUTING -m addrtype --dst-type LOCAL -j ${CHAIN}`,
        `-A OUTPUT -m addrtype --dst-type LOCAL -j ${CHAIN}`,
        `-A ${CHAIN} -p tcp -m tcp --dport 61000 -j DNAT --to-destination 198.18.200.2:8080`,
        `-A ${CHAIN} -p udp -m udp --dport 61002 -j DNAT --to-destination 198.18.200.2:5353`,
      ]);
      expect(request(topo.outside, [['tcp', NODE_OUTSIDE_IP, 61000], ['udp', NODE_IP, 61002]])).toEqual(['pod:tcp:8080', 'pod:udp:5353']);
      expect(request(topo.node, [['tcp', NODE_IP, 61000], ['udp', NODE_OUTSIDE_IP, 61002]])).toEqual(['pod:tcp:8080', 'pod:udp:5353']);
      expect(await dp.verify([web, dns])).toMatchObject({ inSync: true });
    });

    it('hairpin (the pod through its own node port) is not supported, as documented', () => {
      expect(request(topo.pod, [['tcp', NODE_IP, 61000]], 1000)).toEqual([null]);
    });

    it('add checks before appending and delete is idempotent; traffic follows', async () => {
      await dp.add(extra);
      await dp.add(extra);
      expect(saved().filter((l) => l.includes('--dport 61003'))).toHaveLength(1);
      expect(request(topo.outside, [['tcp', NODE_IP, 61003]])).toEqual(['pod:tcp:8082']);
      await dp.delete(extra);
      await dp.delete(extra);
      expect(saved().filter((l) => l.includes('--dport 61003'))).toEqual([]);
      expect(request(topo.outside, [['tcp', NODE_IP, 61003]])).toEqual([null]);
    });

    it('restore replaces the whole chain, foreign rules included', async () => {
      ipt('-t', 'nat', '-A', CHAIN, '-p', 'tcp', '-m', 'tcp', '--dport', '61009', '-j', 'DNAT', '--to-destination', '198.18.200.9:1');
      expect((await dp.verify([web, dns])).unexpected).toHaveLength(1);
      await dp.replaceAll([web]);
      expect(saved().filter((l) => l.startsWith(`-A ${CHAIN}`))).toEqual([
        `-A ${CHAIN} -p tcp -m tcp --dport 61000 -j DNAT --to-destination 198.18.200.2:8080`,
      ]);
      expect(await dp.verify([web])).toMatchObject({ inSync: true });
    });

    it('verify finds a rule and a jump deleted by hand; repair restores both', async () => {
      await dp.replaceAll([web, dns]);
      ipt('-t', 'nat', '-D', CHAIN, '-p', 'udp', '-m', 'udp', '--dport', '61002', '-j', 'DNAT', '--to-destination', '198.18.200.2:5353');
      ipt('-t', 'nat', '-D', 'PREROUTING', '-p', 'all', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', CHAIN);
      expect(request(topo.outside, [['tcp', NODE_IP, 61000]])).toEqual([null]);
      const drift = await dp.verify([web, dns]);
      expect(drift).toMatchObject({ inSync: false, missing: [dns], unexpected: [], staticDrift: true, tableMissing: false });
      expect(drift.staticProblems).toEqual([`jump from PREROUTING to ${CHAIN} is missing`]);
      await dp.repair([web, dns]);
      expect(request(topo.outside, [['tcp', NODE_IP, 61000], ['udp', NODE_IP, 61002]])).toEqual(['pod:tcp:8080', 'pod:udp:5353']);
      expect(await dp.verify([web, dns])).toMatchObject({ inSync: true });
    });

    it('a chain deleted behind our back: add fails with tableMissing, verify says so, repair recovers', async () => {
      for (const from of ['PREROUTING', 'OUTPUT']) ipt('-t', 'nat', '-D', from, '-p', 'all', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', CHAIN);
      ipt('-t', 'nat', '-F', CHAIN);
      ipt('-t', 'nat', '-X', CHAIN);
      const err: unknown = await dp.add(extra).then(() => undefined, (e: unknown) => e);
      expect(isDataplaneError(err) && err.tableMissing).toBe(true);
      expect((err as Error).message).toContain(`iptables-${backend} (nat ${CHAIN}): add 61003/tcp -> 198.18.200.2:8082 failed`);
      expect(await dp.verify([web])).toMatchObject({ tableMissing: true, missing: [web], inSync: false });
      await dp.repair([web]);
      expect(request(topo.outside, [['tcp', NODE_IP, 61000]])).toEqual(['pod:tcp:8080']);
    });

    it('IPv6: ip6tables restore writes bracketed destinations and verify reads them back', async () => {
      const v6 = new IptablesDataplane({ family: 'IPv6', backend, runner: topo.runner });
      const m: DnatMapping = { family: 'IPv6', protocol: 'tcp', nodePort: 61000, podIP: '2001:db8::5', podPort: 80 };
      await v6.init();
      await v6.replaceAll([m]);
      expect(topo.exec(topo.node, `ip6tables-${backend}-save`, '-t', 'nat')).toContain(
        `-A ${CHAIN} -p tcp -m tcp --dport 61000 -j DNAT --to-destination [2001:db8::5]:80`,
      );
      expect(await v6.verify([{ ...m, podIP: '2001:DB8:0::5' }])).toMatchObject({ inSync: true });
      await v6.teardown();
    });

    it('teardown removes the jumps and the chain, and is idempotent', async () => {
      await dp.teardown();
      await dp.teardown();
      expect(saved().filter((l) => l.includes(CHAIN))).toEqual([]);
      expect(await dp.verify([])).toMatchObject({ tableMissing: true });
    });
  });
}
