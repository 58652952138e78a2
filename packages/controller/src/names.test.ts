import { describe, expect, it } from '@jest/globals';
import { as3Name, objectNameProblem, poolName, virtualName } from './names.js';

describe('names', () => {
  it.each([
    ['my-app', 8080, 'prod', 'my_app_8080_prod'],
    ['f5-hello-world', 8080, 'cis', 'f5_hello_world_8080_cis'],
    ['web.v2', 80, 'team-a', 'web_v2_80_team_a'],
  ])('pool of Service %s port %d in %s is %s (CIS rules)', (svc, port, ns, expected) => {
    expect(poolName(ns, svc, port)).toBe(expected);
  });

  it('applies every CIS character rule', () => {
    expect(as3Name('a.b:c/d%e-f[g]h=i*_j+k')).toBe('a_b_c_d.e_fgh_ij_k');
  });

  it('names virtuals as CIS does, IPv6 included', () => {
    expect(virtualName('10.106.32.11', 80)).toBe('crd_10_106_32_11_80');
    expect(virtualName('2001:db8::1', 443)).toBe('crd_2001_db8__1_443');
  });

  it('checks object names against the AS3 name pattern', () => {
    expect(objectNameProblem('my_pool')).toBeUndefined();
    expect(objectNameProblem('9pool')).toMatch(/expected a letter/);
    expect(objectNameProblem('pool-')).toMatch(/expected/);
  });
});
