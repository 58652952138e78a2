/**
 * The local cluster as an e2e driver: a real API server, nodes and pods as network namespaces, and
 * npl-agent run from this repository's build inside each node's namespace as the chart's
 * ServiceAccount (`kube-system/npl-agent`, RBAC rendered from charts/npl), configured through the
 * same NPL_* variables the chart sets. Fast; no images, so no chart behaviour (capability `chart`)
 * and no node machine to restart.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Cluster, ClusterNode } from '@npl/cluster';
import { AGENT_IDENTITY, agentCli, agentNodeArgs, agentNodeEnv, CONTROLLER_IDENTITY, serviceAccountKubeconfig, startCluster } from '@npl/cluster';
import { clusterSkipReason } from '@npl/cluster/testing';
import { eventually } from '@npl/runtime';
import type { AgentValues, Capability, Driver, NodeInfo, Origin, Protocol, ServerPodParts, ServerPort } from '../driver.js';

const run = promisify(execFile);
const HEALTH_PORT = 10361;

export interface LocalDriverOptions {
  /** Local cluster name (distinct per test file). */
  readonly name: string;
}

interface AgentProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

export class LocalDriver implements Driver {
  readonly name = 'local';
  readonly capabilities: ReadonlySet<Capability> = new Set<Capability>(['controllerServiceAccount']);
  readonly skipReason = clusterSkipReason;
  readonly layout = { nftTable: 'npl', iptablesChain: 'ANTREA-NODE-PORT-LOCAL' };
  private cluster?: Cluster;
  private values: AgentValues = {};
  private readonly agents = new Map<string, AgentProcess>();
  private agentKubeconfig?: string;

  constructor(private readonly opts: LocalDriverOptions) {}

  private get c(): Cluster {
    if (!this.cluster) throw new Error(`local cluster ${this.opts.name} is not up (see beforeAll)`);
    return this.cluster;
  }

  async up(namespace: string): Promise<void> {
    this.cluster = await startCluster({
      name: this.opts.name,
      nodes: 2,
      logger: pino({ level: process.env.NPL_LOG_LEVEL ?? 'warn' }, pino.destination(2)),
      onProgress: (l) => process.stderr.write(`${l}\n`),
    });
    await this.c.kubeConfig.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  }

  async install(values: AgentValues = {}): Promise<void> {
    this.values = values;
    this.agentKubeconfig = await serviceAccountKubeconfig(this.c, AGENT_IDENTITY);
    for (const node of this.c.nodes) this.startAgent(node);
    for (const node of this.c.nodes) await this.waitReady(node);
  }

  async upgrade(values: AgentValues): Promise<void> {
    this.values = { ...this.values, ...values };
    for (const node of this.c.nodes) {
      await this.stopAgent(node);
      this.startAgent(node);
      await this.waitReady(node);
    }
  }

  async restartAgents(): Promise<void> {
    for (const node of this.c.nodes) await this.stopAgent(node);
    for (const node of this.c.nodes) this.startAgent(node);
    for (const node of this.c.nodes) await this.waitReady(node);
  }

  /** What the chart's pre-delete hook does on each node: stop the agent, then `npl-agent uninstall`. */
  async uninstall(): Promise<void> {
    for (const node of this.c.nodes) await this.stopAgent(node);
    for (const node of this.c.nodes) {
      await run('ip', ['netns', 'exec', node.netns, process.execPath, ...agentNodeArgs(), agentCli(), 'uninstall'], { env: this.agentEnv(node), timeout: 60_000 });
    }
  }

  kubeConfig(): KubeConfig {
    return this.c.kubeConfig;
  }

  nodes(): readonly NodeInfo[] {
    return this.c.nodes.map((n) => ({ name: n.name, ip: n.ip }));
  }

  allNodes(): readonly NodeInfo[] {
    return this.nodes();
  }

  /** The local cluster's pods answer on their declared ports with their name by themselves. */
  serverPod(ports: readonly ServerPort[]): ServerPodParts {
    return { container: { name: 'server', image: 'npl-e2e/server:1', ports: ports.map((p) => ({ ...p })) }, volumes: [] };
  }

  async execOnNode(node: NodeInfo, cmd: readonly string[]): Promise<string> {
    return this.c.exec(this.netnsOf(node), cmd);
  }

  async request(from: Origin, ip: string, port: number, protocol: Protocol): Promise<string> {
    const netns = await this.originNetns(from);
    const cmd = protocol === 'tcp' ? ['curl', '-s', '-m', '3', `http://${ip}:${port}/`] : ['sh', '-c', `echo ping | timeout 3 nc -u -w1 ${ip} ${port}`];
    try {
      return await this.c.exec(netns, cmd);
    } catch {
      return '';
    }
  }

  async serviceAccountKubeConfig(component: 'agent' | 'controller'): Promise<KubeConfig> {
    const kc = new KubeConfig();
    kc.loadFromFile(await serviceAccountKubeconfig(this.c, component === 'agent' ? AGENT_IDENTITY : CONTROLLER_IDENTITY));
    return kc;
  }

  restartNode(node: NodeInfo): Promise<void> {
    return Promise.reject(new Error(`the local driver cannot restart node ${node.name}: its nodes are namespaces of one host (no capability nodeRestart)`));
  }

  collectLogs(dir: string): Promise<void> {
    const logs = path.join(this.c.dir, 'logs');
    mkdirSync(dir, { recursive: true });
    if (existsSync(logs)) cpSync(logs, dir, { recursive: true });
    return Promise.resolve();
  }

  async down(): Promise<void> {
    for (const node of this.cluster?.nodes ?? []) await this.stopAgent(node);
    await this.cluster?.stop();
    this.cluster = undefined;
  }

  private netnsOf(node: NodeInfo): string {
    const n = this.c.nodes.find((x) => x.name === node.name);
    if (!n) throw new Error(`node ${node.name} is not a node of local cluster ${this.c.name}`);
    return n.netns;
  }

  private async originNetns(from: Origin): Promise<string> {
    if (from.kind === 'outside') return this.c.outsideNetns;
    if (from.kind === 'node') return this.netnsOf(from.node);
    const pod = await this.c.kubeConfig.makeApiClient(CoreV1Api).readNamespacedPod({ namespace: from.namespace, name: from.pod });
    return this.c.podNetns(pod.metadata?.uid ?? '');
  }

  private agentEnv(node: ClusterNode): NodeJS.ProcessEnv {
    const v = this.values;
    return {
      PATH: process.env.PATH,
      ...agentNodeEnv(),
      NODE_NAME: node.name,
      KUBECONFIG: this.agentKubeconfig,
      NPL_HEALTH_ADDRESS: `${node.ip}:${HEALTH_PORT}`,
      NPL_PORT_RANGE: v.portRange ?? '61000-62000',
      NPL_LOG_LEVEL: v.logLevel ?? 'info',
      NPL_VERIFY_PERIOD: v.verifyPeriod ?? '60s',
    };
  }

  private startAgent(node: ClusterNode): void {
    const fd = openSync(path.join(this.c.dir, 'logs', `${node.name}-e2e-agent.log`), 'a');
    const child = spawn('ip', ['netns', 'exec', node.netns, process.execPath, ...agentNodeArgs(), agentCli()], { stdio: ['ignore', fd, fd], env: this.agentEnv(node) });
    closeSync(fd);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.agents.set(node.name, { child, exited });
  }

  private async stopAgent(node: ClusterNode): Promise<void> {
    const agent = this.agents.get(node.name);
    if (!agent) return;
    this.agents.delete(node.name);
    // `ip netns exec` execs the agent, so the child is the agent itself.
    if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill('SIGTERM');
    await agent.exited;
  }

  private async waitReady(node: ClusterNode): Promise<void> {
    await eventually(
      async () => {
        const agent = this.agents.get(node.name);
        if (agent && agent.child.exitCode !== null) throw new Error(`npl-agent on ${node.name} exited with ${agent.child.exitCode} (see ${this.c.dir}/logs)`);
        try {
          return (await fetch(`http://${node.ip}:${HEALTH_PORT}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok;
        } catch {
          return false;
        }
      },
      90_000,
      `npl-agent on ${node.name} ready`,
    );
  }
}
