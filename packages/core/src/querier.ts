/**
 * Antrea's NPLQuerier (spec §7.4): which Service a NodePortLocal flow belongs to, for flow
 * exporters and observability. Only flows addressed to this node's own IP of that family count.
 */
import { canonicalIP, ipFamilyOf } from './ip.js';
import type { PortTable } from './port-table.js';
import type { IPFamily, NodeIPs } from './types.js';

/**
 * `namespace/name` of the Service(s) owning the mapping on `nodePort` (several joined by `|`,
 * sorted), or `""` when `destIP` is not this node's IP of the family, the port is unknown, or no
 * Service is recorded yet (a restored entry before its first reconcile). Protocol is case-insensitive.
 */
export function serviceForNplPort(
  tables: ReadonlyMap<IPFamily, PortTable>,
  nodeIPs: NodeIPs,
  flow: { readonly destIP: string; readonly nodePort: number; readonly protocol: string; readonly isIPv6: boolean },
): string {
  const family: IPFamily = flow.isIPv6 ? 'IPv6' : 'IPv4';
  const nodeIP = nodeIPs[family];
  if (!nodeIP || ipFamilyOf(flow.destIP) !== family || canonicalIP(flow.destIP) !== canonicalIP(nodeIP)) return '';
  return tables.get(family)?.serviceForNodePort(flow.nodePort, flow.protocol) ?? '';
}
