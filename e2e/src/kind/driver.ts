/**
 * kind as an e2e driver: a multi-node cluster of Docker containers with a real third-party CNI, our
 * images built by scripts/images.sh and loaded into the nodes, and charts/npl installed, upgraded
 * and uninstalled with helm — the way users deploy it. It calls only the scripts of the
 * images/kind/CNI contracts (see scripts.ts); nothing else of theirs.
 *
 * The host's root network namespace is outside the cluster: the node containers' addresses are on
 * the docker network npl-kind-<slot>, whose bridge the host owns, so requests from this process to
 * nodeIP:nodePort come from outside, as a load balancer's would.
 */
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { V1Node } from '@kubernetes/client-node';
import { eventually } from '@npl/runtime';
import type { AgentValues, Capability, Driver, NodeInfo, Origin, Protocol, ServerPodParts, ServerPort } from '../driver.js';
import { required, runCommand, runScript } from './scripts.js';

const REPO_ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const MINUTE = 60_000;
/** Release name and namespace of the chart. */
export const RELEASE = 'npl';
export const RELEASE_NAMESPACE = 'kube-system';
const AGENT_DS = `${RELEASE}-agent`;
const SERVER_CONFIGMAP = 'npl-e2e-server';
const SERVER_SCRIPT = path.join(REPO_ROOT, 'e2e', 'server', 'server.mjs');

export type Cni = 'flannel' | 'kube-router';
export const CNIS: readonly Cni[] = ['flannel', 'kube-router'];

export interface KindDriverOptions {
  readonly cni: Cni;
  /** Address slot 0-7 (docker network npl-kind-<slot>, see the issue 10 address plan). */
  readonly slot: number;
  /** Cluster name; default npl-e2e-<cni>-<slot>. */
  readonly name?: string;
  /** Workers besides the control plane (test pods run on the workers); default 2. */
  readonly workers?: number;
  /** Also install npl-controller (its ServiceAccount and RBAC, for the 403 proofs). Default true. */
  readonly controller?: boolean;
}

/** Where the scripts are: the repository's own, unless an NPL_E2E_* variable points elsewhere. */
export function scriptPaths(env: NodeJS.ProcessEnv = process.env): { images: string; kindDir: string; cniInstall: string } {
  const kindDir = env.NPL_E2E_KIND_DIR ?? path.join(REPO_ROOT, 'e2e', 'kind');
  return {
    images: env.NPL_E2E_IMAGES_SCRIPT ?? path.join(REPO_ROOT, 'scripts', 'images.sh'),
    kindDir,
    cniInstall: env.NPL_E2E_CNI_INSTALL ?? path.join(kindDir, 'cni', 'install.sh'),
  };
}

/** Why kind cannot run here, or undefined: it needs a Docker engine (as root, scripts/docker.sh can start one). */
export function kindSkipReason(): string | undefined {
  if (process.getuid?.() === 0) return undefined;
  const info = spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 });
  return info.status === 0 ? undefined : 'kind needs a Docker engine: `docker info` fails and, not being root, scripts/docker.sh cannot start one';
}

/** The node's InternalIP (IPv4 first). */
function internalIP(n: V1Node): string {
  const ips = (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
  return ips.find((ip) => !ip.includes(':')) ?? ips[0] ?? '';
}

export class KindDriver implements Driver {
  readonly name: string;
  readonly capabilities: ReadonlySet<Capability>;
  readonly skipReason = kindSkipReason();
  readonly layout = { nftTable: 'npl', iptablesChain: 'ANTREA-NODE-PORT-LOCAL' };
  readonly phases: Record<string, number> = {};
  private readonly cluster: string;
  private readonly scripts = scriptPaths();
  private env: NodeJS.ProcessEnv = { ...process.env };
  private kc?: KubeConfig;
  private kubeconfigPath = '';
  private nodeList: NodeInfo[] = [];
  private images: Record<string, string> = {};
  private values: AgentValues = {};

  constructor(private readonly opts: KindDriverOptions) {
    this.name = `kind-${opts.cni}`;
    this.cluster = opts.name ?? `npl-e2e-${opts.cni}-${opts.slot}`;
    const caps: Capability[] = ['nodeRestart', 'chart'];
    if (opts.controller ?? true) caps.push('controllerServiceAccount');
    this.capabilities = new Set(caps);
  }

  private async phase<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const start = Date.now();
    try {
      return await fn();
    } finally {
      this.phases[what] = Date.now() - start;
      process.stderr.write(`[e2e ${this.name}] ${what}: ${((Date.now() - start) / 1000).toFixed(1)} s\n`);
    }
  }

  async up(namespace: string): Promise<void> {
    const docker = await runCommand('bash', ['-c', `source '${REPO_ROOT}/scripts/docker.sh' && npl_ensure_docker >&2 && echo DOCKER_HOST=$DOCKER_HOST`], this.env, 30 * MINUTE, 'docker');
    this.env = { ...this.env, DOCKER_HOST: required(docker, 'DOCKER_HOST', 'scripts/docker.sh') };
    const kindDir = this.scripts.kindDir;
    const nodeImage = await this.phase('node image', () => runScript(path.join(kindDir, 'node-image.sh'), [], this.env, 60 * MINUTE));
    this.env = { ...this.env, NPL_KIND: required(nodeImage, 'NPL_KIND', 'node-image.sh'), NPL_KIND_NODE_IMAGE: required(nodeImage, 'NPL_KIND_NODE_IMAGE', 'node-image.sh') };
    const components = this.capabilities.has('controllerServiceAccount') ? ['agent', 'controller'] : ['agent'];
    this.images = (await this.phase('images', () => runScript(this.scripts.images, components, this.env, 60 * MINUTE))).values;
    required({ values: this.images, stdout: '' }, 'NPL_IMAGE_AGENT', 'scripts/images.sh');
    const created = await this.phase('create cluster', () =>
      runScript(path.join(kindDir, 'create-cluster.sh'), ['--name', this.cluster, '--slot', String(this.opts.slot), '--workers', String(this.opts.workers ?? 2)], this.env, 20 * MINUTE),
    );
    this.kubeconfigPath = required(created, 'KUBECONFIG', 'create-cluster.sh');
    this.kc = new KubeConfig();
    this.kc.loadFromFile(this.kubeconfigPath);
    await this.phase(`CNI ${this.opts.cni}`, () =>
      runScript(this.scripts.cniInstall, ['--kubeconfig', this.kubeconfigPath, '--cni', this.opts.cni, '--name', this.cluster, '--slot', String(this.opts.slot)], this.env, 30 * MINUTE),
    );
    // One `kind load` of both images: one archive per node, their shared layers in it once.
    const refs = ['NPL_IMAGE_AGENT', 'NPL_IMAGE_CONTROLLER'].map((k) => this.images[k]).filter((r): r is string => Boolean(r));
    await this.phase('load images', () => runCommand(this.env.NPL_KIND!, ['load', 'docker-image', ...refs, '--name', this.cluster], this.env, 15 * MINUTE, 'kind load'));
    await this.refreshNodes();
    const core = this.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: SERVER_CONFIGMAP }, data: { 'server.mjs': readFileSync(SERVER_SCRIPT, 'utf8') } } });
  }

  private helmArgs(values: AgentValues): string[] {
    const [repository, tag] = splitImage(this.images.NPL_IMAGE_AGENT!);
    const set = [`agent.image.repository=${repository}`, `agent.image.tag=${tag}`, 'agent.image.pullPolicy=Never'];
    if (values.portRange) set.push(`agent.portRange=${values.portRange}`);
    if (values.logLevel) set.push(`agent.logLevel=${values.logLevel}`);
    if (values.verifyPeriod) set.push(`agent.verifyPeriod=${values.verifyPeriod}`);
    if (this.capabilities.has('controllerServiceAccount')) {
      const [crepo, ctag] = splitImage(this.images.NPL_IMAGE_CONTROLLER!);
      set.push(
        'controller.enabled=true',
        'controller.replicas=1',
        `controller.image.repository=${crepo}`,
        `controller.image.tag=${ctag}`,
        'controller.image.pullPolicy=Never',
        // An address of TEST-NET-1 that nothing answers: these runs prove the controller's
        // ServiceAccount and RBAC, not BIG-IP sync (the local cluster's e2e does that).
        'controller.bigip.url=https://192.0.2.10',
        'controller.bigip.credentials.username=e2e',
        'controller.bigip.credentials.password=e2e-not-a-secret',
      );
    }
    return set.flatMap((s) => ['--set', s]);
  }

  private helm(args: readonly string[], timeoutMs = 15 * MINUTE): Promise<unknown> {
    return runCommand(process.env.NPL_HELM ?? 'helm', [...args, '--kubeconfig', this.kubeconfigPath], this.env, timeoutMs, 'helm');
  }

  private kubectl(args: readonly string[], timeoutMs = 10 * MINUTE): Promise<{ stdout: string }> {
    return runCommand(process.env.NPL_KUBECTL ?? 'kubectl', ['--kubeconfig', this.kubeconfigPath, ...args], this.env, timeoutMs, 'kubectl');
  }

  async install(values: AgentValues = {}): Promise<void> {
    this.values = values;
    await this.helm(['install', RELEASE, path.join(REPO_ROOT, 'charts', 'npl'), '--namespace', RELEASE_NAMESPACE, '--create-namespace', '--wait', '--timeout', '10m', ...this.helmArgs(values)]);
    await this.waitAgentsRolledOut();
  }

  async upgrade(values: AgentValues): Promise<void> {
    this.values = { ...this.values, ...values };
    await this.helm(['upgrade', RELEASE, path.join(REPO_ROOT, 'charts', 'npl'), '--namespace', RELEASE_NAMESPACE, '--wait', '--timeout', '10m', ...this.helmArgs(this.values)]);
    await this.waitAgentsRolledOut();
  }

  async restartAgents(): Promise<void> {
    await this.kubectl(['-n', RELEASE_NAMESPACE, 'rollout', 'restart', `daemonset/${AGENT_DS}`]);
    await this.waitAgentsRolledOut();
  }

  /** Every node runs an agent pod of the DaemonSet's current template, and all are ready. */
  private async waitAgentsRolledOut(): Promise<void> {
    await this.kubectl(['-n', RELEASE_NAMESPACE, 'rollout', 'status', `daemonset/${AGENT_DS}`, '--timeout=10m']);
    const apps = this.kubeConfig().makeApiClient(AppsV1Api);
    await eventually(
      async () => {
        const ds = await apps.readNamespacedDaemonSet({ namespace: RELEASE_NAMESPACE, name: AGENT_DS });
        const s = ds.status;
        return s !== undefined && s.observedGeneration === ds.metadata?.generation && s.desiredNumberScheduled === this.nodeList.length &&
          s.updatedNumberScheduled === s.desiredNumberScheduled && s.numberReady === s.desiredNumberScheduled;
      },
      10 * MINUTE,
      `DaemonSet ${RELEASE_NAMESPACE}/${AGENT_DS} rolled out and ready on ${this.nodeList.length} nodes`,
    );
  }

  async uninstall(): Promise<void> {
    await this.helm(['uninstall', RELEASE, '--namespace', RELEASE_NAMESPACE, '--wait', '--timeout', '10m']);
  }

  kubeConfig(): KubeConfig {
    if (!this.kc) throw new Error(`kind cluster ${this.cluster} is not up (see beforeAll)`);
    return this.kc;
  }

  nodes(): readonly NodeInfo[] {
    return this.nodeList.slice(1);
  }

  allNodes(): readonly NodeInfo[] {
    return this.nodeList;
  }

  private async refreshNodes(): Promise<void> {
    const list = await this.kubeConfig().makeApiClient(CoreV1Api).listNode();
    const nodes = list.items.map((n) => ({ name: n.metadata?.name ?? '', ip: internalIP(n), controlPlane: n.metadata?.labels?.['node-role.kubernetes.io/control-plane'] !== undefined }));
    nodes.sort((a, b) => Number(b.controlPlane) - Number(a.controlPlane) || a.name.localeCompare(b.name));
    this.nodeList = nodes.map(({ name, ip }) => ({ name, ip }));
  }

  serverPod(ports: readonly ServerPort[]): ServerPodParts {
    const tcp = ports.find((p) => (p.protocol ?? 'TCP') === 'TCP');
    return {
      container: {
        name: 'server',
        image: this.images.NPL_IMAGE_AGENT!,
        imagePullPolicy: 'Never',
        command: ['node', '/e2e/server.mjs', 'serve'],
        env: [
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'SERVER_PORTS', value: ports.map((p) => `${(p.protocol ?? 'TCP').toLowerCase()}/${p.containerPort}`).join(' ') },
        ],
        ports: ports.map((p) => ({ ...p })),
        volumeMounts: [{ name: 'server', mountPath: '/e2e', readOnly: true }],
        ...(tcp ? { readinessProbe: { tcpSocket: { port: tcp.containerPort }, periodSeconds: 1 } } : {}),
      },
      volumes: [{ name: 'server', configMap: { name: SERVER_CONFIGMAP } }],
    };
  }

  async execOnNode(node: NodeInfo, cmd: readonly string[]): Promise<string> {
    return (await runCommand('docker', ['exec', node.name, ...cmd], this.env, 2 * MINUTE, 'docker exec')).stdout;
  }

  async request(from: Origin, ip: string, port: number, protocol: Protocol): Promise<string> {
    if (from.kind === 'outside') return protocol === 'tcp' ? httpGet(ip, port) : udpPing(ip, port);
    const cmd =
      from.kind === 'node'
        ? ['docker', 'exec', from.node.name, ...nodeRequest(ip, port, protocol)]
        : [process.env.NPL_KUBECTL ?? 'kubectl', '--kubeconfig', this.kubeconfigPath, 'exec', '-n', from.namespace, from.pod, '-c', 'server', '--', 'node', '/e2e/server.mjs', 'request', protocol, ip, String(port)];
    try {
      return (await runCommand(cmd[0]!, cmd.slice(1), this.env, 30_000, 'request')).stdout;
    } catch {
      return '';
    }
  }

  async serviceAccountKubeConfig(component: 'agent' | 'controller'): Promise<KubeConfig> {
    const admin = this.kubeConfig();
    const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      namespace: RELEASE_NAMESPACE,
      name: `${RELEASE}-${component}`,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const cluster = admin.getCurrentCluster();
    if (!cluster || !token.status?.token) throw new Error(`no token for ServiceAccount ${RELEASE_NAMESPACE}/${RELEASE}-${component}`);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [cluster],
      users: [{ name: component, token: token.status.token }],
      contexts: [{ name: component, cluster: cluster.name, user: component }],
      currentContext: component,
    });
    return kc;
  }

  /** `docker restart` of the node's container; resolves once the Node is Ready again and its agent pod was restarted and is ready. */
  async restartNode(node: NodeInfo): Promise<void> {
    const core = this.kubeConfig().makeApiClient(CoreV1Api);
    const agentOn = async () => (await core.listNamespacedPod({ namespace: RELEASE_NAMESPACE, labelSelector: 'app.kubernetes.io/component=agent', fieldSelector: `spec.nodeName=${node.name}` })).items[0];
    const before = (await agentOn())?.status?.containerStatuses?.[0]?.containerID;
    await runCommand('docker', ['restart', node.name], this.env, 5 * MINUTE, 'docker restart');
    await eventually(
      async () => {
        const n = await core.readNode({ name: node.name });
        const ready = n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        const agent = (await agentOn())?.status?.containerStatuses?.[0];
        return ready && agent?.ready === true && agent.containerID !== before;
      },
      10 * MINUTE,
      `node ${node.name} Ready again with a restarted, ready agent`,
    );
    await this.refreshNodes();
  }

  async collectLogs(dir: string): Promise<void> {
    await runScript(path.join(this.scripts.kindDir, 'export-logs.sh'), ['--name', this.cluster, dir], this.env, 10 * MINUTE);
  }

  async down(): Promise<void> {
    if (process.env.NPL_E2E_KEEP === '1') {
      process.stderr.write(`[e2e ${this.name}] NPL_E2E_KEEP=1: keeping cluster ${this.cluster} (KUBECONFIG=${this.kubeconfigPath})\n`);
      return;
    }
    await runScript(path.join(this.scripts.kindDir, 'delete-cluster.sh'), ['--name', this.cluster, '--slot', String(this.opts.slot)], this.env, 10 * MINUTE);
  }
}

/** "repo:tag" -> [repo, tag] (the repository may hold a registry port: split at the last colon). */
export function splitImage(ref: string): [string, string] {
  const i = ref.lastIndexOf(':');
  if (i <= 0 || ref.slice(i).includes('/')) throw new Error(`image reference ${JSON.stringify(ref)}: expected repository:tag`);
  return [ref.slice(0, i), ref.slice(i + 1)];
}

/** A request from a node's host network: curl for TCP, bash's /dev/udp for UDP (in kind's node image). */
function nodeRequest(ip: string, port: number, protocol: Protocol): string[] {
  if (protocol === 'tcp') return ['curl', '-s', '-m', '3', `http://${ip}:${port}/`];
  return ['bash', '-c', `exec 3<>/dev/udp/${ip}/${port} && echo ping >&3 && timeout 3 head -n 1 <&3`];
}

function httpGet(ip: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: ip, port, path: '/', timeout: 3_000, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
      res.on('error', () => resolve(''));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(''));
  });
}

function udpPing(ip: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    const finish = (answer: string): void => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(''), 3_000);
    socket.on('message', (msg) => finish(msg.toString()));
    socket.on('error', () => finish(''));
    socket.send('ping\n', port, ip);
  });
}
