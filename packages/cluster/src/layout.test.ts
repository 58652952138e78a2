import { describe, expect, it } from '@jest/globals';
import { canonicalIP, cidrsOverlap, familyOf, offsetIn } from './ip.js';
import { cidrHosts, clusterLayout, familiesOf, intToIp, isSlotLink, MAX_NODES, MAX_SLOT, podNetnsName, podVethName, validateIPFamily, validateName } from './layout.js';
import type { ClusterLayout } from './layout.js';

const inBenchmarkRange = (ip: string) => /^198\.(18|19)\./.test(ip);
const inDocumentationRange = (cidr: string) => offsetIn('2001:db8::/32', cidr.split('/')[0]!) !== undefined;
const slots = [...Array(MAX_SLOT).keys()].map((i) => i + 1);

/** Every block a cluster occupies: bridge subnet, service range and each node's podCIDR, per family. */
function blocks(l: ClusterLayout): string[] {
  return l.nets.flatMap((n) => [n.subnet, n.serviceCIDR, ...n.podCIDRs]);
}

/** Every address a cluster assigns to an interface. */
function addresses(l: ClusterLayout): string[] {
  return l.nets.flatMap((n) => [n.bridgeIP, n.outsideIP, ...n.nodeIPs]);
}

describe('clusterLayout', () => {
  it('derives names, addresses and ports from name and slot, all in 198.18.0.0/15', () => {
    const l = clusterLayout('e2e', 3, 2);
    expect(l.bridge).toBe('nplc3-br');
    expect(l.bridgeIP).toBe('198.18.3.1');
    expect(l.nodes.map((n) => [n.name, n.ip, n.netns, n.podCIDR, n.hostVeth])).toEqual([
      ['node-0', '198.18.3.10', 'npl-e2e-node-0', '198.19.48.0/23', 'nplc3-n0'],
      ['node-1', '198.18.3.11', 'npl-e2e-node-1', '198.19.50.0/23', 'nplc3-n1'],
    ]);
    expect(l.outside).toMatchObject({ netns: 'npl-e2e-out', ip: '198.18.3.250', hostVeth: 'nplc3-out' });
    expect(l.serviceCIDR).toBe('198.18.195.0/24');
    for (const ip of [l.bridgeIP, l.kubernetesServiceIP, l.outside.ip, ...l.nodes.map((n) => n.ip)]) expect(inBenchmarkRange(ip)).toBe(true);
  });

  it('keeps every root-namespace link name within 15 characters for every slot and node', () => {
    const l = clusterLayout('abcdefghijkl', 15, 8);
    for (const name of [l.bridge, l.outside.hostVeth, ...l.nodes.map((n) => n.hostVeth)]) expect(name.length).toBeLessThanOrEqual(15);
  });

  it('gives distinct clusters disjoint subnets, pod ranges and ports', () => {
    const a = clusterLayout('a', 1, 8);
    const b = clusterLayout('b', 2, 8);
    const aPods = new Set(a.nodes.map((n) => n.podCIDR));
    expect(b.nodes.some((n) => aPods.has(n.podCIDR))).toBe(false);
    expect(a.subnet).not.toBe(b.subnet);
    const ports = (l: typeof a) => Object.values(l.ports);
    expect(ports(b).some((p) => ports(a).includes(p))).toBe(false);
    expect(Math.max(...ports(clusterLayout('z', 15, 1)))).toBeLessThan(30000);
  });

  it('gives each node room for 500 pods', () => {
    const h = cidrHosts(clusterLayout('x', 1, 1).nodes[0]!.podCIDR);
    expect(h.last - h.first + 1).toBeGreaterThanOrEqual(500);
    expect(intToIp(h.first)).toBe('198.19.16.1');
    expect(intToIp(h.last)).toBe('198.19.17.254');
  });

  it('rejects names that could collide as namespace prefixes', () => {
    for (const bad of ['', 'a-b', 'A', '1abc', 'abcdefghijklm']) expect(() => validateName(bad)).toThrow(/cluster name/);
    expect(validateName('e2e1')).toBe('e2e1');
  });

  it('names pod namespaces and veths from the pod UID', () => {
    const l = clusterLayout('e2e', 1, 1);
    expect(podNetnsName(l, '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0')).toBe('npl-e2e-p-0f1e2d3c4b');
    expect(podVethName('0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0')).toBe('p0f1e2d3c4b');
    expect(isSlotLink('nplc1-n3', 1)).toBe(true);
    expect(isSlotLink('nplc12-n3', 1)).toBe(false);
  });
});

describe('clusterLayout, dual-stack and IPv6-only', () => {
  it('defaults to dual-stack with IPv4 primary: nodes keep their IPv4 as ip and podCIDR, IPv6 second', () => {
    const l = clusterLayout('e2e', 3, 2);
    expect(l.ipFamily).toBe('dual');
    expect(l.nets.map((n) => n.family)).toEqual(['IPv4', 'IPv6']);
    expect(l.nodes.map((n) => [n.ip, n.ips, n.ipv6, n.podCIDR, n.podCIDRs])).toEqual([
      ['198.18.3.10', ['198.18.3.10', '2001:db8:18:3::10'], '2001:db8:18:3::10', '198.19.48.0/23', ['198.19.48.0/23', '2001:db8:19:300::/64']],
      ['198.18.3.11', ['198.18.3.11', '2001:db8:18:3::11'], '2001:db8:18:3::11', '198.19.50.0/23', ['198.19.50.0/23', '2001:db8:19:301::/64']],
    ]);
    expect(l.serviceCIDRs).toEqual(['198.18.195.0/24', '2001:db8:1a:3::/112']);
    expect(l.outside).toMatchObject({ ip: '198.18.3.250', ips: ['198.18.3.250', '2001:db8:18:3::250'], ipv6: '2001:db8:18:3::250' });
    expect(l.bridgeIP).toBe('198.18.3.1');
  });

  it('IPv6-only: every address is IPv6, the control plane included; ipv4 keeps the layout it always had', () => {
    const six = clusterLayout('e2e', 12, 1, 'ipv6');
    expect(six.nets.map((n) => n.family)).toEqual(['IPv6']);
    expect([six.bridgeIP, six.nodes[0]!.ip, six.nodes[0]!.podCIDR, six.serviceCIDR, six.kubernetesServiceIP, six.outside.ip]).toEqual([
      '2001:db8:18:c::1', '2001:db8:18:c::10', '2001:db8:19:c00::/64', '2001:db8:1a:c::/112', '2001:db8:1a:c::1', '2001:db8:18:c::250',
    ]);
    const four = clusterLayout('e2e', 3, 2, 'ipv4');
    expect(four.nodes[1]).toEqual({
      name: 'node-1', index: 1, ip: '198.18.3.11', ips: ['198.18.3.11'], netns: 'npl-e2e-node-1', hostVeth: 'nplc3-n1', podCIDR: '198.19.50.0/23', podCIDRs: ['198.19.50.0/23'],
    });
    expect(four.outside.ipv6).toBeUndefined();
    expect(() => validateIPFamily('ipv5')).toThrow(/ip family "ipv5": expected one of ipv4, ipv6, dual/);
  });

  it('uses canonical addresses from 198.18.0.0/15 and 2001:db8::/32 only, for every slot and family', () => {
    for (const slot of slots) {
      const l = clusterLayout('x', slot, MAX_NODES, 'dual');
      for (const ip of addresses(l)) {
        expect(canonicalIP(ip)).toBe(ip);
        expect(familyOf(ip) === 'IPv4' ? inBenchmarkRange(ip) : inDocumentationRange(ip)).toBe(true);
      }
      for (const cidr of [...blocks(l), ...l.nets.map((n) => n.clusterPodCIDR)]) {
        expect(familyOf(cidr.split('/')[0]!) === 'IPv4' ? inBenchmarkRange(cidr) : inDocumentationRange(cidr)).toBe(true);
      }
    }
  });

  it('never overlaps: no two blocks of all slots share an address, in either family', () => {
    const all = slots.flatMap((slot) => blocks(clusterLayout('x', slot, MAX_NODES, 'dual')).map((cidr) => ({ slot, cidr })));
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        if (cidrsOverlap(all[i]!.cidr, all[j]!.cidr)) throw new Error(`slot ${all[i]!.slot} ${all[i]!.cidr} overlaps slot ${all[j]!.slot} ${all[j]!.cidr}`);
      }
    }
    expect(all.length).toBe(MAX_SLOT * 2 * (2 + MAX_NODES));
  });

  it('puts node, outside and bridge addresses in their bridge subnet and each podCIDR in the cluster pod range', () => {
    for (const slot of slots) {
      for (const mode of ['ipv4', 'ipv6', 'dual'] as const) {
        const l = clusterLayout('x', slot, MAX_NODES, mode);
        expect(l.nets.map((n) => n.family)).toEqual(familiesOf(mode));
        for (const n of l.nets) {
          for (const ip of [n.bridgeIP, n.outsideIP, ...n.nodeIPs]) expect(offsetIn(n.subnet, ip)).toBeDefined();
          for (const cidr of n.podCIDRs) expect(cidrsOverlap(n.clusterPodCIDR, cidr)).toBe(true);
          expect(offsetIn(n.serviceCIDR, n.kubernetesServiceIP)).toBe(1n);
          expect(new Set(addresses(l)).size).toBe(addresses(l).length);
        }
      }
    }
  });
});
