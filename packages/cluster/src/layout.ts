import { ClusterError } from './errors.js';
import type { IPFamily } from './ip.js';

/** Highest number of nodes one cluster can have (each node owns a /23 of the cluster's /20). */
export const MAX_NODES = 8;
/** Slots 1..MAX_SLOT: each gives a cluster its own bridge subnet, pod range, service range and ports. */
export const MAX_SLOT = 15;

/** Which address families a cluster has: IPv4 only, IPv6 only, or both with IPv4 primary. */
export type IPFamilyMode = 'ipv4' | 'ipv6' | 'dual';
export const IP_FAMILY_MODES: readonly IPFamilyMode[] = ['ipv4', 'ipv6', 'dual'];
export const DEFAULT_IP_FAMILY: IPFamilyMode = 'dual';

/** Families of a mode, primary first (the order of podIPs, podCIDRs and service ranges). */
export function familiesOf(mode: IPFamilyMode): readonly IPFamily[] {
  return mode === 'ipv4' ? ['IPv4'] : mode === 'ipv6' ? ['IPv6'] : ['IPv4', 'IPv6'];
}

/** Throws NPL_CLUSTER_IP_FAMILY_INVALID unless `mode` is ipv4, ipv6 or dual. */
export function validateIPFamily(mode: string): IPFamilyMode {
  if (!(IP_FAMILY_MODES as readonly string[]).includes(mode)) {
    throw new ClusterError('NPL_CLUSTER_IP_FAMILY_INVALID', `ip family ${JSON.stringify(mode)}: expected one of ${IP_FAMILY_MODES.join(', ')}`);
  }
  return mode as IPFamilyMode;
}

/** The addresses of one family in one cluster. */
export interface FamilyLayout {
  readonly family: IPFamily;
  /** Bridge address in the root namespace (the control plane host). */
  readonly bridgeIP: string;
  readonly bridgePrefix: number;
  readonly subnet: string;
  readonly serviceCIDR: string;
  /** First address of serviceCIDR: the `kubernetes` Service. */
  readonly kubernetesServiceIP: string;
  /** Every node's podCIDR of this family lies inside it. */
  readonly clusterPodCIDR: string;
  /** Node i's InternalIP and podCIDR of this family. */
  readonly nodeIPs: readonly string[];
  readonly podCIDRs: readonly string[];
  readonly outsideIP: string;
}

export interface NodeLayout {
  /** Kubernetes Node name. */
  readonly name: string;
  readonly index: number;
  /** Primary InternalIP (IPv4 unless the cluster is IPv6-only), on the cluster bridge. */
  readonly ip: string;
  /** InternalIPs, primary family first. */
  readonly ips: readonly string[];
  /** The node's IPv6 InternalIP, when the cluster has IPv6. */
  readonly ipv6?: string;
  /** Network namespace name (under /run/netns). */
  readonly netns: string;
  /** Root-namespace end of the node's veth to the bridge. */
  readonly hostVeth: string;
  /** Primary-family podCIDR. */
  readonly podCIDR: string;
  /** podCIDRs, primary family first (as `spec.podCIDRs`). */
  readonly podCIDRs: readonly string[];
}

/** Every name, address and port of one cluster, derived from (name, slot, node count, ip family) alone. */
export interface ClusterLayout {
  readonly name: string;
  readonly slot: number;
  readonly ipFamily: IPFamilyMode;
  /** One entry per family, primary first. The flat fields below are the primary family's. */
  readonly nets: readonly FamilyLayout[];
  readonly bridge: string;
  /** Primary bridge address: the control plane listens here (and on loopback for etcd). */
  readonly bridgeIP: string;
  readonly bridgePrefix: number;
  readonly subnet: string;
  readonly serviceCIDR: string;
  /** Service ranges, primary first (`--service-cluster-ip-range`). */
  readonly serviceCIDRs: readonly string[];
  /** First address of serviceCIDR: the `kubernetes` Service. */
  readonly kubernetesServiceIP: string;
  readonly clusterPodCIDR: string;
  readonly nodes: readonly NodeLayout[];
  readonly outside: { readonly netns: string; readonly ip: string; readonly ips: readonly string[]; readonly ipv6?: string; readonly hostVeth: string };
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
 * IPv4 of slot k, all in 198.18.0.0/15: bridge 198.18.k.0/24 (root .1, node i .(10+i), outside
 * .250), services 198.18.(192+k).0/24, pods 198.19.(16k).0/20 with one /23 per node.
 */
function ipv4Layout(slot: number, nodeCount: number): FamilyLayout {
  const net = `198.18.${slot}`;
  const podBase = 16 * slot;
  const nodes = [...Array(nodeCount).keys()];
  return {
    family: 'IPv4',
    bridgeIP: `${net}.1`,
    bridgePrefix: 24,
    subnet: `${net}.0/24`,
    serviceCIDR: `198.18.${192 + slot}.0/24`,
    kubernetesServiceIP: `198.18.${192 + slot}.1`,
    clusterPodCIDR: `198.19.${podBase}.0/20`,
    nodeIPs: nodes.map((i) => `${net}.${10 + i}`),
    podCIDRs: nodes.map((i) => `198.19.${podBase + 2 * i}.0/23`),
    outsideIP: `${net}.250`,
  };
}

/**
 * IPv6 of slot k (K = k in hex), all in 2001:db8::/32 and mirroring the IPv4 host numbers:
 * bridge 2001:db8:18:K::/64 (root ::1, node i ::(10+i), outside ::250, the digits read as hex
 * groups), services 2001:db8:1a:K::/112, pods 2001:db8:19:K00::/56 with one /64 per node
 * (2001:db8:19:K0i::/64), as kind and kubeadm size them.
 */
function ipv6Layout(slot: number, nodeCount: number): FamilyLayout {
  const k = slot.toString(16);
  const net = `2001:db8:18:${k}`;
  const nodes = [...Array(nodeCount).keys()];
  return {
    family: 'IPv6',
    bridgeIP: `${net}::1`,
    bridgePrefix: 64,
    subnet: `${net}::/64`,
    serviceCIDR: `2001:db8:1a:${k}::/112`,
    kubernetesServiceIP: `2001:db8:1a:${k}::1`,
    clusterPodCIDR: `2001:db8:19:${k}00::/56`,
    nodeIPs: nodes.map((i) => `${net}::${10 + i}`),
    podCIDRs: nodes.map((i) => `2001:db8:19:${k}0${i}::/64`),
    outsideIP: `${net}::250`,
  };
}

/**
 * The layout of cluster `name` in `slot` with `nodeCount` nodes and the families of `ipFamily`
 * (default dual: IPv4 primary). IPv4 comes from 198.18.0.0/15, IPv6 from 2001:db8::/32 (see
 * ipv4Layout and ipv6Layout); distinct slots never overlap.
 */
export function clusterLayout(name: string, slot: number, nodeCount: number, ipFamily: IPFamilyMode = DEFAULT_IP_FAMILY): ClusterLayout {
  validateName(name);
  validateNodeCount(nodeCount);
  validateIPFamily(ipFamily);
  if (!Number.isInteger(slot) || slot < 1 || slot > MAX_SLOT) throw new RangeError(`slot ${slot} out of range`);
  const nets = familiesOf(ipFamily).map((f) => (f === 'IPv4' ? ipv4Layout(slot, nodeCount) : ipv6Layout(slot, nodeCount)));
  const primary = nets[0]!;
  const v6 = nets.find((n) => n.family === 'IPv6');
  const netnsPrefix = `npl-${name}-`;
  const nodes: NodeLayout[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const nodeName = `node-${i}`;
    nodes.push({
      name: nodeName,
      index: i,
      ip: primary.nodeIPs[i]!,
      ips: nets.map((n) => n.nodeIPs[i]!),
      ...(v6 ? { ipv6: v6.nodeIPs[i]! } : {}),
      netns: `${netnsPrefix}${nodeName}`,
      hostVeth: `nplc${slot}-n${i}`,
      podCIDR: primary.podCIDRs[i]!,
      podCIDRs: nets.map((n) => n.podCIDRs[i]!),
    });
  }
  const portBase = 24000 + slot * 20;
  return {
    name,
    slot,
    ipFamily,
    nets,
    bridge: `nplc${slot}-br`,
    bridgeIP: primary.bridgeIP,
    bridgePrefix: primary.bridgePrefix,
    subnet: primary.subnet,
    serviceCIDR: primary.serviceCIDR,
    serviceCIDRs: nets.map((n) => n.serviceCIDR),
    kubernetesServiceIP: primary.kubernetesServiceIP,
    clusterPodCIDR: primary.clusterPodCIDR,
    nodes,
    outside: {
      netns: `${netnsPrefix}out`,
      ip: primary.outsideIP,
      ips: nets.map((n) => n.outsideIP),
      ...(v6 ? { ipv6: v6.outsideIP } : {}),
      hostVeth: `nplc${slot}-out`,
    },
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
