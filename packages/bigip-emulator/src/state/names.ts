import { isIPv4, isIPv6 } from 'node:net';
import { configError } from '../errors.js';

/** An object's place in the BIG-IP folder tree: `/<partition>[/<subPath>]/<name>`. */
export interface ObjectRef {
  partition: string;
  subPath?: string;
  name: string;
}

/** An `addr[%RD]` and port, as in a member name or a virtual destination. */
export interface AddressPort {
  /** The node name part: an IP with optional `%RD`, or a node name. */
  host: string;
  /** True when `host` is an IP address (with or without route domain). */
  isIp: boolean;
  /** The IP without the route domain, or the host itself for named nodes. */
  ip: string;
  routeDomain?: number;
  port: number;
}

const PARTITION_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const OBJECT_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.:%-]{0,254}$/;
const NODE_NAME = /^[A-Za-z0-9_.][A-Za-z0-9_.:%-]{0,254}$/;

export function fullPathOf(ref: ObjectRef): string {
  return ref.subPath ? `/${ref.partition}/${ref.subPath}/${ref.name}` : `/${ref.partition}/${ref.name}`;
}

/** The REST form of a full path: `/k8s/Shared/web` → `~k8s~Shared~web`. */
export function restName(ref: ObjectRef): string {
  return fullPathOf(ref).replaceAll('/', '~');
}

/**
 * Parses an object identifier as it appears in a URL (`~k8s~Shared~web_pool`, `web_pool` meaning
 * `/Common/web_pool`) or in a body (`/k8s/web_pool`). `defaultPartition` applies to bare names.
 */
export function parseObjectPath(text: string, defaultPartition = 'Common'): ObjectRef {
  const normalized = text.startsWith('~') ? text.replaceAll('~', '/') : text;
  if (!normalized.startsWith('/')) return { partition: defaultPartition, name: normalized };
  const parts = normalized.slice(1).split('/');
  if (parts.length < 2 || parts.some((p) => p === '')) {
    throw configError(`the object path (${text}) is not of the form /partition[/folder]/name.`);
  }
  const name = parts.at(-1) as string;
  const [partition, ...folders] = parts.slice(0, -1) as [string, ...string[]];
  return folders.length > 0 ? { partition, subPath: folders.join('/'), name } : { partition, name };
}

export function validatePartitionName(name: string): void {
  if (!PARTITION_NAME.test(name)) {
    throw configError(`invalid partition name (${name}): it must start with a letter or underscore and contain only letters, digits, "_", "." and "-".`);
  }
}

export function validateObjectName(kind: string, name: string): void {
  if (!OBJECT_NAME.test(name)) {
    throw configError(`invalid ${kind} name (${name}): names contain only letters, digits, "_", ".", ":", "%" and "-" (no spaces, "/" or "~").`);
  }
}

export function validateNodeName(name: string): void {
  if (!NODE_NAME.test(name)) throw configError(`invalid node name (${name}).`);
}

/** Splits `10.0.0.1%2` into the IP and route domain; `undefined` when not an IP. */
export function parseIpWithRouteDomain(text: string): { ip: string; routeDomain?: number } | undefined {
  const [ip, rd, ...rest] = text.split('%');
  if (ip === undefined || rest.length > 0) return undefined;
  if (!isIPv4(ip) && !isIPv6(ip)) return undefined;
  if (rd === undefined) return { ip };
  if (!/^\d{1,5}$/.test(rd) || Number(rd) > 65534) return undefined;
  return { ip, routeDomain: Number(rd) };
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/**
 * Parses a member name or destination without its partition: IPv4 `addr:port`, IPv6 `addr.port`,
 * route domain `addr%RD:port` / `addr%RD.port`, or a named node `name:port`. `undefined` if malformed.
 */
export function parseAddressPort(text: string): AddressPort | undefined {
  const colon = text.lastIndexOf(':');
  const v4 = colon > 0 ? parseIpWithRouteDomain(text.slice(0, colon)) : undefined;
  const v4Port = colon > 0 ? parsePort(text.slice(colon + 1)) : undefined;
  if (v4 && isIPv4(v4.ip) && v4Port !== undefined) return { host: text.slice(0, colon), isIp: true, ...v4, port: v4Port };
  const dot = text.lastIndexOf('.');
  const v6 = dot > 0 ? parseIpWithRouteDomain(text.slice(0, dot)) : undefined;
  const v6Port = dot > 0 ? parsePort(text.slice(dot + 1)) : undefined;
  if (v6 && isIPv6(v6.ip) && v6Port !== undefined) return { host: text.slice(0, dot), isIp: true, ...v6, port: v6Port };
  const host = colon > 0 ? text.slice(0, colon) : '';
  if (v4Port !== undefined && !host.includes(':') && !host.includes('%') && NODE_NAME.test(host) && parseIpWithRouteDomain(host) === undefined) {
    return { host, isIp: false, ip: host, port: v4Port };
  }
  return undefined;
}

/** The member (or destination) name BIG-IP uses: `addr:port`, or `addr.port` for IPv6. */
export function formatAddressPort(host: string, port: number): string {
  const ip = host.split('%')[0] ?? host;
  return isIPv6(ip) ? `${host}.${port}` : `${host}:${port}`;
}

/** Splits a member or destination reference that may carry a partition: `/Common/10.0.0.1:80`. */
export function splitPartition(text: string, defaultPartition: string): { partition: string; rest: string } {
  const normalized = text.startsWith('~') ? text.replaceAll('~', '/') : text;
  if (!normalized.startsWith('/')) return { partition: defaultPartition, rest: normalized };
  const slash = normalized.indexOf('/', 1);
  if (slash < 0) return { partition: defaultPartition, rest: normalized.slice(1) };
  return { partition: normalized.slice(1, slash), rest: normalized.slice(slash + 1) };
}
