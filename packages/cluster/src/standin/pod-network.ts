import { addressAt, familyOf, offsetIn, parseCIDR } from '../ip.js';
import { podKey, podVethName } from '../layout.js';
import { ipBatch, run, tryRun } from '../run.js';

/** Highest host offset handed out: a /64 is not worth iterating over. */
const MAX_HOST_OFFSET = 65534;

/**
 * Pod annotation asking the node's IPAM for one address, as Calico's `cni.projectcalico.org/ipAddrs`
 * does: the pod gets exactly that address, waiting (Pending, retried with backoff) while it is in use.
 * On a dual-stack node the address may be of either family: the pod gets it and the address with
 * the same host offset in the other family's podCIDR (see `PodNetwork.claim`).
 */
export const POD_IP_ANNOTATION = 'npl.test/pod-ip';

/**
 * Hands out pod addresses from a node's podCIDR (either family): the most recently released
 * address first (as some IPAMs do, so tests can recycle a terminated Pod's IP on purpose, Antrea
 * #6527), else the next never-used one round-robin. An address is never handed out while in use.
 * Hosts are the offsets 1 .. min(size - 2, 65534) of the CIDR.
 */
export class IpAllocator {
  private readonly used = new Set<number>();
  private readonly released: number[] = [];
  private next: number;
  private readonly first = 1;
  private readonly last: number;
  private readonly cidr: string;

  constructor(cidr: string) {
    this.cidr = cidr;
    const { size } = parseCIDR(cidr);
    this.last = Number(size - 2n < BigInt(MAX_HOST_OFFSET) ? size - 2n : BigInt(MAX_HOST_OFFSET));
    this.next = this.first;
  }

  private offset(ip: string): number | undefined {
    const off = offsetIn(this.cidr, ip);
    return off === undefined || off < this.first || off > this.last ? undefined : Number(off);
  }

  private address(n: number): string {
    return addressAt(this.cidr, BigInt(n));
  }

  contains(ip: string): boolean {
    return this.offset(ip) !== undefined;
  }

  /** Marks an address as in use (re-adoption after a restart); ignores one outside the CIDR. */
  reserve(ip: string): void {
    const n = this.offset(ip);
    if (n !== undefined) this.used.add(n);
  }

  allocate(): string {
    for (let n = this.released.pop(); n !== undefined; n = this.released.pop()) {
      if (!this.used.has(n)) {
        this.used.add(n);
        return this.address(n);
      }
    }
    const size = this.last - this.first + 1;
    for (let i = 0; i < size; i++) {
      const n = this.next;
      this.next = n >= this.last ? this.first : n + 1;
      if (!this.used.has(n)) {
        this.used.add(n);
        return this.address(n);
      }
    }
    throw new Error(`pod CIDR ${this.cidr} exhausted`);
  }

  /**
   * Takes the given address (a pod that asked for it with `npl.test/pod-ip`). Throws when it is
   * outside the podCIDR or in use; the caller retries, so the pod waits until the address is free.
   */
  claim(ip: string): string {
    const n = this.offset(ip);
    if (n === undefined) throw new Error(`requested pod IP ${ip} is outside the node's podCIDR ${this.cidr}`);
    if (this.used.has(n)) throw new Error(`requested pod IP ${ip} is in use; waiting for it to be released`);
    this.used.add(n);
    const i = this.released.lastIndexOf(n);
    if (i >= 0) this.released.splice(i, 1);
    return this.address(n);
  }

  release(ip: string): void {
    const n = this.offset(ip);
    if (n === undefined || !this.used.delete(n)) return;
    this.released.push(n);
  }
}

/** The link-local address of every node-side pod veth: the pods' IPv6 default gateway (as Calico does). */
export const POD_GATEWAY_IPV6 = 'fe80::1';

export interface PodNetworkNode {
  readonly netns: string;
  readonly ip: string;
  readonly ips: readonly string[];
  readonly podCIDR: string;
  readonly podCIDRs: readonly string[];
}

/**
 * The minimal CNI of one node: a pod gets its own namespace with `eth0` holding one address per
 * family (a /32 with a default route via the node IPv4, onlink; a /128 with a default route via
 * fe80::1, the node-side veth's link-local address) whose peer sits in the node namespace with a
 * host route to each pod address — point-to-point like Calico, no bridge per node. The allocator
 * hands out primary-family addresses; the other family's address has the same host offset in its
 * podCIDR, so a recycled address is recycled in both families.
 */
export class PodNetwork {
  readonly allocator: IpAllocator;
  private readonly node: PodNetworkNode;
  private readonly podNetnsPrefix: string;

  constructor(node: PodNetworkNode, podNetnsPrefix: string) {
    this.node = node;
    this.podNetnsPrefix = podNetnsPrefix;
    this.allocator = new IpAllocator(node.podCIDRs[0] ?? node.podCIDR);
  }

  netnsName(uid: string): string {
    return `${this.podNetnsPrefix}${podKey(uid)}`;
  }

  /** The pod's addresses (primary first, one per podCIDR) for a primary address from the allocator. */
  podIPs(primary: string): string[] {
    const [first, ...rest] = this.node.podCIDRs;
    const off = first === undefined ? undefined : offsetIn(first, primary);
    if (off === undefined) return [primary];
    return [primary, ...rest.map((cidr) => addressAt(cidr, off))];
  }

  /**
   * Takes the address a pod asked for with `npl.test/pod-ip` and returns the primary-family address
   * to keep as the pod's (`podIPs` of it gives all of them). The requested address may be of any
   * family of the node: its host offset in that family's podCIDR is claimed, so the pod gets the
   * requested address and the one with the same offset in every other family. Throws when the
   * address is in none of the node's podCIDRs or its offset is in use (the caller retries).
   */
  claim(requested: string): string {
    const [primaryCIDR, ...others] = this.node.podCIDRs;
    if (primaryCIDR === undefined) return this.allocator.claim(requested);
    for (const cidr of others) {
      const off = offsetIn(cidr, requested);
      if (off !== undefined) return this.allocator.claim(addressAt(primaryCIDR, off));
    }
    if (offsetIn(primaryCIDR, requested) === undefined) {
      throw new Error(`requested pod IP ${requested} is outside the node's podCIDRs ${this.node.podCIDRs.join(', ')}`);
    }
    return this.allocator.claim(requested);
  }

  /** Creates the pod's namespace and link with `ips` (from podIPs); on failure removes what it made. */
  async setup(uid: string, ips: readonly string[]): Promise<string> {
    const ns = this.netnsName(uid);
    const veth = podVethName(uid);
    const v6 = ips.some((ip) => familyOf(ip) === 'IPv6');
    const nodeIPv4 = this.node.ips.find((ip) => familyOf(ip) === 'IPv4');
    try {
      await ipBatch([`netns add ${ns}`, `link add ${veth} netns ${this.node.netns} type veth peer name eth0 netns ${ns}`]);
      await ipBatch(
        [
          'link set lo up',
          ...ips.map((ip) => (familyOf(ip) === 'IPv4' ? `addr add ${ip}/32 dev eth0` : `addr add ${ip}/128 dev eth0 nodad`)),
          'link set eth0 up',
          ...(nodeIPv4 && ips.some((ip) => familyOf(ip) === 'IPv4') ? [`route add default via ${nodeIPv4} dev eth0 onlink`] : []),
          ...(v6 ? [`route add ::/0 via ${POD_GATEWAY_IPV6} dev eth0`] : []),
        ],
        ns,
      );
      await ipBatch(
        [
          ...(v6 ? [`addr add ${POD_GATEWAY_IPV6}/64 dev ${veth} nodad`] : []),
          `link set ${veth} up`,
          ...ips.map((ip) => `route replace ${ip}/${familyOf(ip) === 'IPv4' ? 32 : 128} dev ${veth}`),
        ],
        this.node.netns,
      );
    } catch (err) {
      await this.teardown(uid);
      throw err;
    }
    return ns;
  }

  /** Deletes the pod's namespace (its veth pair goes with it). Idempotent. */
  async teardown(uid: string): Promise<void> {
    await tryRun('ip', ['netns', 'del', this.netnsName(uid)]);
    await tryRun('ip', ['-n', this.node.netns, 'link', 'del', podVethName(uid)]);
  }
}

/** The global addresses (either family) of `eth0` in a pod namespace left by an earlier stand-in. */
export async function podAddresses(netns: string): Promise<string[]> {
  const out = await run('ip', ['-n', netns, '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global']).catch(() => '');
  return [...out.matchAll(/inet6? ([0-9a-f.:]+)\//g)].map((m) => m[1]!);
}
