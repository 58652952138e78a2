import { writeFile } from 'node:fs/promises';
import type { ClusterLayout, NodeLayout } from './layout.js';
import { isSlotLink } from './layout.js';
import { ipBatch, listLinks, listNetns, netnsSysctl, run, tryRun } from './run.js';

const IPV4_SYSCTLS = {
  'net.ipv4.ip_forward': '1',
  'net.ipv4.conf.all.rp_filter': '0',
  'net.ipv4.conf.default.rp_filter': '0',
};

/** IPv6 off (an IPv4-only cluster: as before dual-stack existed). */
const IPV6_OFF = {
  'net.ipv6.conf.all.disable_ipv6': '1',
  'net.ipv6.conf.default.disable_ipv6': '1',
};

/**
 * IPv6 on: forwarding where IPv4 forwards; no router advertisements accepted (nothing here sends
 * them, and a stray one must not add routes); no duplicate address detection, so addresses (also
 * link-local ones of links made later in the namespace) are usable at once instead of ~1 s later.
 */
const IPV6_ON = {
  'net.ipv6.conf.all.disable_ipv6': '0',
  'net.ipv6.conf.default.disable_ipv6': '0',
  'net.ipv6.conf.all.forwarding': '1',
  'net.ipv6.conf.all.accept_ra': '0',
  'net.ipv6.conf.default.accept_ra': '0',
  'net.ipv6.conf.all.accept_dad': '0',
  'net.ipv6.conf.default.accept_dad': '0',
};

/** Sysctls of node and outside namespaces, set before their links are made (links copy `default`). */
export function namespaceSysctls(layout: Pick<ClusterLayout, 'nets'>): Record<string, string> {
  return { ...IPV4_SYSCTLS, ...(hasIPv6(layout) ? IPV6_ON : IPV6_OFF) };
}

function hasIPv6(layout: Pick<ClusterLayout, 'nets'>): boolean {
  return layout.nets.some((n) => n.family === 'IPv6');
}

/** `addr add` of an address; IPv6 without duplicate address detection. */
function addrAdd(ip: string, prefix: number, dev: string): string {
  return `addr add ${ip}/${prefix} dev ${dev}${ip.includes(':') ? ' nodad' : ''}`;
}

/** Root-namespace IPv6 settings of one of our links (never the host's defaults). */
async function linkIPv6(layout: ClusterLayout, link: string, routed: boolean): Promise<void> {
  const conf = `/proc/sys/net/ipv6/conf/${link}`;
  const on = routed && hasIPv6(layout);
  if (on) {
    await writeFile(`${conf}/accept_ra`, '0').catch(() => undefined);
    await writeFile(`${conf}/accept_dad`, '0').catch(() => undefined);
  }
  await writeFile(`${conf}/disable_ipv6`, on ? '0' : '1').catch(() => undefined);
}

/**
 * Creates the cluster's bridge in the root namespace (holding the control plane address of each
 * family), one namespace per node and the `outside` namespace, each joined to the bridge by a
 * veth. Node namespaces forward and route every other node's pod CIDRs via that node's IP of the
 * family (the minimal CNI); so does the root namespace; the outside namespace knows only the
 * bridge subnets.
 */
export async function createClusterNetwork(layout: ClusterLayout): Promise<void> {
  await ipBatch([`link add ${layout.bridge} type bridge`]);
  await linkIPv6(layout, layout.bridge, true);
  await ipBatch([...layout.nets.map((n) => addrAdd(n.bridgeIP, n.bridgePrefix, layout.bridge)), `link set ${layout.bridge} up`]);
  await Promise.all(layout.nodes.map((n) => createNode(layout, n)));
  await createOutside(layout);
  // The root namespace plays the control-plane host: it routes pod CIDRs via their nodes, so pods
  // reach the API server (and it them). The outside namespace has no such routes.
  await ipBatch(layout.nets.flatMap((f) => f.podCIDRs.map((cidr, i) => `route replace ${cidr} via ${f.nodeIPs[i]} dev ${layout.bridge}`)));
}

async function joinBridge(layout: ClusterLayout, netns: string, hostVeth: string, ips: readonly string[]): Promise<void> {
  await ipBatch([`netns add ${netns}`]);
  await netnsSysctl(netns, namespaceSysctls(layout));
  await ipBatch([
    `link add ${hostVeth} type veth peer name eth0 netns ${netns}`,
    `link set ${hostVeth} master ${layout.bridge}`,
  ]);
  // A bridge port needs no addresses of its own: frames of both families are bridged anyway.
  await linkIPv6(layout, hostVeth, false);
  await ipBatch([`link set ${hostVeth} up`]);
  await ipBatch(['link set lo up', ...layout.nets.map((n, j) => addrAdd(ips[j]!, n.bridgePrefix, 'eth0')), 'link set eth0 up'], netns);
}

async function createNode(layout: ClusterLayout, node: NodeLayout): Promise<void> {
  await joinBridge(layout, node.netns, node.hostVeth, node.ips);
  const routes = layout.nets.flatMap((f) =>
    f.podCIDRs.flatMap((cidr, i) => (i === node.index ? [] : [`route add ${cidr} via ${f.nodeIPs[i]} dev eth0`])),
  );
  await ipBatch(routes, node.netns);
}

async function createOutside(layout: ClusterLayout): Promise<void> {
  await joinBridge(layout, layout.outside.netns, layout.outside.hostVeth, layout.outside.ips);
}

/**
 * Removes every namespace whose name starts with the cluster's prefix and every root-namespace
 * link of its slot. Idempotent; tolerates partial leftovers.
 */
export async function deleteClusterNetwork(layout: Pick<ClusterLayout, 'netnsPrefix' | 'slot'>): Promise<void> {
  const namespaces = (await listNetns()).filter((n) => n.startsWith(layout.netnsPrefix));
  // Pods first (their veths die with them), then nodes and outside.
  const pods = namespaces.filter((n) => n.startsWith(`${layout.netnsPrefix}p-`));
  const rest = namespaces.filter((n) => !pods.includes(n));
  await deleteNamespaces(pods);
  await deleteNamespaces(rest);
  const links = (await listLinks()).filter((l) => isSlotLink(l, layout.slot));
  for (const l of links.filter((x) => !x.endsWith('-br'))) await tryRun('ip', ['link', 'del', l]);
  for (const l of links.filter((x) => x.endsWith('-br'))) await tryRun('ip', ['link', 'del', l]);
}

async function deleteNamespaces(names: readonly string[]): Promise<void> {
  for (let i = 0; i < names.length; i += 200) {
    const chunk = names.slice(i, i + 200);
    if (!(await tryRun('ip', ['-force', '-batch', '-'], chunk.map((n) => `netns del ${n}`).join('\n') + '\n'))) {
      for (const n of chunk) await tryRun('ip', ['netns', 'del', n]);
    }
  }
}

/** Runs a command inside a network namespace; resolves with stdout, rejects on failure. */
export async function execInNetns(netns: string, cmd: readonly string[]): Promise<string> {
  return run('ip', ['netns', 'exec', netns, ...cmd]);
}
