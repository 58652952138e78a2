import { describe, expect, it } from '@jest/globals';
import { addressAt, canonicalIP, cidrsOverlap, familyOf, hostPart, offsetIn, parseCIDR, parseIP } from './ip.js';

describe('IP arithmetic', () => {
  it.each([
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:DB8::0001', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['2001:db8:18:3:0:0:0:10', '2001:db8:18:3::10'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
    ['198.18.1.10', '198.18.1.10'],
  ])('writes %s canonically as %s (RFC 5952)', (input, want) => {
    expect(canonicalIP(input)).toBe(want);
  });

  it.each(['', '1.2.3', '1.2.3.256', '2001:db8::1::1', '2001:db8:1:2:3:4:5:6:7', 'g::1', '[::1]', '1:2:3:4:5:6:7'])('rejects %j', (bad) => {
    expect(() => parseIP(bad)).toThrow(RangeError);
  });

  it('computes CIDR bases, offsets and membership for both families', () => {
    expect(parseCIDR('198.19.51.7/23')).toEqual({ family: 'IPv4', base: 0xc6133200n, prefix: 23, size: 512n });
    expect(addressAt('2001:db8:19:301::/64', 0x1fen)).toBe('2001:db8:19:301::1fe');
    expect(offsetIn('2001:db8:19:301::/64', '2001:db8:19:301::1fe')).toBe(0x1fen);
    expect(offsetIn('2001:db8:19:301::/64', '2001:db8:19:302::1')).toBeUndefined();
    expect(offsetIn('198.19.50.0/23', '2001:db8:19:301::1')).toBeUndefined();
    expect(() => addressAt('198.19.50.0/23', 512n)).toThrow(RangeError);
    expect(() => parseCIDR('2001:db8::/129')).toThrow(RangeError);
    expect(familyOf('2001:db8::1')).toBe('IPv6');
  });

  it('detects overlapping blocks of one family only', () => {
    expect(cidrsOverlap('2001:db8:19:100::/56', '2001:db8:19:107::/64')).toBe(true);
    expect(cidrsOverlap('2001:db8:19:100::/56', '2001:db8:19:200::/56')).toBe(false);
    expect(cidrsOverlap('198.19.16.0/20', '198.19.31.0/24')).toBe(true);
    expect(cidrsOverlap('0.0.0.0/0', '::/0')).toBe(false);
  });

  it('brackets IPv6 hosts', () => {
    expect(hostPart('2001:db8::1')).toBe('[2001:db8::1]');
    expect(hostPart('198.18.1.1')).toBe('198.18.1.1');
  });
});
