/**
 * Which Node and Pod addresses a mapping uses (§2.6 of the contract, Antrea v2.6+).
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { canonicalIP, ipFamilyOf } from './ip.js';
import type { IPFamily, NodeIPs } from './types.js';

/** Address types in the order Antrea's NodePortLocal prefers them. */
export const NODE_ADDRESS_TYPE_PREFERENCE: readonly string[] = ['ExternalIP', 'InternalIP'];

/**
 * The Node IP per family written into annotations, as Antrea's
 * `GetNodeAddrsWithType(node, [ExternalIP, InternalIP])`: the addresses of the FIRST type in that
 * order that has any entry are the only ones consulted; IPv4 = the first IPv4 among them, IPv6 = the
 * first IPv6 (IPv4-mapped IPv6 counts as IPv4), both written as Go's `net.IP.String()`.
 * Quirk kept on purpose: a Node whose ExternalIPs are all of one family gets no IP of the other family,
 * even when it has an InternalIP of it, so that family's mappings are skipped.
 * Deviation: an unparseable address is skipped (Antrea fails the whole lookup and keeps the previous IPs).
 * Returns `{}` when the Node has no address of either type.
 */
export function nodeIPs(node: V1Node): NodeIPs {
  const addresses = node.status?.addresses ?? [];
  for (const type of NODE_ADDRESS_TYPE_PREFERENCE) {
    const ofType = addresses.filter((address) => address.type === type).map((address) => address.address);
    if (ofType.length > 0) return firstPerFamily(ofType);
  }
  return {};
}

function firstPerFamily(candidates: readonly string[]): NodeIPs {
  const found: { IPv4?: string; IPv6?: string } = {};
  for (const candidate of candidates) {
    const family = ipFamilyOf(candidate);
    if (family && found[family] === undefined) found[family] = canonicalIP(candidate);
  }
  return found;
}

/** The Node IP of `family`; undefined when the Node has none. */
export function nodeIPForFamily(ips: NodeIPs, family: IPFamily): string | undefined {
  return ips[family] || undefined;
}

/** True when both families hold the same address (absent and empty are the same). */
export function nodeIPsEqual(a: NodeIPs, b: NodeIPs): boolean {
  return (a.IPv4 || undefined) === (b.IPv4 || undefined) && (a.IPv6 || undefined) === (b.IPv6 || undefined);
}

/**
 * The first `status.podIPs[]` entry of `family`, verbatim; undefined when there is none.
 * Like Antrea, only `status.podIPs` is consulted, never `status.podIP`: Kubernetes sets podIPs[0] to
 * podIP whenever it sets podIP, and a Pod with no podIPs is treated as having no address (§2.3).
 * Unlike Antrea, an entry that is not an IP address is skipped rather than counted as IPv4.
 */
export function podIPForFamily(pod: V1Pod, family: IPFamily): string | undefined {
  return (pod.status?.podIPs ?? []).map((podIP) => podIP.ip).find((ip) => ipFamilyOf(ip) === family);
}

/** True when the Pod has at least one entry in `status.podIPs` (Antrea's "Pod has an IP" test). */
export function podHasIPs(pod: V1Pod): boolean {
  return (pod.status?.podIPs?.length ?? 0) > 0;
}
