/**
 * The desired BIG-IP state: what the controller wants in its partition, independent of the backend.
 */
import type { IPFamily } from './ip.js';

/** One pool member: a node's address and an NPL node port. */
export interface DesiredMember {
  /** Canonical address (RFC 5952 for IPv6). */
  readonly address: string;
  readonly port: number;
  /** False drains the member (not ready or terminating endpoint): BIG-IP `user-disabled`. */
  readonly enabled: boolean;
}

/** A virtual server forwarding to one pool. */
export interface DesiredVirtual {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly protocol: 'tcp' | 'udp';
}

export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface DesiredPool {
  readonly name: string;
  /** The Service and port this pool stands for. */
  readonly service: ServiceRef;
  readonly servicePort: number;
  readonly protocol: 'tcp' | 'udp';
  readonly families: readonly IPFamily[];
  /** Members sorted by address (IPv4 first) then port, without duplicates. */
  readonly members: readonly DesiredMember[];
  /** A full monitor path (`/Common/http`), or undefined for none. */
  readonly monitor?: string;
  /** BIG-IP load-balancing mode; undefined means BIG-IP's default, round-robin. */
  readonly loadBalancingMode?: string;
  readonly virtual?: DesiredVirtual;
}

/** Why an opted-in Service produces no pool (reported as a Kubernetes Event). */
export interface IgnoredService {
  readonly service: ServiceRef;
  readonly reason: string;
}

export interface DesiredState {
  readonly partition: string;
  /** Sorted by pool name. */
  readonly pools: readonly DesiredPool[];
  readonly ignored: readonly IgnoredService[];
}

/** Stable text of a desired state, for logs and tests. */
export function dumpDesired(state: DesiredState): string {
  const lines: string[] = [];
  for (const pool of state.pools) {
    const extra = [
      pool.monitor ? `monitor=${pool.monitor}` : '',
      pool.loadBalancingMode ? `lb=${pool.loadBalancingMode}` : '',
      pool.virtual ? `virtual=${pool.virtual.name}@${pool.virtual.address}:${pool.virtual.port}` : '',
    ].filter((x) => x !== '');
    lines.push(`pool /${state.partition}/${pool.name} ${pool.service.namespace}/${pool.service.name}:${pool.servicePort}/${pool.protocol}${extra.length ? ` ${extra.join(' ')}` : ''}`);
    for (const m of pool.members) lines.push(`  member ${m.address} ${m.port}${m.enabled ? '' : ' disabled'}`);
  }
  for (const i of state.ignored) lines.push(`ignored ${i.service.namespace}/${i.service.name}: ${i.reason}`);
  return lines.join('\n');
}
