import { describe, expect, it } from '@jest/globals';
import { formatAddressPort, parseAddressPort, parseObjectPath, restName } from './names.js';

describe('pool member names', () => {
  it.each([
    ['10.1.1.1:80', { host: '10.1.1.1', ip: '10.1.1.1', port: 80, isIp: true }],
    ['2001:db8::1.80', { host: '2001:db8::1', ip: '2001:db8::1', port: 80, isIp: true }],
    ['10.1.1.1%2:8080', { host: '10.1.1.1%2', ip: '10.1.1.1', routeDomain: 2, port: 8080, isIp: true }],
    ['2001:db8::1%3.443', { host: '2001:db8::1%3', ip: '2001:db8::1', routeDomain: 3, port: 443, isIp: true }],
    ['web-node:80', { host: 'web-node', ip: 'web-node', port: 80, isIp: false }],
  ])('parses %s', (name, expected) => {
    expect(parseAddressPort(name)).toEqual(expected);
  });

  it.each(['10.1.1.1', '10.1.1.1:70000', '2001:db8::1:80:x', '10.1.1.1:', 'a b:80', '10.1.1.1%x:80'])('refuses %s', (name) => {
    expect(parseAddressPort(name)).toBeUndefined();
  });

  it('formats IPv4 with a colon and IPv6 with a dot before the port', () => {
    expect(formatAddressPort('10.0.0.1', 61001)).toBe('10.0.0.1:61001');
    expect(formatAddressPort('fd00::5%2', 61001)).toBe('fd00::5%2.61001');
  });
});

describe('object paths', () => {
  it('reads ~Partition~Folder~name, /Partition/name and bare names in Common', () => {
    expect(parseObjectPath('~k8s~Shared~web_pool')).toEqual({ partition: 'k8s', subPath: 'Shared', name: 'web_pool' });
    expect(parseObjectPath('/k8s/web_pool')).toEqual({ partition: 'k8s', name: 'web_pool' });
    expect(parseObjectPath('web_pool')).toEqual({ partition: 'Common', name: 'web_pool' });
    expect(restName({ partition: 'k8s', subPath: 'Shared', name: 'web_pool' })).toBe('~k8s~Shared~web_pool');
  });
});
