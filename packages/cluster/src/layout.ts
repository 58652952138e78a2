import { ClusterError } from './errors.js';

/** Highest number of nodes one cluster can have (each node owns a /23 of the cluster's /20). */
export const MAX_NODES = 8;
/** Slots 1..MAX_SLOT: each gives a cluster its own bridge subnet, pod range, service range and ports. */
export const MAX_SLOT = 15;

export interface NodeLayout {
  /** Kubernetes Node name. */
  readonly name: string;
  readonly index: number;
  /** InternalIP, on the cluster bridge. */
  readonly ip: string;
  /** Network namespace name (under /run/netns). */
  readonly netns: string;
  /** Root-namespace end of the node's veth to the bridge. */
  readonly hostVeth: string;
  readonly podCIDR: string;
}

/** Every name, address and port of one cluster, derived from (name, slot, node count) alone. */
export interface ClusterLayout {
  readonly name: string;
  readonly slot: number;
  readonly bridge: string;
  /** Bridge address: the control plane listens here (and on loopback for etcd). */
  readonly bridgeIP: string;
  readonly bridgePrefix: number;
  readonly subnet: string;
  readonly serviceCIDR: string;
  /** First address of serviceCIDR: the `kubernetes` Service. */
  readonly kubernetesServiceIP: string;
  readonly clusterPodCIDR: string;
  readonly nodes: readonly NodeLayout[];
  readonly outside: { readonly netns: string; readonly ip: string; readonly hostVeth: string };
  /** Prefix shared by every network namespace of this cluster (nodes, pods, outside). */
  readonly netnsPrefix: string;
  /** Prefix of pod namespaces. */
  readonly podNetnsPrefix: string;
  readonly ports: {
    readonly etcdClient: number;
    readonly etcdPeer: number;
    readonly apiserver: number;
    readonly controllerManager: number;
    readonly scheduler: number;
  };
}

const NAME_RE = /^[a-z][a-z0-9]{0,11}$/;

/** Throws NPL_CLUSTER_NAME_INVALID unless `name` is 1-12 of [a-z0-9] starting with a letter. */
export function validateName(name: string): string {
  if (!NAME_RE.test(name)) {
    throw new ClusterError(
      'NPL_CLUSTER_NAME_INVALID',
      `cluster name ${JSON.stringify(name)}: expected 1-12 lowercase letters or digits, starting with a letter`,
    );
  }
  return name;
}

export function validateNodeCount(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_NODES) {
    throw new ClusterError('NPL_CLUSTER_NODES_INVALID', `node count ${n}: expected an integer from 1 to ${MAX_NODES}`);
  }
  return n;
}

/**
 * The layout of cluster `name` in `slot` with `nodeCount` nodes. Addresses come only from
 * 198.18.0.0/15: bridge 198.18.<slot>.0/24 (nodes .10+i, outside .250), services
 * 198.18.<192+slot>.0/24, pods 198.19.<16*slot>.0/20 with one /23 per node.
 */
export function clusterLayout(name: string, slot: number, nodeCount: number): ClusterLayout {
  validateName(name);
  validateNodeCount(nodeCount);
  if (!Number.isInteger(slot) || slot < 1 || slot > MAX_SLOT) throw new RangeError(`slot ${slot} out of range`);
  const net = `198.18.${slot}`;
  const podBase = 16 * slot;
  const netnsPrefix = `npl-${name}-`;
  const nodes: NodeLayout[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const nodeName = `node-${i}`;
    nodes.push({
      name: nodeName,
      index: i,
      ip: `${net}.${10 + i}`,
      netns: `${netnsPrefix}${nodeName}`,
      hostVeth: `nplc${slot}-n${i}`,
      podCIDR: `198.19.${podBase + 2 * i}.0/23`,
    });
  }
  const portBase = 24000 + slot * 20;
  return {
    name,
    slot,
    bridge: `nplc${slot}-br`,
    bridgeIP: `${net}.1`,
    bridgePrefix: 24,
    subnet: `${net}.0/24`,
    serviceCIDR: `198.18.${192 + slot}.0/24`,
    kubernetesServiceIP: `198.18.${192 + slot}.1`,
    clusterPodCIDR: `198.19.${podBase}.0/20`,
    nodes,
    outside: { netns: `${netnsPrefix}out`, ip: `${net}.250`, hostVeth: `nplc${slot}-out` },
    netnsPrefix,
    podNetnsPrefix: `${netnsPrefix}p-`,
    ports: {
      etcdClient: portBase,
      etcdPeer: portBase + 1,
      apiserver: portBase + 2,
      controllerManager: portBase + 3,
      scheduler: portBase + 4,
    },
  };
}

/** Root-namespace link names that belong to `slot` (a crash may leave them behind). */
export function isSlotLink(link: string, slot: number): boolean {
  return link === `nplc${slot}-br` || link.startsWith(`nplc${slot}-n`) || link === `nplc${slot}-out`;
}

/** IPv4 helpers for small CIDRs. */
export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`not an IPv4 address: ${ip}`);
  }
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Usable pod addresses of a node's podCIDR: all but the network and broadcast addresses. */
export function cidrHosts(cidr: string): { first: number; last: number } {
  const [ip, bits] = cidr.split('/');
  const prefix = Number(bits);
  const base = ipToInt(ip!) & (prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0);
  const size = 2 ** (32 - prefix);
  return { first: (base >>> 0) + 1, last: (base >>> 0) + size - 2 };
}

/** Pod network namespace name: short and deterministic from the pod UID. */
export function podNetnsName(layout: Pick<ClusterLayout, 'podNetnsPrefix'>, podUID: string): string {
  return `${layout.podNetnsPrefix}${podKey(podUID)}`;
}

/** 10 hex characters of the pod UID (dashes removed): names the pod's namespace and node-side veth. */
export function podKey(podUID: string): string {
  return podUID.replace(/-/g, '').slice(0, 10);
}

/** Node-side veth name of a pod (inside the node namespace). */
export function podVethName(podUID: string): string {
  return `p${podKey(podUID)}`;
}
