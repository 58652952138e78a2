/**
 * Small address helpers (the controller does not import core's address module).
 */
import { isIPv4, isIPv6 } from 'node:net';

export type IPFamily = 'IPv4' | 'IPv6';

/** The family of a literal address, or undefined when it is not one. */
export function familyOf(address: string): IPFamily | undefined {
  if (isIPv4(address)) return 'IPv4';
  if (isIPv6(address)) return 'IPv6';
  return undefined;
}

/** RFC 5952 text for IPv6 (lower case, longest zero run compressed), IPv4 as is; undefined if invalid. */
export function canonicalAddress(address: string): string | undefined {
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return undefined;
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** Orders IPv4 before IPv6, then numerically. */
export function compareAddresses(a: string, b: string): number {
  const fa = familyOf(a);
  const fb = familyOf(b);
  if (fa !== fb) return fa === 'IPv4' ? -1 : 1;
  const ka = addressKey(a);
  const kb = addressKey(b);
  if (ka === kb) return 0;
  return ka < kb ? -1 : 1;
}

function addressKey(address: string): string {
  if (isIPv4(address)) return address.split('.').map((p) => p.padStart(3, '0')).join('.');
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/** `addr:port` for IPv4 and `addr.port` for IPv6: BIG-IP's pool member name (spec §3.1). */
export function memberName(address: string, port: number): string {
  return familyOf(address) === 'IPv6' ? `${address}.${port}` : `${address}:${port}`;
}
