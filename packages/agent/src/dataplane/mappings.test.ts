import { describe, expect, it } from '@jest/globals';
import { isNplError } from '@npl/core';
import type { DnatMapping } from '@npl/core';
import { assertFamily, compareMappings, mappingKey } from './mappings.js';

const v6: DnatMapping = { family: 'IPv6', protocol: 'tcp', nodePort: 61000, podIP: '2001:DB8:0::5', podPort: 80 };
const v4: DnatMapping = { family: 'IPv4', protocol: 'udp', nodePort: 61001, podIP: '198.18.1.5', podPort: 53 };

describe('compareMappings', () => {
  it('treats pod IPs canonically and reports nothing when equal', () => {
    expect(compareMappings([v6], { installed: [{ ...v6, podIP: '2001:db8::5' }], tableMissing: false, staticProblems: [] })).toEqual({
      missing: [],
      unexpected: [],
      tableMissing: false,
      staticDrift: false,
      staticProblems: [],
      inSync: true,
    });
  });

  it('reports a mapping pointing elsewhere as both missing and unexpected, and damaged ones as missing', () => {
    const moved = { ...v4, podPort: 54 };
    const drift = compareMappings([v4, v6], { installed: [moved, v6], damaged: new Set([mappingKey(v6)]), tableMissing: false, staticProblems: ['x'] });
    expect(drift).toMatchObject({ missing: [v4, v6], unexpected: [moved], staticDrift: true, staticProblems: ['x'], inSync: false });
  });
});

describe('assertFamily', () => {
  it('rejects a mapping whose pod IP is of the other family', () => {
    let err: unknown;
    try {
      assertFamily('IPv4', { ...v4, podIP: '2001:db8::1' });
    } catch (e) {
      err = e;
    }
    expect(isNplError(err, 'NPL_ADDRESS_INVALID')).toBe(true);
    expect((err as Error).message).toContain('61001/udp -> [2001:db8::1]:53');
  });
});
