/**
 * Pure IP address helpers with the semantics of Go's `net.ParseIP` / `net.IP.String()`, which is what
 * Antrea and Kubernetes use: strict dotted-decimal IPv4 (no leading zeros), IPv6 without zones or
 * brackets, and IPv4-mapped IPv6 (`::ffff:a.b.c.d`) counted as IPv4.
 */
import type { IPFamily } from './types.js';

/** Four octets, each 0-255. */
export type IPv4Octets = readonly [number, number, number, number];

/** Eight 16-bit groups. */
export type IPv6Hextets = readonly number[];

const IPV4_RE = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const HEXTET_RE = /^[0-9a-fA-F]{1,4}$/;
const IPV6_GROUPS = 8;

/** Octets of a dotted-decimal IPv4 address; undefined for anything else (leading zeros, spaces, IPv6). */
export function parseIPv4(text: string): IPv4Octets | undefined {
  const match = IPV4_RE.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return octets as unknown as IPv4Octets;
}

/**
 * Groups of an IPv6 address in any RFC 4291 text form (`::` once, 1-4 hex digits per group, optional
 * trailing dotted IPv4); undefined for anything else, including zones (`%eth0`) and brackets.
 */
export function parseIPv6(text: string): IPv6Hextets | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const compressed = halves.length === 2;
  const head = parseGroups(halves[0] ?? '', !compressed);
  const tail = compressed ? parseGroups(halves[1] ?? '', true) : [];
  if (!head || !tail) return undefined;
  const missing = IPV6_GROUPS - head.length - tail.length;
  if (compressed ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function parseGroups(part: string, allowIPv4Tail: boolean): number[] | undefined {
  if (part === '') return [];
  const fields = part.split(':');
  const groups: number[] = [];
  for (const [i, field] of fields.entries()) {
    if (allowIPv4Tail && i === fields.length - 1 && field.includes('.')) {
      const v4 = parseIPv4(field);
      if (!v4) return undefined;
      groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else if (HEXTET_RE.test(field)) {
      groups.push(parseInt(field, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** Dotted-decimal text of four octets. */
export function formatIPv4(octets: IPv4Octets): string {
  return octets.join('.');
}

/** True for `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2). */
export function isIPv4MappedIPv6(hextets: IPv6Hextets): boolean {
  return hextets.slice(0, 5).every((group) => group === 0) && hextets[5] === 0xffff;
}

function mappedIPv4(hextets: IPv6Hextets): IPv4Octets {
  const hi = hextets[6] ?? 0;
  const lo = hextets[7] ?? 0;
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
}

/**
 * RFC 5952 text of eight groups: lower-case, no leading zeros, the longest run of two or more zero
 * groups (the first one on a tie) compressed to `::`, IPv4-mapped written `::ffff:a.b.c.d`.
 */
export function formatIPv6(hextets: IPv6Hextets): string {
  if (isIPv4MappedIPv6(hextets)) return `::ffff:${formatIPv4(mappedIPv4(hextets))}`;
  const run = longestZeroRun(hextets);
  const hex = (groups: IPv6Hextets): string => groups.map((group) => group.toString(16)).join(':');
  if (run.length < 2) return hex(hextets);
  return `${hex(hextets.slice(0, run.start))}::${hex(hextets.slice(run.start + run.length))}`;
}

function longestZeroRun(hextets: IPv6Hextets): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let start = -1;
  for (let i = 0; i <= hextets.length; i++) {
    if (i < hextets.length && hextets[i] === 0) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start > best.length) best = { start, length: i - start };
      start = -1;
    }
  }
  return best;
}

/**
 * Family of an address as Go's `To4() != nil` decides it: IPv4 for dotted-decimal and IPv4-mapped
 * IPv6, IPv6 for other IPv6 text, undefined when `ip` is not an address.
 */
export function ipFamilyOf(ip: string): IPFamily | undefined {
  if (parseIPv4(ip)) return 'IPv4';
  const v6 = parseIPv6(ip);
  if (!v6) return undefined;
  return isIPv4MappedIPv6(v6) ? 'IPv4' : 'IPv6';
}

/** True when `ip` is an address of family IPv4 (IPv4-mapped IPv6 included, as in Go). */
export function isIPv4(ip: string): boolean {
  return ipFamilyOf(ip) === 'IPv4';
}

/** True when `ip` is an IPv6 address that is not IPv4-mapped. */
export function isIPv6(ip: string): boolean {
  return ipFamilyOf(ip) === 'IPv6';
}

/**
 * The text Go's `net.IP.String()` writes for `ip`: IPv4 unchanged, IPv4-mapped IPv6 as plain IPv4,
 * other IPv6 in RFC 5952 form. Undefined when `ip` is not an address.
 */
export function canonicalIP(ip: string): string | undefined {
  const v4 = parseIPv4(ip);
  if (v4) return formatIPv4(v4);
  const v6 = parseIPv6(ip);
  if (!v6) return undefined;
  return isIPv4MappedIPv6(v6) ? formatIPv4(mappedIPv4(v6)) : formatIPv6(v6);
}
