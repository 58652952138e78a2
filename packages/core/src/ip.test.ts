import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import {
  canonicalIP,
  formatIPv6,
  ipFamilyOf,
  isIPv4,
  isIPv4MappedIPv6,
  isIPv6,
  parseIPv4,
  parseIPv6,
} from './ip.js';

describe('parseIPv4', () => {
  it.each([
    ['192.0.2.1', [192, 0, 2, 1]],
    ['0.0.0.0', [0, 0, 0, 0]],
    ['255.255.255.255', [255, 255, 255, 255]],
    ['10.10.10.10', [10, 10, 10, 10]],
  ])('reads %s', (text, octets) => {
    expect(parseIPv4(text)).toEqual(octets);
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.0.0.1',
    '1.2.3.999',
    '01.2.3.4',
    '1.2.3.04',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3.-4',
    '+1.2.3.4',
    '1..3.4',
    '1.2.3.4/24',
    '0x1.2.3.4',
    '::1',
    '１.2.3.4',
  ])('rejects %j', (text) => {
    expect(parseIPv4(text)).toBeUndefined();
  });
});

describe('parseIPv6', () => {
  it.each([
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['1::', [1, 0, 0, 0, 0, 0, 0, 0]],
    ['2001:db8::1', [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]],
    ['2001:DB8:0:0:0:0:0:1', [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]],
    ['fd12:3456:789a:1::1', [0xfd12, 0x3456, 0x789a, 1, 0, 0, 0, 1]],
    ['0001:0002:0003:0004:0005:0006:0007:0008', [1, 2, 3, 4, 5, 6, 7, 8]],
    ['::ffff:192.0.2.1', [0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]],
    ['::192.0.2.1', [0, 0, 0, 0, 0, 0, 0xc000, 0x0201]],
    ['1:2:3:4:5:6:1.2.3.4', [1, 2, 3, 4, 5, 6, 0x0102, 0x0304]],
    ['1:2:3:4:5:6:7::', [1, 2, 3, 4, 5, 6, 7, 0]],
  ])('reads %s', (text, groups) => {
    expect(parseIPv6(text)).toEqual(groups);
  });

  it.each([
    '',
    ':',
    ':::',
    '1:::2',
    '::1::',
    '1::2::3',
    ':1::',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4::5:6:7:8',
    '12345::',
    'g::1',
    'fe80::1%eth0',
    '[::1]',
    '1.2.3.4',
    '1.2.3.4::',
    '::1.2.3',
    '::1.2.3.04',
    '1:2:3:4:5:6:7:1.2.3.4',
    ' ::1',
  ])('rejects %j', (text) => {
    expect(parseIPv6(text)).toBeUndefined();
  });
});

describe('formatIPv6', () => {
  it.each([
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0, 0, 0, 0, 0, 0, 0, 1], '::1'],
    [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0x2001, 0xdb8, 0, 1, 0, 0, 0, 1], '2001:db8:0:1::1'],
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'],
    [[0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], '2001:db8:0:1:1:1:1:1'],
    [[1, 0, 0, 0, 0, 0, 0, 0], '1::'],
    [[0xabcd, 0xef, 0, 0, 0xa, 0, 0, 0], 'abcd:ef:0:0:a::'],
    [[0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201], '::ffff:192.0.2.1'],
    [[0, 0, 0, 0, 0, 0, 0xc000, 0x0201], '::c000:201'],
  ])('writes %j as %s (RFC 5952)', (groups, text) => {
    expect(formatIPv6(groups)).toBe(text);
  });

  it('round-trips every address through parse and format', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const groups = parseIPv6(text);
        expect(groups).toBeDefined();
        expect(parseIPv6(formatIPv6(groups ?? []))).toEqual(groups);
      }),
    );
  });
});

describe('isIPv4MappedIPv6', () => {
  it('recognises ::ffff:0:0/96 only', () => {
    expect(isIPv4MappedIPv6([0, 0, 0, 0, 0, 0xffff, 1, 2])).toBe(true);
    expect(isIPv4MappedIPv6([0, 0, 0, 0, 0, 0, 1, 2])).toBe(false);
    expect(isIPv4MappedIPv6([1, 0, 0, 0, 0, 0xffff, 1, 2])).toBe(false);
  });
});

describe('ipFamilyOf', () => {
  it.each([
    ['192.0.2.1', 'IPv4'],
    ['::ffff:192.0.2.1', 'IPv4'],
    ['2001:db8::1', 'IPv6'],
    ['::', 'IPv6'],
    ['::192.0.2.1', 'IPv6'],
    ['', undefined],
    ['not-an-ip', undefined],
    ['fe80::1%eth0', undefined],
  ])('%j is %s', (ip, family) => {
    expect(ipFamilyOf(ip)).toBe(family);
    expect(isIPv4(ip)).toBe(family === 'IPv4');
    expect(isIPv6(ip)).toBe(family === 'IPv6');
  });
});

describe('canonicalIP', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['fd12:3456:789a:0001:0000:0000:0000:0001', 'fd12:3456:789a:1::1'],
    ['::FFFF:192.0.2.1', '192.0.2.1'],
    ['::ffff:c000:0201', '192.0.2.1'],
    ['0:0:0:0:0:0:0:0', '::'],
  ])('writes %s as %s, like Go net.IP.String()', (ip, text) => {
    expect(canonicalIP(ip)).toBe(text);
  });

  it.each(['', 'x', '1.2.3.04', '[::1]'])('is undefined for %j', (ip) => {
    expect(canonicalIP(ip)).toBeUndefined();
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (ip) => {
        const once = canonicalIP(ip);
        expect(once).toBeDefined();
        expect(canonicalIP(once ?? '')).toBe(once);
      }),
    );
  });
});
