/**
 * Drives npl-agents on the local cluster for end-to-end tests: one agent process per node, run
 * from this repository's build inside the node's network namespace as the npl-agent ServiceAccount
 * (least-privilege RBAC), plus the checks Antrea's e2e makes, in its order: annotation, dataplane
 * rules, reserved socket, real traffic.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import type { V1Pod, V1Service, V1ServicePort, V1ContainerPort } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import type { Cluster, ClusterNode } from '@npl/cluster';
import { AGENT_IDENTITY, agentCli, agentNodeArgs, agentNodeEnv, serviceAccountKubeconfig } from '@npl/cluster';
import { eventually } from '@npl/runtime';
import type { CompleteNplEntry, DnatMapping, IPFamily } from '@npl/core';
import { DEFAULT_IPTABLES_CHAIN, isCompleteNplEntry, NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY, parseNftRuleset, parseNplAnnotation } from '@npl/core';
import { parseSavedChain } from '../src/dataplane/iptables-save.js';

export const NS = 'default';

export interface AgentProcess {
  readonly node: ClusterNode;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
}

/** Which build of the agent to run and with which Node.js flags (benchmarks: a baseline build, `--cpu-prof`). */
export interface AgentBuild {
  /** The agent's cli.js; this repository's build when absent. */
  readonly cli?: string;
  /** Node.js flags before the script, e.g. `--cpu-prof --cpu-prof-dir=/tmp/x`; the ones the cli's shebang declares when absent. */
  readonly nodeArgs?: readonly string[];
  /** Environment variables for the agent process on top of the test's own; the ones its shebang sets (agentNodeEnv) when absent. */
  readonly env?: Readonly<Record<string, string>>;
}

export class AgentFleet {
  private readonly agents = new Map<string, AgentProcess>();
  private kubeconfig?: string;

  constructor(
    private readonly cluster: () => Cluster,
    private readonly baseArgs: readonly string[] = [],
    /** Used by the next start; benchmarks switch it between a baseline and this build. */
    public build: AgentBuild = {},
  ) {}

  /** Start (or restart) the agent of every node with `args` after the base flags. */
  async startAll(args: readonly string[] = []): Promise<void> {
    for (const node of this.cluster().nodes) await this.start(node, args);
    await this.waitReady();
  }

  async start(node: ClusterNode, args: readonly string[] = []): Promise<AgentProcess> {
    await this.stop(node);
    this.kubeconfig ??= await serviceAccountKubeconfig(this.cluster(), AGENT_IDENTITY);
    const log = path.join(this.cluster().dir, 'logs', `${node.name}-e2e-agent.log`);
    const fd = openSync(log, 'a');
    const child = spawn(
      'ip',
      ['netns', 'exec', node.netns, process.execPath, ...(this.build.nodeArgs ?? agentNodeArgs(this.build.cli ?? agentCli())), this.build.cli ?? agentCli(), '--health-address', healthAddress(node), '--verify-period', '1s', ...this.baseArgs, ...args],
      { stdio: ['ignore', fd, fd], env: { ...process.env, NODE_OPTIONS: '', ...(this.build.env ?? agentNodeEnv(this.build.cli ?? agentCli())), NODE_NAME: node.name, KUBECONFIG: this.kubeconfig } },
    );
    closeSync(fd);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const agent = { node, child, exited };
    this.agents.set(node.name, agent);
    return agent;
  }

  /** Stop with `signal` (SIGTERM: clean; SIGKILL: crash) and wait for the exit. */
  async stop(node: ClusterNode, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const agent = this.agents.get(node.name);
    if (!agent) return;
    this.agents.delete(node.name);
    if (agent.child.exitCode === null && agent.child.signalCode === null) {
      // `ip netns exec` execs the agent, so the child pid is the agent itself.
      agent.child.kill(signal);
      await agent.exited;
    }
  }

  /** Pid of the node's agent process (`ip netns exec` execs it), undefined when none was started. */
  pid(node: ClusterNode): number | undefined {
    return this.agents.get(node.name)?.child.pid;
  }

  async stopAll(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    for (const node of this.cluster().nodes) await this.stop(node, signal);
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    for (const node of this.cluster().nodes) {
      await eventually(async () => (await readyz(node)).ok, timeoutMs, `npl-agent on ${node.name} ready`);
    }
  }
}

/** The agent's health address on the node's primary IP (IPv6 in brackets: IPv6-only clusters). */
export function healthAddress(node: ClusterNode): string {
  return `${node.ip.includes(':') ? `[${node.ip}]` : node.ip}:10361`;
}

export function readyz(node: ClusterNode): Promise<{ ok: boolean; body: string }> {
  return probe(node, 'readyz');
}

/** The agent's liveness endpoint: answers 200 as soon as the process serves health, before its start-up sync. */
export function healthz(node: ClusterNode): Promise<{ ok: boolean; body: string }> {
  return probe(node, 'healthz');
}

async function probe(node: ClusterNode, path: 'readyz' | 'healthz'): Promise<{ ok: boolean; body: string }> {
  try {
    const res = await fetch(`http://${healthAddress(node)}/${path}`, { signal: AbortSignal.timeout(2_000) });
    return { ok: res.status === 200, body: await res.text() };
  } catch (err) {
    return { ok: false, body: (err as Error).message };
  }
}

export function core(cluster: Cluster): CoreV1Api {
  return cluster.kubeConfig.makeApiClient(CoreV1Api);
}

export interface PodSpecInput {
  readonly name: string;
  readonly node: string;
  readonly labels: Record<string, string>;
  readonly ports: readonly V1ContainerPort[];
  readonly annotations?: Record<string, string>;
}

export async function createPod(cluster: Cluster, p: PodSpecInput): Promise<void> {
  await core(cluster).createNamespacedPod({
    namespace: NS,
    body: {
      metadata: { name: p.name, labels: p.labels, ...(p.annotations ? { annotations: p.annotations } : {}) },
      spec: { nodeName: p.node, containers: [{ name: 'server', image: 'npl-e2e/server:1', ports: [...p.ports] }] },
    },
  });
}

export async function createService(
  cluster: Cluster,
  name: string,
  selector: Record<string, string>,
  ports: readonly V1ServicePort[],
  extra: Partial<V1Service['spec']> = {},
): Promise<void> {
  await core(cluster).createNamespacedService({
    namespace: NS,
    body: {
      metadata: { name, annotations: { [NPL_ENABLED_ANNOTATION_KEY]: 'true' } },
      spec: { selector, ports: [...ports], ...extra },
    },
  });
}

export async function readPod(cluster: Cluster, name: string): Promise<V1Pod | undefined> {
  try {
    return await core(cluster).readNamespacedPod({ name, namespace: NS });
  } catch {
    return undefined;
  }
}

/** Parsed, complete annotation entries of a Pod; [] without the key. */
export async function annotation(cluster: Cluster, pod: string): Promise<CompleteNplEntry[]> {
  const text = (await readPod(cluster, pod))?.metadata?.annotations?.[NPL_ANNOTATION_KEY];
  if (text === undefined) return [];
  return parseNplAnnotation(text).filter(isCompleteNplEntry);
}

/** Wait until the Pod's annotation has exactly `count` entries satisfying `check`, and return them. */
export function waitAnnotation(
  cluster: Cluster,
  pod: string,
  count: number,
  check: (e: CompleteNplEntry[]) => boolean = () => true,
  timeoutMs = 60_000,
): Promise<CompleteNplEntry[]> {
  return eventually(
    async () => {
      const a = await annotation(cluster, pod);
      return a.length === count && check(a) ? a : undefined;
    },
    timeoutMs,
    `annotation of ${pod} with ${count} entries`,
  );
}

/** What the node's nftables table maps, read with `nft -j list table ip npl`. */
export async function nftMappings(cluster: Cluster, node: ClusterNode, table = 'npl'): Promise<DnatMapping[]> {
  try {
    return parseNftRuleset(await cluster.exec(node.netns, ['nft', '-j', 'list', 'table', 'ip', table]), { table });
  } catch (err) {
    if (/No such file or directory/.test((err as Error).message)) return [];
    throw err;
  }
}

/** True when a socket of the node holds `port` (TCP listening, or UDP bound), as Antrea's e2e checks with ss. */
export async function socketHeld(cluster: Cluster, node: ClusterNode, port: number, protocol: 'tcp' | 'udp'): Promise<boolean> {
  const out = await cluster.exec(node.netns, ['ss', '-Hn', protocol === 'tcp' ? '-lt' : '-lu', 'sport', `= :${port}`]);
  return out.trim().length > 0;
}

/** Send a request to ip:port from a namespace; resolves with the answer (the pod's name) or '' on failure. */
export async function request(cluster: Cluster, netns: string, ip: string, port: number, protocol: 'tcp' | 'udp' = 'tcp'): Promise<string> {
  try {
    const cmd =
      protocol === 'tcp'
        ? ['curl', '-s', '-m', '3', `http://${ip}:${port}/`]
        : ['sh', '-c', `echo ping | timeout 3 nc -u -w1 ${ip} ${port}`];
    return (await cluster.exec(netns, cmd)).trim();
  } catch {
    return '';
  }
}

/** The other node than `node` (tests use 2 nodes). */
export function otherNode(cluster: Cluster, node: ClusterNode): ClusterNode {
  return cluster.nodes.find((n) => n.name !== node.name)!;
}

/**
 * Antrea's e2e check of one mapping, in its order: the entry is in the annotation (given), the
 * dataplane maps it to the Pod, the port is held by a socket, and traffic from another node and
 * from outside reaches the Pod.
 */
export async function expectMappingWorks(cluster: Cluster, node: ClusterNode, pod: V1Pod, entry: CompleteNplEntry): Promise<string[]> {
  const problems: string[] = [];
  const podIP = pod.status?.podIP;
  const rules = await nftMappings(cluster, node);
  if (!rules.some((m) => m.nodePort === entry.nodePort && m.protocol === entry.protocol && m.podIP === podIP && m.podPort === entry.podPort)) {
    problems.push(`no nft mapping ${entry.protocol}/${entry.nodePort} -> ${podIP}:${entry.podPort} on ${node.name}`);
  }
  if (!(await socketHeld(cluster, node, entry.nodePort, entry.protocol))) problems.push(`${entry.protocol} port ${entry.nodePort} not held on ${node.name}`);
  if (entry.nodeIP !== node.ip) problems.push(`nodeIP ${entry.nodeIP}, want ${node.ip}`);
  const name = pod.metadata?.name ?? '';
  for (const from of [otherNode(cluster, node).netns, cluster.outsideNetns]) {
    const got = await request(cluster, from, node.ip, entry.nodePort, entry.protocol);
    if (!got.includes(name)) problems.push(`${entry.protocol} from ${from} to ${node.ip}:${entry.nodePort} answered ${JSON.stringify(got)}, want ${name}`);
  }
  return problems;
}

export async function deletePod(cluster: Cluster, name: string): Promise<void> {
  await core(cluster).deleteNamespacedPod({ name, namespace: NS, gracePeriodSeconds: 0 }).catch(() => undefined);
  await eventually(async () => (await readPod(cluster, name)) === undefined, 60_000, `pod ${name} deleted`);
}

export async function deleteService(cluster: Cluster, name: string): Promise<void> {
  await core(cluster).deleteNamespacedService({ name, namespace: NS }).catch(() => undefined);
}

export async function waitPodRunning(cluster: Cluster, name: string): Promise<V1Pod> {
  return eventually(
    async () => {
      const p = await readPod(cluster, name);
      return p?.status?.phase === 'Running' && p.status.podIP ? p : undefined;
    },
    60_000,
    `pod ${name} running`,
  );
}

/** The agent's `--dataplane` values. */
export type DataplaneKind = 'nftables' | 'iptables';

/** Agent flags selecting `dataplane` (nftables is the default, so no flag). */
export function dataplaneArgs(dataplane: DataplaneKind): string[] {
  return dataplane === 'nftables' ? [] : ['--dataplane', 'iptables'];
}

/**
 * The node's iptables chain of `family` (Antrea's ANTREA-NODE-PORT-LOCAL in nat), read with
 * `iptables-nft-save`/`ip6tables-nft-save -t nat`: the backend the agent picks on these nodes, which
 * carry no kubelet chains. `exists` false when the chain is not declared.
 */
export async function iptablesChainOf(cluster: Cluster, node: ClusterNode, family: IPFamily): Promise<{ exists: boolean; mappings: DnatMapping[] }> {
  const save = family === 'IPv4' ? 'iptables-nft-save' : 'ip6tables-nft-save';
  const saved = parseSavedChain(await cluster.exec(node.netns, [save, '-t', 'nat']), DEFAULT_IPTABLES_CHAIN, family);
  return { exists: saved.chainExists, mappings: saved.mappings };
}

/** One UDP conntrack entry of the node, as `conntrack -L` shows it. */
export interface UdpFlow {
  /** Original direction: the client's address and source port. */
  readonly src: string;
  readonly sport: number;
  /** Reply direction's source: the node itself when the flow was not DNATed, else the pod. */
  readonly replySrc: string;
}

const FLOW = /src=(\S+) dst=\S+ sport=(\d+) dport=\d+ .*?src=(\S+) dst=\S+ sport=\d+ dport=\d+/;

/** The node's UDP conntrack entries whose original destination port is `nodePort`. */
export async function udpFlows(cluster: Cluster, node: ClusterNode, nodePort: number): Promise<UdpFlow[]> {
  const out = await cluster.exec(node.netns, ['conntrack', '-L', '-p', 'udp', '--orig-port-dst', String(nodePort)]);
  return out
    .split('\n')
    .map((line) => FLOW.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ src: m[1]!, sport: Number(m[2]), replySrc: m[3]! }));
}
