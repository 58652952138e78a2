import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ClusterError } from './errors.js';
import { ipToInt, type ClusterLayout, type IPFamilyMode, type NodeLayout } from './layout.js';
import { ipBatch, run, tryRun } from './run.js';

/**
 * Node ExternalIPs. A node's ExternalIP is a /32 on the node namespace's loopback labelled
 * EXTERNAL_LABEL (local to the node, so traffic to it is the node's own, as for a public address
 * on a host; a loopback label because kernels without the dummy link type are common in VMs); the
 * outside namespace routes it via the node's InternalIP. The node stand-in reads the labelled
 * addresses and reports them as the Node's ExternalIP addresses, as kubelet reports what its host
 * has.
 */
export const EXTERNAL_LABEL = 'lo:ext';

/** Ranges an ExternalIP may come from (documentation ranges: never routed anywhere real). */
const EXTERNAL_RANGES = [
  { base: '203.0.113.0', bits: 24 },
  { base: '198.51.100.0', bits: 24 },
];

/** Throws NPL_CLUSTER_ADDRESS_INVALID unless `ip` is an IPv4 address in 203.0.113.0/24 or 198.51.100.0/24. */
export function validateExternalIP(node: string, ip: string): string {
  let n: number;
  try {
    n = ipToInt(ip);
  } catch {
    n = -1;
  }
  const inRange = EXTERNAL_RANGES.some((r) => n >= 0 && n >>> (32 - r.bits) === ipToInt(r.base) >>> (32 - r.bits));
  if (!inRange) {
    throw new ClusterError(
      'NPL_CLUSTER_ADDRESS_INVALID',
      `node ${node}: externalIP ${JSON.stringify(ip)}: expected an IPv4 address in 203.0.113.0/24 or 198.51.100.0/24`,
    );
  }
  return ip;
}

/**
 * Throws NPL_CLUSTER_ADDRESS_INVALID when the cluster is IPv6-only: ExternalIPs are IPv4 and are
 * routed from the outside namespace via the node's IPv4 InternalIP, which such a cluster lacks.
 */
export function requireIPv4ForExternalIPs(cluster: string, ipFamily: IPFamilyMode): void {
  if (ipFamily !== 'ipv6') return;
  throw new ClusterError(
    'NPL_CLUSTER_ADDRESS_INVALID',
    `cluster ${cluster}: externalIP: node ExternalIPs are IPv4 (203.0.113.0/24 or 198.51.100.0/24), which an IPv6-only cluster (ipFamily "ipv6") cannot route; use ipFamily "dual" or "ipv4"`,
  );
}

/** The ExternalIP `cluster up --external-ip` gives node `index` of the cluster in `slot`: 203.0.113.(16·slot + index). */
export function defaultExternalIP(slot: number, index: number): string {
  return `203.0.113.${16 * slot + index}`;
}

/** Gives the node ExternalIP `ip` (idempotent) and routes it from the outside namespace. */
export async function addExternalIP(layout: ClusterLayout, node: NodeLayout, ip: string): Promise<void> {
  validateExternalIP(node.name, ip);
  requireIPv4ForExternalIPs(layout.name, layout.ipFamily);
  const nextHop = node.ips.find((a) => !a.includes(':')) ?? node.ip;
  await ipBatch([`addr replace ${ip}/32 dev lo label ${EXTERNAL_LABEL}`], node.netns);
  await ipBatch([`route replace ${ip}/32 via ${nextHop} dev eth0`], layout.outside.netns);
}

/** Removes ExternalIP `ip` from the node and its route from the outside namespace (idempotent). */
export async function removeExternalIP(layout: ClusterLayout, node: NodeLayout, ip: string): Promise<void> {
  await tryRun('ip', ['-n', node.netns, 'addr', 'del', `${ip}/32`, 'dev', 'lo']);
  await tryRun('ip', ['-n', layout.outside.netns, 'route', 'del', `${ip}/32`]);
}

/** The IPv4 addresses labelled EXTERNAL_LABEL in namespace `netns`, in the kernel's order. */
export async function readExternalIPs(netns: string): Promise<string[]> {
  const out = await run('ip', ['-n', netns, '-4', '-o', 'addr', 'show', 'dev', 'lo', 'label', EXTERNAL_LABEL]).catch(() => '');
  return [...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!);
}

/**
 * The file in the cluster directory that lists the InternalIPs node `node` does not report (a host
 * that lost an address family from kubelet's view, e.g. its IPv6 --node-ip dropped); the address
 * stays on the node's namespace. Absent file = every InternalIP reported.
 */
export function hiddenInternalIPsPath(dir: string, node: string): string {
  return path.join(dir, `node-${node}-hidden-internal-ips.json`);
}

/** The InternalIPs node `node` does not report; [] when none (or the file is unreadable). */
export async function readHiddenInternalIPs(dir: string, node: string): Promise<string[]> {
  try {
    const parsed = JSON.parse(await readFile(hiddenInternalIPsPath(dir, node), 'utf8')) as unknown;
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export async function writeHiddenInternalIPs(dir: string, node: string, ips: readonly string[]): Promise<void> {
  await writeFile(hiddenInternalIPsPath(dir, node), JSON.stringify(ips));
}
