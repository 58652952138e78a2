/**
 * Address arithmetic for the cluster's layout and IPAM, both families: parse, format in canonical
 * form (IPv4 dotted quad; IPv6 as RFC 5952: lower case, no leading zeros, the longest run of two
 * or more zero groups compressed), CIDR bases and host offsets. Pure; throws RangeError on bad input.
 */
export type IPFamily = 'IPv4' | 'IPv6';

export interface ParsedIP {
  readonly family: IPFamily;
  readonly value: bigint;
}

const BITS: Record<IPFamily, number> = { IPv4: 32, IPv6: 128 };

function parseIPv4(ip: string): bigint | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

function parseIPv6(ip: string): bigint | undefined {
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Parses an IPv4 or IPv6 address (no zone, no brackets); throws RangeError otherwise. */
export function parseIP(ip: string): ParsedIP {
  const v4 = parseIPv4(ip);
  if (v4 !== undefined) return { family: 'IPv4', value: v4 };
  const v6 = ip.includes(':') ? parseIPv6(ip) : undefined;
  if (v6 !== undefined) return { family: 'IPv6', value: v6 };
  throw new RangeError(`not an IP address: ${JSON.stringify(ip)}`);
}

/** The family of `ip`; throws RangeError when it is not an address. */
export function familyOf(ip: string): IPFamily {
  return parseIP(ip).family;
}

/** The canonical text of an address (RFC 5952 for IPv6). */
export function formatIP(family: IPFamily, value: bigint): string {
  if (family === 'IPv4') return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (best.len < 2) return hex(groups);
  return `${hex(groups.slice(0, best.at))}::${hex(groups.slice(best.at + best.len))}`;
}

/** The canonical form of `ip` (e.g. `2001:DB8:0::1` -> `2001:db8::1`). */
export function canonicalIP(ip: string): string {
  const p = parseIP(ip);
  return formatIP(p.family, p.value);
}

export interface ParsedCIDR {
  readonly family: IPFamily;
  /** Network address (host bits cleared). */
  readonly base: bigint;
  readonly prefix: number;
  /** Number of addresses in the block. */
  readonly size: bigint;
}

/** Parses `address/prefix`; throws RangeError on a bad address or prefix length. */
export function parseCIDR(cidr: string): ParsedCIDR {
  const [ip, bits, ...rest] = cidr.split('/');
  const p = parseIP(ip ?? '');
  const prefix = Number(bits);
  const width = BITS[p.family];
  if (rest.length > 0 || !/^\d{1,3}$/.test(bits ?? '') || prefix > width) throw new RangeError(`not a CIDR: ${JSON.stringify(cidr)}`);
  const hostBits = BigInt(width - prefix);
  const size = 1n << hostBits;
  return { family: p.family, base: (p.value >> hostBits) << hostBits, prefix, size };
}

/** The address at `offset` from the CIDR's network address (offset 1 is the first host). */
export function addressAt(cidr: string, offset: bigint): string {
  const c = parseCIDR(cidr);
  if (offset < 0n || offset >= c.size) throw new RangeError(`offset ${offset} outside ${cidr}`);
  return formatIP(c.family, c.base + offset);
}

/** The offset of `ip` from the CIDR's network address, or undefined when `ip` is not inside it. */
export function offsetIn(cidr: string, ip: string): bigint | undefined {
  const c = parseCIDR(cidr);
  const p = parseIP(ip);
  if (p.family !== c.family) return undefined;
  const off = p.value - c.base;
  return off >= 0n && off < c.size ? off : undefined;
}

/** True when the two CIDRs share any address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCIDR(a);
  const y = parseCIDR(b);
  return x.family === y.family && x.base < y.base + y.size && y.base < x.base + x.size;
}

/** `ip` as the host part of a URL or `host:port` (IPv6 in brackets). */
export function hostPart(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}
