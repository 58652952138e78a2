import { describe, expect, it } from '@jest/globals';
import { cidrHosts, clusterLayout, intToIp, isSlotLink, podNetnsName, podVethName, validateName } from './layout.js';

const inBenchmarkRange = (ip: string) => /^198\.(18|19)\./.test(ip);

describe('clusterLayout', () => {
  it('derives names, addresses and ports from name and slot, all in 198.18.0.0/15', () => {
    const l = clusterLayout('e2e', 3, 2);
    expect(l.bridge).toBe('nplc3-br');
    expect(l.bridgeIP).toBe('198.18.3.1');
    expect(l.nodes.map((n) => [n.name, n.ip, n.netns, n.podCIDR, n.hostVeth])).toEqual([
      ['node-0', '198.18.3.10', 'npl-e2e-node-0', '198.19.48.0/23', 'nplc3-n0'],
      ['node-1', '198.18.3.11', 'npl-e2e-node-1', '198.19.50.0/23', 'nplc3-n1'],
    ]);
    expect(l.outside).toEqual({ netns: 'npl-e2e-out', ip: '198.18.3.250', hostVeth: 'nplc3-out' });
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
