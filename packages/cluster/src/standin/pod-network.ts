import { cidrHosts, intToIp, ipToInt, podKey, podVethName } from '../layout.js';
import { ipBatch, run, tryRun } from '../run.js';

/**
 * Pod annotation asking the node's IPAM for one address, as Calico's `cni.projectcalico.org/ipAddrs`
 * does: the pod gets exactly that address, waiting (Pending, retried with backoff) while it is in use.
 */
export const POD_IP_ANNOTATION = 'npl.test/pod-ip';

/**
 * Hands out pod addresses from a node's podCIDR: the most recently released address first (as
 * some IPAMs do, so tests can recycle a terminated Pod's IP on purpose, Antrea #6527), else the
 * next never-used one round-robin. An address is never handed out while in use.
 */
export class IpAllocator {
  private readonly used = new Set<number>();
  private readonly released: number[] = [];
  private next: number;
  private readonly first: number;
  private readonly last: number;

  constructor(cidr: string) {
    const h = cidrHosts(cidr);
    this.first = h.first;
    this.last = h.last;
    this.next = h.first;
  }

  contains(ip: string): boolean {
    const n = ipToInt(ip);
    return n >= this.first && n <= this.last;
  }

  /** Marks an address as in use (re-adoption after a restart). */
  reserve(ip: string): void {
    this.used.add(ipToInt(ip));
  }

  allocate(): string {
    for (let n = this.released.pop(); n !== undefined; n = this.released.pop()) {
      if (!this.used.has(n)) {
        this.used.add(n);
        return intToIp(n);
      }
    }
    const size = this.last - this.first + 1;
    for (let i = 0; i < size; i++) {
      const n = this.next;
      this.next = n >= this.last ? this.first : n + 1;
      if (!this.used.has(n)) {
        this.used.add(n);
        return intToIp(n);
      }
    }
    throw new Error('pod CIDR exhausted');
  }

  /**
   * Takes the given address (a pod that asked for it with `npl.test/pod-ip`). Throws when it is
   * outside the podCIDR or in use; the caller retries, so the pod waits until the address is free.
   */
  claim(ip: string): string {
    const n = ipToInt(ip);
    if (!this.contains(ip)) throw new Error(`requested pod IP ${ip} is outside the node's podCIDR`);
    if (this.used.has(n)) throw new Error(`requested pod IP ${ip} is in use; waiting for it to be released`);
    this.used.add(n);
    const i = this.released.lastIndexOf(n);
    if (i >= 0) this.released.splice(i, 1);
    return ip;
  }

  release(ip: string): void {
    const n = ipToInt(ip);
    if (!this.used.delete(n)) return;
    this.released.push(n);
  }
}

/**
 * The minimal CNI of one node: a pod gets its own namespace with `eth0` (a /32 address, default
 * route via the node IP, onlink) whose peer sits in the node namespace with a host route to the
 * pod — point-to-point like Calico, no bridge per node.
 */
export class PodNetwork {
  readonly allocator: IpAllocator;
  private readonly node: { readonly netns: string; readonly ip: string; readonly podCIDR: string };
  private readonly podNetnsPrefix: string;

  constructor(node: { readonly netns: string; readonly ip: string; readonly podCIDR: string }, podNetnsPrefix: string) {
    this.node = node;
    this.podNetnsPrefix = podNetnsPrefix;
    this.allocator = new IpAllocator(node.podCIDR);
  }

  netnsName(uid: string): string {
    return `${this.podNetnsPrefix}${podKey(uid)}`;
  }

  /** Creates the pod's namespace and link with `ip`; on failure removes what it made. */
  async setup(uid: string, ip: string): Promise<string> {
    const ns = this.netnsName(uid);
    const veth = podVethName(uid);
    try {
      await ipBatch([`netns add ${ns}`, `link add ${veth} netns ${this.node.netns} type veth peer name eth0 netns ${ns}`]);
      await ipBatch(
        [
          'link set lo up',
          `addr add ${ip}/32 dev eth0`,
          'link set eth0 up',
          `route add default via ${this.node.ip} dev eth0 onlink`,
        ],
        ns,
      );
      await ipBatch([`link set ${veth} up`, `route replace ${ip}/32 dev ${veth}`], this.node.netns);
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

/** The IPv4 address of `eth0` in a pod namespace left by an earlier stand-in, if any. */
export async function podAddress(netns: string): Promise<string | undefined> {
  const out = await run('ip', ['-n', netns, '-4', '-o', 'addr', 'show', 'dev', 'eth0']).catch(() => '');
  return /inet (\d+\.\d+\.\d+\.\d+)\//.exec(out)?.[1];
}
