import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { isNplError } from './errors.js';
import {
  DEFAULT_PORT_RANGE,
  WINDOWS_DEFAULT_PORT_RANGE,
  ephemeralOverlap,
  formatPortRange,
  inPortRange,
  parseEphemeralPortRange,
  parsePortRange,
  portRangeSize,
  rangeIntersection,
  rangesOverlap,
} from './port-range.js';
import { errorOf } from './testing/error-of.js';


describe('parsePortRange', () => {
  it.each([
    ['61000-62000', 61000, 62000],
    ['1-65535', 1, 65535],
    ['40000-41000', 40000, 41000],
    ['1-2', 1, 2],
    ['061000-062000', 61000, 62000],
  ])('reads %s', (text, start, end) => {
    expect(parsePortRange(text)).toEqual({ start, end });
  });

  it.each([
    ['', 'port range "": is empty, expected start-end (e.g. 61000-62000)'],
    ['61000', 'port range "61000": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    ['61000-', 'port range "61000-": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    ['-62000', 'port range "-62000": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    ['61000-62000-63000', 'port range "61000-62000-63000": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    [' 61000-62000', 'port range " 61000-62000": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    ['61000 - 62000', 'port range "61000 - 62000": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    ['61000-62000\n', 'port range "61000-62000\\n": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    ['+61000-62000', 'port range "+61000-62000": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    ['61000--62000', 'port range "61000--62000": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    ['61000.5-62000', 'port range "61000.5-62000": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    ['0x10-0x20', 'port range "0x10-0x20": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    ['6e4-62000', 'port range "6e4-62000": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    ['a-b', 'port range "a-b": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    ['61000:62000', 'port range "61000:62000": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    ['０-1', 'port range "０-1": expected start-end with two decimal port numbers (e.g. 61000-62000)'],
    ['0-100', 'port range "0-100": start port 0 is outside 1-65535'],
    ['61000-65536', 'port range "61000-65536": end port 65536 is outside 1-65535'],
    ['99999999999999999999-1', 'port range "99999999999999999999-1": start port 99999999999999999999 is outside 1-65535'],
    ['62000-61000', 'port range "62000-61000": start port must be smaller than end port'],
    ['61000-61000', 'port range "61000-61000": start port must be smaller than end port'],
  ])('rejects %j', (text, message) => {
    const err = errorOf(() => parsePortRange(text));
    expect(isNplError(err, 'NPL_PORT_RANGE_INVALID')).toBe(true);
    expect((err as Error).message).toBe(message);
  });

  it('names the field it reads in the message', () => {
    expect(() => parsePortRange('62000-61000', { field: '--port-range' })).toThrow(
      '--port-range "62000-61000": start port must be smaller than end port',
    );
  });

  it('reads back what formatPortRange writes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65534 }), fc.integer({ min: 1, max: 65535 }), (a, b) => {
        fc.pre(a < b);
        expect(parsePortRange(formatPortRange({ start: a, end: b }))).toEqual({ start: a, end: b });
      }),
    );
  });
});

describe('defaults', () => {
  it('are Antrea\'s: 61000-62000 on Linux, 40000-41000 on Windows', () => {
    expect(formatPortRange(DEFAULT_PORT_RANGE)).toBe('61000-62000');
    expect(formatPortRange(WINDOWS_DEFAULT_PORT_RANGE)).toBe('40000-41000');
    expect(Object.isFrozen(DEFAULT_PORT_RANGE)).toBe(true);
  });
});

describe('portRangeSize and inPortRange', () => {
  it('count both ends', () => {
    expect(portRangeSize(DEFAULT_PORT_RANGE)).toBe(1001);
    expect(portRangeSize({ start: 5, end: 5 })).toBe(1);
  });

  it.each([
    [60999, false],
    [61000, true],
    [61500, true],
    [62000, true],
    [62001, false],
  ])('port %d in 61000-62000: %s', (port, inside) => {
    expect(inPortRange(DEFAULT_PORT_RANGE, port)).toBe(inside);
  });
});

describe('rangesOverlap and rangeIntersection', () => {
  it.each([
    [{ start: 1, end: 10 }, { start: 11, end: 20 }, undefined],
    [{ start: 1, end: 10 }, { start: 10, end: 20 }, { start: 10, end: 10 }],
    [{ start: 5, end: 15 }, { start: 1, end: 10 }, { start: 5, end: 10 }],
    [{ start: 1, end: 100 }, { start: 40, end: 50 }, { start: 40, end: 50 }],
    [{ start: 40, end: 50 }, { start: 1, end: 100 }, { start: 40, end: 50 }],
  ])('%j and %j share %j', (a, b, shared) => {
    expect(rangesOverlap(a, b)).toBe(shared !== undefined);
    expect(rangesOverlap(b, a)).toBe(shared !== undefined);
    expect(rangeIntersection(a, b)).toEqual(shared);
  });
});

describe('ephemeralOverlap (Antrea issue #2381)', () => {
  it('is undefined for the defaults on a stock kernel (32768-60999)', () => {
    expect(ephemeralOverlap(DEFAULT_PORT_RANGE, '32768\t60999\n')).toBeUndefined();
  });

  it('reports the overlapping ports of the pre-v1.2 default 40000-41000', () => {
    expect(ephemeralOverlap({ start: 40000, end: 41000 }, '32768\t60999\n')).toEqual({ start: 40000, end: 41000 });
  });

  it('reports a partial overlap', () => {
    expect(ephemeralOverlap(DEFAULT_PORT_RANGE, '1024 61500')).toEqual({ start: 61000, end: 61500 });
  });

  it.each([
    ['32768\t60999\n', 32768, 60999],
    ['32768 60999', 32768, 60999],
    ['  1024\t\t65535  \n', 1024, 65535],
    ['60000\t60000', 60000, 60000],
  ])('reads kernel text %j', (text, start, end) => {
    expect(parseEphemeralPortRange(text)).toEqual({ start, end });
  });

  it.each([
    ['', 'expected two port numbers separated by whitespace (e.g. "32768\\t60999")'],
    ['32768', 'expected two port numbers separated by whitespace (e.g. "32768\\t60999")'],
    ['32768-60999', 'expected two port numbers separated by whitespace (e.g. "32768\\t60999")'],
    ['32768 60999 1', 'expected two port numbers separated by whitespace (e.g. "32768\\t60999")'],
    ['0 60999', 'ports must be within 1-65535'],
    ['32768 70000', 'ports must be within 1-65535'],
    ['60999 32768', 'low port must not be greater than high port'],
  ])('rejects kernel text %j', (text, reason) => {
    const err = errorOf(() => ephemeralOverlap(DEFAULT_PORT_RANGE, text));
    expect(isNplError(err, 'NPL_PORT_RANGE_INVALID')).toBe(true);
    expect((err as Error).message).toBe(`net.ipv4.ip_local_port_range ${JSON.stringify(text)}: ${reason}`);
  });
});
