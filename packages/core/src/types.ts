/**
 * Domain types shared by every @npl package. Wire formats (the pod annotation) live in
 * annotation.ts; these are the in-memory shapes the agent reasons with.
 */

/** L4 protocols NodePortLocal maps. SCTP Service ports are ignored (Antrea does the same). */
export type Protocol = 'tcp' | 'udp';

/** IP family names exactly as Antrea writes them in the annotation's `ipFamily` field. */
export type IPFamily = 'IPv4' | 'IPv6';

/** Families in Antrea's iteration order: IPv4 first, then IPv6. */
export const IP_FAMILIES: readonly IPFamily[] = ['IPv4', 'IPv6'];

/** `namespace/name`, the work-queue and port-table key of a Pod. */
export type PodKey = string;

/** Inclusive node port range, e.g. 61000-62000. Always start < end, both within 1-65535. */
export interface PortRange {
  readonly start: number;
  readonly end: number;
}

/** Node addresses per family as NodePortLocal uses them (§2.6); undefined = none of that family. */
export interface NodeIPs {
  readonly IPv4?: string;
  readonly IPv6?: string;
}

/**
 * One DNAT mapping as the dataplane sees it: traffic to any local address on `nodePort`/`protocol`
 * goes to `podIP:podPort`. The node IP is not part of the match (Antrea matches any local address).
 */
export interface DnatMapping {
  readonly family: IPFamily;
  readonly protocol: Protocol;
  readonly nodePort: number;
  readonly podIP: string;
  readonly podPort: number;
}

/**
 * One row of a family's port table (Antrea's NodePortData). `defunct` marks an entry whose
 * deletion started but did not finish: it is never reused, and is deleted again before anything
 * else is done for that pod port.
 */
export interface PortEntry extends DnatMapping {
  readonly podKey: PodKey;
  /** Owning Services as sorted, de-duplicated `namespace/name`; empty when not yet known (restored). */
  readonly services: readonly string[];
  readonly defunct: boolean;
}
