/**
 * Family-aware checks for the agent's end-to-end tests on dual-stack and IPv6-only clusters:
 * the same order as Antrea's e2e (annotation, dataplane rules, reserved socket, real traffic), for
 * the family of each annotation entry.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Cluster, ClusterNode } from '@npl/cluster';
import type { CompleteNplEntry, DnatMapping, IPFamily } from '@npl/core';
import { ipFamilyOf, parseNftRuleset } from '@npl/core';
import { iptablesChainOf, otherNode } from '../harness.js';

const NFT_FAMILY: Record<IPFamily, string> = { IPv4: 'ip', IPv6: 'ip6' };

/** The node's InternalIP of `family` (the annotation's nodeIP), undefined when it has none. */
export function nodeIPOf(node: ClusterNode, family: IPFamily): string | undefined {
  return node.ips.find((ip) => ipFamilyOf(ip) === family);
}

/** The pod's first `status.podIPs` entry of `family`. */
export function podIPOf(pod: V1Pod, family: IPFamily): string | undefined {
  return (pod.status?.podIPs ?? []).map((p) => p.ip).find((ip) => ipFamilyOf(ip) === family);
}

/** What the node's `ip` or `ip6` npl table maps; [] when the table does not exist. */
export async function nftMappingsOf(cluster: Cluster, node: ClusterNode, family: IPFamily): Promise<DnatMapping[]> {
  try {
    return parseNftRuleset(await cluster.exec(node.netns, ['nft', '-j', 'list', 'table', NFT_FAMILY[family], 'npl']), { table: 'npl' });
  } catch (err) {
    if (/No such file or directory/.test((err as Error).message)) return [];
    throw err;
  }
}

/** True when a socket of `family` on the node holds `port` (TCP listening or UDP bound). */
export async function socketHeldOf(cluster: Cluster, node: ClusterNode, port: number, protocol: 'tcp' | 'udp', family: IPFamily): Promise<boolean> {
  const out = await cluster.exec(node.netns, ['ss', '-Hn', family === 'IPv4' ? '-4' : '-6', protocol === 'tcp' ? '-lt' : '-lu', 'sport', `= :${port}`]);
  return out.trim().length > 0;
}

/** One request to ip:port (either family) from a namespace: the answer (the pod's name), '' on failure. */
export async function requestTo(cluster: Cluster, netns: string, ip: string, port: number, protocol: 'tcp' | 'udp' = 'tcp'): Promise<string> {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const cmd =
    protocol === 'tcp'
      ? ['curl', '-g', '-s', '-m', '3', `http://${host}:${port}/`]
      : ['sh', '-c', `echo ping | timeout 3 nc -u -w1 ${ip} ${port}`];
  try {
    return (await cluster.exec(netns, cmd)).trim();
  } catch {
    return '';
  }
}

/** What a node's dataplane of `family` maps ([] when it has no table or chain of that family). */
export type RulesReader = (cluster: Cluster, node: ClusterNode, family: IPFamily) => Promise<DnatMapping[]>;

/** The mappings of the node's iptables chain of `family` (the `--dataplane iptables` agent's). */
export const iptablesMappingsOf: RulesReader = async (cluster, node, family) => (await iptablesChainOf(cluster, node, family)).mappings;

/**
 * Antrea's e2e check of one mapping of either family: the entry's nodeIP is the node's address of
 * its family, that family's table (or chain: `readRules`, default the nftables dataplane's) maps it
 * to the Pod's address of the family, a socket of the family holds the port, and traffic from
 * another node (when there is one) and from outside to nodeIP:nodePort reaches the Pod. Returns the
 * problems found ([] when it works).
 */
export async function familyMappingProblems(cluster: Cluster, node: ClusterNode, pod: V1Pod, entry: CompleteNplEntry, readRules: RulesReader = nftMappingsOf): Promise<string[]> {
  const family = entry.ipFamily;
  const problems: string[] = [];
  const podIP = podIPOf(pod, family);
  const nodeIP = nodeIPOf(node, family);
  if (entry.nodeIP !== nodeIP) problems.push(`${family} nodeIP ${entry.nodeIP}, want ${nodeIP}`);
  const rules = await readRules(cluster, node, family);
  if (!rules.some((m) => m.family === family && m.nodePort === entry.nodePort && m.protocol === entry.protocol && m.podIP === podIP && m.podPort === entry.podPort)) {
    problems.push(`no ${family} dataplane mapping ${entry.protocol}/${entry.nodePort} -> ${podIP}:${entry.podPort} on ${node.name}`);
  }
  if (!(await socketHeldOf(cluster, node, entry.nodePort, entry.protocol, family))) problems.push(`${family} ${entry.protocol} port ${entry.nodePort} not held on ${node.name}`);
  const name = pod.metadata?.name ?? '';
  const clients = [...(cluster.nodes.length > 1 ? [otherNode(cluster, node).netns] : []), cluster.outsideNetns];
  for (const from of clients) {
    const got = await requestTo(cluster, from, entry.nodeIP, entry.nodePort, entry.protocol);
    if (!got.includes(name)) problems.push(`${entry.protocol} from ${from} to ${entry.nodeIP}:${entry.nodePort} answered ${JSON.stringify(got)}, want ${name}`);
  }
  return problems;
}

/**
 * The annotation value Antrea v2.6+ writes for `entries`, spelled out by hand (not through our
 * codec): compact JSON with the keys podPort, nodeIP, nodePort, protocol, ipFamily in that order,
 * entries sorted by nodePort then ipFamily (IPv4 first), then protocol.
 */
export function antreaAnnotationText(entries: readonly CompleteNplEntry[]): string {
  const sorted = [...entries].sort((a, b) => a.nodePort - b.nodePort || a.ipFamily.localeCompare(b.ipFamily) || a.protocol.localeCompare(b.protocol) || a.podPort - b.podPort);
  const one = (e: CompleteNplEntry) => `{"podPort":${e.podPort},"nodeIP":"${e.nodeIP}","nodePort":${e.nodePort},"protocol":"${e.protocol}","ipFamily":"${e.ipFamily}"}`;
  return `[${sorted.map(one).join(',')}]`;
}
