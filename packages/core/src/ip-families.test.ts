import { describe, it, expect } from '@jest/globals';
import type { V1Service } from '@kubernetes/client-node';
import { IPFamilySet, serviceIPFamilies, serviceIPFamilySet } from './ip-families.js';

const svc = (ipFamilies?: string[]): V1Service => ({ spec: { ipFamilies } });

describe('TestGetServiceIPFamilies', () => {
  it.each([
    ['dual-stack', ['IPv4', 'IPv6']],
    ['IPv6 only', ['IPv6']],
    ['IPv4 only', ['IPv4']],
    ['IPv6 first', ['IPv6', 'IPv4']],
  ])('returns spec.ipFamilies verbatim: %s', (_name, families) => {
    expect(serviceIPFamilies(svc(families))).toEqual(families);
  });

  it('returns [] when spec or ipFamilies is absent', () => {
    expect(serviceIPFamilies(svc())).toEqual([]);
    expect(serviceIPFamilies({})).toEqual([]);
  });
});

describe('serviceIPFamilySet', () => {
  it('turns spec.ipFamilies into a set, IPv4 first', () => {
    expect(serviceIPFamilySet(svc(['IPv6', 'IPv4'])).values()).toEqual(['IPv4', 'IPv6']);
  });

  it('is empty for empty, absent or unknown families', () => {
    expect(serviceIPFamilySet(svc([])).isEmpty).toBe(true);
    expect(serviceIPFamilySet(svc()).isEmpty).toBe(true);
    expect(serviceIPFamilySet(svc(['IPv5', 'ipv4'])).isEmpty).toBe(true);
  });
});

describe('TestIPFamilies', () => {
  it.each<[string, () => IPFamilySet, string[]]>([
    ['empty', () => IPFamilySet.EMPTY, []],
    ['IPv4 only', () => IPFamilySet.EMPTY.add('IPv4'), ['IPv4']],
    ['IPv6 only', () => IPFamilySet.EMPTY.add('IPv6'), ['IPv6']],
    ['dual-stack', () => IPFamilySet.EMPTY.add('IPv4').add('IPv6'), ['IPv4', 'IPv6']],
    ['union', () => IPFamilySet.of('IPv4').union(IPFamilySet.of('IPv6')), ['IPv4', 'IPv6']],
    ['duplicate add', () => IPFamilySet.EMPTY.add('IPv4').add('IPv4'), ['IPv4']],
    ['added IPv6 first', () => IPFamilySet.EMPTY.add('IPv6').add('IPv4'), ['IPv4', 'IPv6']],
  ])('%s', (_name, ops, expected) => {
    const set = ops();
    expect(set.values()).toEqual(expected);
    expect([...set]).toEqual(expected);
    expect(set.size).toBe(expected.length);
  });

  it('is a value: operations return new sets and leave the receiver unchanged', () => {
    const v4 = IPFamilySet.of('IPv4');
    const dual = v4.add('IPv6');
    expect(v4.values()).toEqual(['IPv4']);
    expect(dual.equals(IPFamilySet.of('IPv6', 'IPv4'))).toBe(true);
    expect(dual.equals(v4)).toBe(false);
    expect(Object.isFrozen(dual)).toBe(true);
  });

  it('answers membership and prints its members', () => {
    const v6 = IPFamilySet.of('IPv6');
    expect(v6.has('IPv6')).toBe(true);
    expect(v6.has('IPv4')).toBe(false);
    expect(IPFamilySet.EMPTY.isEmpty).toBe(true);
    expect(String(IPFamilySet.of('IPv6', 'IPv4'))).toBe('{IPv4,IPv6}');
  });
});
