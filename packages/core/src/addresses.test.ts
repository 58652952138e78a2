import { describe, it, expect } from '@jest/globals';
import type { V1Node, V1NodeAddress, V1Pod } from '@kubernetes/client-node';
import { nodeIPForFamily, nodeIPs, nodeIPsEqual, podHasIPs, podIPForFamily } from './addresses.js';

const node = (addresses: V1NodeAddress[]): V1Node => ({ metadata: { name: 'test-node' }, status: { addresses } });
const pod = (ips?: string[], podIP?: string): V1Pod => ({
  status: { podIP, podIPs: ips?.map((ip) => ({ ip })) },
});

const fixtureNode = node([
  { type: 'ExternalIP', address: '10.10.10.10' },
  { type: 'InternalIP', address: '10.0.0.1' },
  { type: 'ExternalIP', address: 'fd12:3456:789a:1::1' },
  { type: 'InternalIP', address: 'fd12:3456:789a:1::2' },
]);

describe('nodeIPs', () => {
  it('prefers ExternalIPs of the §8 fixture Node for both families', () => {
    expect(nodeIPs(fixtureNode)).toEqual({ IPv4: '10.10.10.10', IPv6: 'fd12:3456:789a:1::1' });
  });

  it.each<[string, V1NodeAddress[], { IPv4?: string; IPv6?: string }]>([
    ['InternalIPs when there is no ExternalIP', [
      { type: 'Hostname', address: 'test-node' },
      { type: 'InternalIP', address: '192.0.2.1' },
      { type: 'InternalIP', address: '2001:db8::1' },
    ], { IPv4: '192.0.2.1', IPv6: '2001:db8::1' }],
    ['the first address of each family', [
      { type: 'InternalIP', address: '192.0.2.1' },
      { type: 'InternalIP', address: '192.0.2.2' },
      { type: 'InternalIP', address: '2001:db8::1' },
      { type: 'InternalIP', address: '2001:db8::2' },
    ], { IPv4: '192.0.2.1', IPv6: '2001:db8::1' }],
    ['no IPv6 when the ExternalIPs are IPv4 only, even with an IPv6 InternalIP (Antrea quirk)', [
      { type: 'InternalIP', address: '2001:db8::1' },
      { type: 'ExternalIP', address: '192.0.2.10' },
    ], { IPv4: '192.0.2.10' }],
    ['no IPv4 when the ExternalIPs are IPv6 only, even with an IPv4 InternalIP (Antrea quirk)', [
      { type: 'InternalIP', address: '192.0.2.1' },
      { type: 'ExternalIP', address: '2001:db8::10' },
    ], { IPv6: '2001:db8::10' }],
    ['IPv6 in Go net.IP.String() form', [
      { type: 'InternalIP', address: '2001:DB8:0:0:0:0:0:1' },
    ], { IPv6: '2001:db8::1' }],
    ['IPv4-mapped IPv6 as IPv4', [
      { type: 'InternalIP', address: '::ffff:192.0.2.7' },
    ], { IPv4: '192.0.2.7' }],
    ['unparseable addresses skipped', [
      { type: 'InternalIP', address: 'bogus' },
      { type: 'InternalIP', address: '192.0.2.1' },
    ], { IPv4: '192.0.2.1' }],
    ['nothing from Hostname or InternalDNS', [
      { type: 'Hostname', address: '192.0.2.1' },
      { type: 'InternalDNS', address: '2001:db8::1' },
    ], {}],
    ['nothing without addresses', [], {}],
  ])('takes %s', (_name, addresses, expected) => {
    expect(nodeIPs(node(addresses))).toEqual(expected);
  });

  it('is {} for a Node without status', () => {
    expect(nodeIPs({})).toEqual({});
  });
});

describe('nodeIPForFamily', () => {
  it('returns the family\'s address or undefined', () => {
    expect(nodeIPForFamily({ IPv4: '192.0.2.1' }, 'IPv4')).toBe('192.0.2.1');
    expect(nodeIPForFamily({ IPv4: '192.0.2.1' }, 'IPv6')).toBeUndefined();
    expect(nodeIPForFamily({ IPv6: '' }, 'IPv6')).toBeUndefined();
  });
});

describe('nodeIPsEqual', () => {
  it.each([
    [{}, {}, true],
    [{ IPv4: '192.0.2.1' }, { IPv4: '192.0.2.1' }, true],
    [{ IPv4: '192.0.2.1', IPv6: '' }, { IPv4: '192.0.2.1' }, true],
    [{ IPv4: '192.0.2.1' }, { IPv4: '192.0.2.2' }, false],
    [{ IPv4: '192.0.2.1' }, { IPv4: '192.0.2.1', IPv6: '2001:db8::1' }, false],
    [{ IPv6: '2001:db8::1' }, { IPv6: '2001:db8::2' }, false],
  ])('%j vs %j: %s', (a, b, equal) => {
    expect(nodeIPsEqual(a, b)).toBe(equal);
    expect(nodeIPsEqual(b, a)).toBe(equal);
  });

  it('sees the change of TestNodeIPUpdate (ExternalIP 10.10.10.10 -> 10.10.10.20)', () => {
    const updated = node([
      { type: 'ExternalIP', address: '10.10.10.20' },
      { type: 'InternalIP', address: '10.0.0.1' },
      { type: 'ExternalIP', address: 'fd12:3456:789a:1::1' },
    ]);
    expect(nodeIPsEqual(nodeIPs(fixtureNode), nodeIPs(updated))).toBe(false);
  });
});

describe('TestGetPodIPForFamily', () => {
  it.each<[string, string[], 'IPv4' | 'IPv6', string | undefined]>([
    ['Pod with IPv4 and IPv6, request IPv4', ['192.0.2.5', '2001:db8::5'], 'IPv4', '192.0.2.5'],
    ['Pod with IPv4 and IPv6, request IPv6', ['192.0.2.5', '2001:db8::5'], 'IPv6', '2001:db8::5'],
    ['Pod with only IPv4, request IPv4', ['192.0.2.5'], 'IPv4', '192.0.2.5'],
    ['Pod with only IPv4, request IPv6', ['192.0.2.5'], 'IPv6', undefined],
    ['Pod with only IPv6, request IPv6', ['2001:db8::5'], 'IPv6', '2001:db8::5'],
    ['Pod with only IPv6, request IPv4', ['2001:db8::5'], 'IPv4', undefined],
    ['Pod with no IPs', [], 'IPv4', undefined],
  ])('%s', (_name, ips, family, expected) => {
    expect(podIPForFamily(pod(ips), family)).toBe(expected);
  });
});

describe('podIPForFamily', () => {
  it('picks the first IP of the family when IPv6 is listed first', () => {
    expect(podIPForFamily(pod(['2001:db8::5', '192.0.2.5', '192.0.2.6']), 'IPv4')).toBe('192.0.2.5');
  });

  it('returns the address verbatim', () => {
    expect(podIPForFamily(pod(['2001:DB8::5']), 'IPv6')).toBe('2001:DB8::5');
  });

  it('does not fall back to status.podIP', () => {
    expect(podIPForFamily(pod(undefined, '192.0.2.5'), 'IPv4')).toBeUndefined();
  });

  it('skips entries that are not addresses instead of counting them as IPv4', () => {
    expect(podIPForFamily(pod(['', 'junk', '192.0.2.5']), 'IPv4')).toBe('192.0.2.5');
  });
});

describe('podHasIPs', () => {
  it('looks at status.podIPs only', () => {
    expect(podHasIPs(pod(['192.0.2.5']))).toBe(true);
    expect(podHasIPs(pod([]))).toBe(false);
    expect(podHasIPs(pod(undefined, '192.0.2.5'))).toBe(false);
    expect(podHasIPs({})).toBe(false);
  });
});
