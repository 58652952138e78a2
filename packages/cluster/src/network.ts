import { writeFile } from 'node:fs/promises';
import type { ClusterLayout, NodeLayout } from './layout.js';
import { isSlotLink } from './layout.js';
import { ipBatch, listLinks, listNetns, netnsSysctl, run, tryRun } from './run.js';

const NS_SYSCTLS = {
  'net.ipv4.ip_forward': '1',
  'net.ipv4.conf.all.rp_filter': '0',
  'net.ipv4.conf.default.rp_filter': '0',
  'net.ipv6.conf.all.disable_ipv6': '1',
  'net.ipv6.conf.default.disable_ipv6': '1',
};

/**
 * Creates the cluster's bridge in the root namespace (holding the control plane address), one
 * namespace per node and the `outside` namespace, each joined to the bridge by a veth. Node
 * namespaces forward and route every other node's pod CIDR via that node's IP (the minimal CNI);
 * so does the root namespace; the outside namespace knows only the bridge subnet.
 */
export async function createClusterNetwork(layout: ClusterLayout): Promise<void> {
  await ipBatch([
    `link add ${layout.bridge} type bridge`,
    `addr add ${layout.bridgeIP}/${layout.bridgePrefix} dev ${layout.bridge}`,
  ]);
  await writeFile(`/proc/sys/net/ipv6/conf/${layout.bridge}/disable_ipv6`, '1').catch(() => undefined);
  await ipBatch([`link set ${layout.bridge} up`]);
  await Promise.all(layout.nodes.map((n) => createNode(layout, n)));
  await createOutside(layout);
  // The root namespace plays the control-plane host: it routes pod CIDRs via their nodes, so pods
  // reach the API server (and it them). The outside namespace has no such routes.
  await ipBatch(layout.nodes.map((n) => `route replace ${n.podCIDR} via ${n.ip} dev ${layout.bridge}`));
}

async function joinBridge(layout: ClusterLayout, netns: string, hostVeth: string, ip: string): Promise<void> {
  await ipBatch([`netns add ${netns}`]);
  await netnsSysctl(netns, NS_SYSCTLS);
  await ipBatch([
    `link add ${hostVeth} type veth peer name eth0 netns ${netns}`,
    `link set ${hostVeth} master ${layout.bridge}`,
  ]);
  await writeFile(`/proc/sys/net/ipv6/conf/${hostVeth}/disable_ipv6`, '1').catch(() => undefined);
  await ipBatch([`link set ${hostVeth} up`]);
  await ipBatch(
    ['link set lo up', `addr add ${ip}/${layout.bridgePrefix} dev eth0`, 'link set eth0 up'],
    netns,
  );
}

async function createNode(layout: ClusterLayout, node: NodeLayout): Promise<void> {
  await joinBridge(layout, node.netns, node.hostVeth, node.ip);
  const routes = layout.nodes.filter((o) => o.index !== node.index).map((o) => `route add ${o.podCIDR} via ${o.ip} dev eth0`);
  await ipBatch(routes, node.netns);
}

async function createOutside(layout: ClusterLayout): Promise<void> {
  await joinBridge(layout, layout.outside.netns, layout.outside.hostVeth, layout.outside.ip);
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
