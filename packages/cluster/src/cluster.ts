import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, VersionApi } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { controlPlaneBinaries, packageDir, podnetBinary, type ControlPlaneBinaries } from './binaries.js';
import { controlPlaneControl, type ControlPlaneControl } from './controlplane-control.js';
import { apiserverURL, startApiserver, startControllers, startEtcd, type ControlPlaneFiles } from './controlplane.js';
import { ClusterError } from './errors.js';
import { ensureAlive, waitFor } from './health.js';
import { writeKubeconfig } from './kubeconfig.js';
import { clusterLayout, DEFAULT_IP_FAMILY, podNetnsName, validateIPFamily, validateName, validateNodeCount, type ClusterLayout, type IPFamilyMode } from './layout.js';
import { createClusterNetwork, deleteClusterNetwork, execInNetns } from './network.js';
import { addExternalIP, defaultExternalIP, readExternalIPs, readHiddenInternalIPs, removeExternalIP, requireIPv4ForExternalIPs, validateExternalIP, writeHiddenInternalIPs } from './node-address.js';
import { createPki, type ClientIdentity, type Pki } from './pki.js';
import { isAlive, processesMentioning, spawnDaemon, stopProcesses } from './processes.js';
import { listNetns } from './run.js';
import { claimSlot, clusterDir, readState, releaseSlot, slotOf, writeState, type ClusterState } from './state.js';
import { resolveNodeProcesses } from './service-accounts.js';
import { controllerReplicas, startBigip, startControllers as startControllerReplicas, type BigipAccess, type ControllerOptions, type ControllerReplicas } from './controller-process.js';
import type { NodeProcessSpec, StandinConfig } from './standin/config.js';

export interface ClusterNode {
  readonly name: string;
  /** Primary InternalIP of the node, on the cluster bridge: IPv4, unless the cluster is IPv6-only. */
  readonly ip: string;
  /** InternalIPs, primary family first (one per family of the cluster). */
  readonly ips: readonly string[];
  /** The IPv6 InternalIP, when the cluster has IPv6. */
  readonly ipv6?: string;
  /** Name of the node's network namespace (`ip netns exec <netns> ...`). */
  readonly netns: string;
  /** Primary-family podCIDR. */
  readonly podCIDR: string;
  /** spec.podCIDRs, primary family first. */
  readonly podCIDRs: readonly string[];
}

export interface StartOptions {
  /** 1-12 of [a-z0-9], starting with a letter. Default `local`. */
  readonly name?: string;
  /** 1-8 nodes. Default 2. */
  readonly nodes?: number;
  /** Address families: `dual` (default; IPv4 primary), `ipv4` or `ipv6` (IPv6 only, control plane included). */
  readonly ipFamily?: IPFamilyMode;
  /** Per-node processes run by the stand-in inside each node namespace, restarted on exit. */
  readonly nodeProcesses?: readonly NodeProcessSpec[];
  /**
   * Give every node an ExternalIP, 203.0.113.(16·slot + index), on its namespace and routed from
   * the outside namespace; the Node reports it before its InternalIPs. Default false. ExternalIPs are
   * IPv4: with ipFamily `ipv6` this throws NPL_CLUSTER_ADDRESS_INVALID before anything is started.
   */
  readonly externalIPs?: boolean;
  /**
   * Also run the BIG-IP emulator and npl-controller (built dist) as host processes: `true` is one
   * replica; `{ replicas: 2 }` runs two with leader election. See controller-process.ts.
   */
  readonly controller?: boolean | ControllerOptions;
  readonly logger?: Logger;
  /** Build progress of the control plane binaries (first build: minutes). */
  readonly onProgress?: (line: string) => void;
}

/** A running local cluster. */
export interface Cluster {
  readonly name: string;
  readonly dir: string;
  readonly kubeconfigPath: string;
  /** Admin (system:masters) client configuration. */
  readonly kubeConfig: KubeConfig;
  readonly server: string;
  readonly nodes: readonly ClusterNode[];
  /** Namespace of the external client: reaches node IPs, not pod IPs. */
  readonly outsideNetns: string;
  /** The outside namespace's primary address. */
  readonly outsideIP: string;
  /** Its IPv6 address, when the cluster has IPv6. */
  readonly outsideIPv6?: string;
  readonly ipFamily: IPFamilyMode;
  readonly layout: ClusterLayout;
  /** Runs a command inside a network namespace; resolves with its stdout, rejects on failure. */
  exec(netns: string, cmd: readonly string[]): Promise<string>;
  /** Network namespace name of the (non-hostNetwork) pod with this UID. */
  podNetns(podUID: string): string;
  /**
   * Re-addresses a running node as a host whose address changed: `externalIP` replaces the node's
   * ExternalIPs (null removes them; 203.0.113.0/24 or 198.51.100.0/24), moves the outside
   * namespace's route, and makes the node stand-in post the Node status at once. Resolves when the
   * Node object shows the new addresses. Throws NPL_CLUSTER_ADDRESS_INVALID for a bad address or
   * an unknown node or an ExternalIP on an IPv6-only cluster, NPL_CLUSTER_NOT_RUNNING when the node
   * stand-in is not running. `internalIPv6: false` makes the Node stop reporting its IPv6 InternalIP
   * (the address stays on the node's namespace; a dual-stack node as seen after losing its IPv6
   * --node-ip), `true` reports it again; NPL_CLUSTER_ADDRESS_INVALID on a cluster without IPv6.
   * Changing the InternalIP is not supported.
   */
  setNodeAddress(node: string, change: NodeAddressChange): Promise<void>;
  /** kubectl of the cluster's Kubernetes version (absent for a cluster started before it was built). */
  readonly kubectl?: string;
  /** With `controller`: the emulated BIG-IP (URL, CA file, its local test account, partition). */
  readonly bigip?: BigipAccess;
  /** With `controller`: stop/start each controller replica, its health URL. */
  readonly controllers?: ControllerReplicas;
  /** Stop/start or freeze/thaw the API server or etcd, for chaos tests (see controlplane-control.ts). */
  readonly controlPlane: ControlPlaneControl;
  /** Same as stopCluster(name). */
  stop(): Promise<void>;
}

export interface NodeAddressChange {
  /** The node's new ExternalIP; null removes every ExternalIP; undefined leaves them. */
  readonly externalIP?: string | null;
  /** false: the Node stops reporting its IPv6 InternalIP; true: reports it again; undefined leaves it. */
  readonly internalIPv6?: boolean;
}

export interface ClusterStatus {
  readonly name: string;
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly nodes: readonly ClusterNode[];
  readonly outsideNetns: string;
  readonly outsideIP: string;
  readonly outsideIPv6?: string;
  readonly ipFamily: IPFamilyMode;
  /** Service ranges, primary first. */
  readonly serviceCIDRs: readonly string[];
  /** Each daemon by role with whether it is alive. */
  readonly processes: Record<string, { pid: number; alive: boolean }>;
  /** True when every recorded daemon is alive. */
  readonly running: boolean;
  /** kubectl of the cluster's Kubernetes version. */
  readonly kubectl?: string;
  /** With `--controller`: the emulated BIG-IP. */
  readonly bigip?: BigipAccess;
}

const DEFAULT_NAME = 'local';

function defaultLogger(): Logger {
  return pino({ level: process.env.NPL_LOG_LEVEL ?? 'info' }, pino.destination(2));
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new ClusterError('NPL_CLUSTER_NOT_ROOT', 'the local cluster needs root: it creates network namespaces, veths and a bridge');
  }
}

function nodesOf(layout: ClusterLayout): ClusterNode[] {
  return layout.nodes.map((n) => ({
    name: n.name,
    ip: n.ip,
    ips: n.ips,
    ...(n.ipv6 ? { ipv6: n.ipv6 } : {}),
    netns: n.netns,
    podCIDR: n.podCIDR,
    podCIDRs: n.podCIDRs,
  }));
}

function outsideOf(layout: ClusterLayout): Pick<Cluster, 'outsideNetns' | 'outsideIP' | 'outsideIPv6' | 'ipFamily'> {
  const o = layout.outside;
  return { outsideNetns: o.netns, outsideIP: o.ip, ...(o.ipv6 ? { outsideIPv6: o.ipv6 } : {}), ipFamily: layout.ipFamily };
}

function identities(layout: ClusterLayout): ClientIdentity[] {
  return [
    { id: 'admin', cn: 'npl-admin', org: 'system:masters' },
    { id: 'controller-manager', cn: 'system:kube-controller-manager' },
    { id: 'scheduler', cn: 'system:kube-scheduler' },
    ...layout.nodes.map((n) => ({ id: `node-${n.name}`, cn: `system:node:${n.name}`, org: 'system:nodes' })),
  ];
}

/** Command line that runs the stand-in from the same form (sources or dist) as this module. */
function standinCommand(configPath: string): string[] {
  const here = fileURLToPath(import.meta.url);
  // A bounded heap keeps the stand-in small under load (hundreds of pods): garbage from the
  // many `ip` invocations is collected instead of growing the heap.
  const heap = '--max-old-space-size=256';
  if (here.endsWith('.ts')) {
    return [
      heap,
      '--disable-warning=ExperimentalWarning',
      '--import',
      path.join(packageDir, 'bin', 'ts-hooks.mjs'),
      path.join(path.dirname(here), 'standin', 'main.ts'),
      configPath,
    ];
  }
  return [heap, path.join(path.dirname(here), 'standin', 'main.js'), configPath];
}

async function writeKubeconfigs(layout: ClusterLayout, dir: string, pki: Pki): Promise<Record<string, string>> {
  const server = apiserverURL(layout);
  const out: Record<string, string> = {};
  await Promise.all(
    Object.entries(pki.clients).map(async ([id, c]) => {
      const file = id === 'admin' ? path.join(dir, 'kubeconfig') : path.join(dir, 'kubeconfigs', `${id}.kubeconfig`);
      out[id] = await writeKubeconfig(file, { clusterName: `npl-${layout.name}`, server, caCert: pki.caCert, user: id, cert: c.cert, key: c.key });
    }),
  );
  return out;
}

async function prepare(layout: ClusterLayout, dir: string, opts: StartOptions, log: Logger) {
  const onProgress = opts.onProgress ?? ((line: string) => log.info({ line }, 'control plane binaries'));
  const [bins, podnet, pki] = await Promise.all([
    controlPlaneBinaries(onProgress),
    podnetBinary(),
    createPki(
      path.join(dir, 'pki'),
      {
        ips: [...layout.nets.flatMap((n) => [n.bridgeIP, n.kubernetesServiceIP]), '127.0.0.1'],
        dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
      },
      identities(layout),
    ),
    createClusterNetwork(layout),
  ]);
  return { bins, podnet, pki };
}

async function waitNodesReady(kc: KubeConfig, layout: ClusterLayout, standinPid: number, dir: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(
    `${layout.nodes.length} Ready node(s)`,
    async () => {
      await ensureAlive(standinPid, 'the node stand-in', path.join(dir, 'logs', 'standin.log'));
      const list = await core.listNode();
      const ready = list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length >= layout.nodes.length;
    },
    60_000,
    async () => (await readFile(path.join(dir, 'logs', 'standin.log'), 'utf8').catch(() => '')).split('\n').slice(-15).join('\n'),
  );
  await waitFor(
    'the default ServiceAccount',
    async () => {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return true;
    },
    60_000,
  );
}

/** Makes the node stand-in post every Node's status now. */
async function signalStandin(layout: ClusterLayout, nodeName: string): Promise<void> {
  const standin = (await readState(layout.name))?.pids.standin;
  if (standin === undefined || !isAlive(standin)) {
    throw new ClusterError('NPL_CLUSTER_NOT_RUNNING', `cluster ${layout.name}: the node stand-in is not running, so node ${nodeName} cannot report its addresses (cluster up again)`);
  }
  process.kill(standin, 'SIGHUP');
}

/** See Cluster.setNodeAddress (`internalIPv6`). */
async function setInternalIPv6(layout: ClusterLayout, kc: KubeConfig, node: ClusterLayout['nodes'][number], report: boolean): Promise<void> {
  const ipv6 = node.ips.find((ip) => ip.includes(':'));
  if (!ipv6 || !node.ips.some((ip) => !ip.includes(':'))) {
    throw new ClusterError('NPL_CLUSTER_ADDRESS_INVALID', `cluster ${layout.name}: internalIPv6: node ${node.name} is not dual-stack (InternalIPs ${node.ips.join(', ')}); use ipFamily "dual"`);
  }
  const dir = clusterDir(layout.name);
  const hidden = (await readHiddenInternalIPs(dir, node.name)).filter((ip) => ip !== ipv6);
  await writeHiddenInternalIPs(dir, node.name, report ? hidden : [...hidden, ipv6]);
  await signalStandin(layout, node.name);
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(
    `node ${node.name} ${report ? 'reporting' : 'not reporting'} InternalIP ${ipv6}`,
    async () => {
      const n = await core.readNode({ name: node.name });
      return (n.status?.addresses ?? []).some((a) => a.type === 'InternalIP' && a.address === ipv6) === report;
    },
    30_000,
  );
}

/** See Cluster.setNodeAddress. */
async function setNodeAddress(layout: ClusterLayout, kc: KubeConfig, nodeName: string, change: NodeAddressChange): Promise<void> {
  const node = layout.nodes.find((n) => n.name === nodeName);
  if (!node) throw new ClusterError('NPL_CLUSTER_ADDRESS_INVALID', `cluster ${layout.name}: no node ${JSON.stringify(nodeName)}`);
  if (change.internalIPv6 !== undefined) await setInternalIPv6(layout, kc, node, change.internalIPv6);
  if (change.externalIP === undefined) return;
  if (change.externalIP !== null) {
    validateExternalIP(nodeName, change.externalIP);
    requireIPv4ForExternalIPs(layout.name, layout.ipFamily);
  }
  for (const old of await readExternalIPs(node.netns)) {
    if (old !== change.externalIP) await removeExternalIP(layout, node, old);
  }
  if (change.externalIP !== null) await addExternalIP(layout, node, change.externalIP);
  await signalStandin(layout, nodeName);
  const want = change.externalIP === null ? [] : [change.externalIP];
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(
    `node ${nodeName} reporting ExternalIP ${JSON.stringify(want)}`,
    async () => {
      const n = await core.readNode({ name: nodeName });
      const got = (n.status?.addresses ?? []).filter((a) => a.type === 'ExternalIP').map((a) => a.address);
      return JSON.stringify(got) === JSON.stringify(want);
    },
    30_000,
  );
}

function makeCluster(layout: ClusterLayout, dir: string, kubeconfigPath: string, extra: Pick<ClusterState, 'kubectl' | 'controller'> = {}): Cluster {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const { kubectl, controller } = extra;
  return {
    ...(kubectl ? { kubectl } : {}),
    ...(controller ? { bigip: controller.bigip, controllers: controllerReplicas(layout.name, dir, controller) } : {}),
    name: layout.name,
    dir,
    kubeconfigPath,
    kubeConfig,
    server: apiserverURL(layout),
    nodes: nodesOf(layout),
    ...outsideOf(layout),
    layout,
    exec: (netns, cmd) => execInNetns(netns, cmd),
    podNetns: (uid) => podNetnsName(layout, uid),
    setNodeAddress: (node, change) => setNodeAddress(layout, kubeConfig, node, change),
    controlPlane: controlPlaneControl({ name: layout.name, dir, server: apiserverURL(layout), etcdClientURL: `http://127.0.0.1:${layout.ports.etcdClient}` }),
    stop: () => stopCluster(layout.name),
  };
}

/**
 * Starts cluster `name` (first removing leftovers of an earlier one of that name): network,
 * PKI, etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the node stand-in. Resolves
 * when every node is Ready and the `default` ServiceAccount exists. On failure everything made so
 * far is removed (unless NPL_CLUSTER_KEEP_ON_FAILURE=1) and the error is rethrown.
 */
export async function startCluster(opts: StartOptions = {}): Promise<Cluster> {
  requireRoot();
  const name = validateName(opts.name ?? DEFAULT_NAME);
  const nodeCount = validateNodeCount(opts.nodes ?? 2);
  const ipFamily = validateIPFamily(opts.ipFamily ?? DEFAULT_IP_FAMILY);
  if (opts.externalIPs) requireIPv4ForExternalIPs(name, ipFamily);
  const log = opts.logger ?? defaultLogger();
  await stopCluster(name);
  const dir = clusterDir(name);
  await mkdir(path.join(dir, 'logs'), { recursive: true });
  await mkdir(path.join(dir, 'kubeconfigs'), { recursive: true });
  const slot = await claimSlot(name);
  const layout = clusterLayout(name, slot, nodeCount, ipFamily);
  // The slot is ours now: links of a crashed cluster that held it before go first.
  await deleteClusterNetwork(layout);
  const kubeconfigPath = path.join(dir, 'kubeconfig');
  const state: ClusterState = { name, slot, nodeCount, ipFamily, dir, kubeconfigPath, pids: {}, createdAt: new Date().toISOString() };
  await writeState(state);
  try {
    const { bins, podnet, pki } = await prepare(layout, dir, opts, log);
    if (opts.externalIPs) await Promise.all(layout.nodes.map((n) => addExternalIP(layout, n, defaultExternalIP(slot, n.index))));
    state.kubectl = bins.kubectl;
    const kubeconfigs = await writeKubeconfigs(layout, dir, pki);
    await startControlPlane(bins, layout, { dir, pki, kubeconfigs: { 'controller-manager': kubeconfigs['controller-manager']!, scheduler: kubeconfigs.scheduler! } }, state, log);
    const cluster = makeCluster(layout, dir, kubeconfigPath, { kubectl: bins.kubectl });
    const version = await cluster.kubeConfig.makeApiClient(VersionApi).getCode();
    const cfg: StandinConfig = {
      cluster: name,
      dir,
      podnet,
      podNetnsPrefix: layout.podNetnsPrefix,
      kubeletVersion: version.gitVersion,
      nodes: layout.nodes.map((n) => ({
        name: n.name,
        ip: n.ip,
        ips: n.ips,
        netns: n.netns,
        podCIDR: n.podCIDR,
        podCIDRs: n.podCIDRs,
        kubeconfig: kubeconfigs[`node-${n.name}`]!,
      })),
      nodeProcesses: await resolveNodeProcesses(cluster.kubeConfig, opts.nodeProcesses ?? [], { dir, server: cluster.server, caCertFile: pki.caCert }),
    };
    const cfgPath = path.join(dir, 'standin.json');
    await writeFile(cfgPath, JSON.stringify(cfg, null, 2));
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    state.pids.standin = spawnDaemon({ command: process.execPath, args: standinCommand(cfgPath), logFile: path.join(dir, 'logs', 'standin.log'), env });
    await writeState(state);
    await waitNodesReady(cluster.kubeConfig, layout, state.pids.standin, dir);
    await startBigipAndControllers(cluster, state, pki.caCert, opts.controller);
    log.info({ cluster: name, kubeconfig: kubeconfigPath, nodes: layout.nodes.length }, 'cluster ready');
    return makeCluster(layout, dir, kubeconfigPath, state);
  } catch (err) {
    if (process.env.NPL_CLUSTER_KEEP_ON_FAILURE !== '1') await stopCluster(name).catch(() => undefined);
    throw err;
  }
}

/** `StartOptions.controller`: the emulator, then the controller replicas; recorded in the state. */
async function startBigipAndControllers(cluster: Cluster, state: ClusterState, caCertFile: string, option: StartOptions['controller']): Promise<void> {
  if (!option) return;
  const bigip = await startBigip(cluster.layout, cluster.dir, state);
  const opts = option === true ? {} : option;
  state.controller = await startControllerReplicas({ kubeConfig: cluster.kubeConfig, layout: cluster.layout, dir: cluster.dir, server: cluster.server, caCertFile, state, bigip }, opts);
  await writeState(state);
}

async function startControlPlane(bins: ControlPlaneBinaries, layout: ClusterLayout, files: ControlPlaneFiles, state: ClusterState, log: Logger): Promise<void> {
  const t0 = Date.now();
  state.pids.etcd = await startEtcd(bins, layout, files);
  await writeState(state);
  const apiserverStart = startApiserver(bins, layout, files);
  state.pids.apiserver = await apiserverStart;
  await writeState(state);
  const { kcm, scheduler } = startControllers(bins, layout, files);
  state.pids['controller-manager'] = kcm;
  state.pids.scheduler = scheduler;
  await writeState(state);
  log.info({ ms: Date.now() - t0 }, 'control plane started');
}

/**
 * Stops cluster `name` and removes every process, network namespace, link and file it made,
 * including leftovers of a crashed run. Idempotent: succeeds when nothing exists.
 */
export async function stopCluster(name: string = DEFAULT_NAME): Promise<void> {
  requireRoot();
  validateName(name);
  const dir = clusterDir(name);
  const state = await readState(name);
  const pids = new Set<number>(Object.values(state?.pids ?? {}));
  for (const p of await processesMentioning(`${dir}/`)) pids.add(p);
  // The stand-in first (it holds the pod listeners), then the control plane.
  await stopProcesses([...pids]);
  const slot = state?.slot ?? (await slotOf(name));
  const netnsPrefix = `npl-${name}-`;
  if (slot !== undefined) await deleteClusterNetwork({ netnsPrefix, slot });
  else await deleteClusterNetwork({ netnsPrefix, slot: 0 });
  await rm(dir, { recursive: true, force: true });
  await releaseSlot(name);
}

/** The state of cluster `name`, or undefined when it does not exist. */
export async function clusterStatus(name: string = DEFAULT_NAME): Promise<ClusterStatus | undefined> {
  validateName(name);
  const state = await readState(name);
  if (!state) return undefined;
  const layout = layoutOf(state);
  const processes: Record<string, { pid: number; alive: boolean }> = {};
  for (const [role, pid] of Object.entries(state.pids)) processes[role] = { pid, alive: isAlive(pid) };
  const netns = new Set(await listNetns().catch(() => [] as string[]));
  return {
    name,
    dir: state.dir,
    kubeconfigPath: state.kubeconfigPath,
    server: apiserverURL(layout),
    nodes: nodesOf(layout),
    ...outsideOf(layout),
    serviceCIDRs: layout.serviceCIDRs,
    processes,
    ...(state.kubectl ? { kubectl: state.kubectl } : {}),
    ...(state.controller ? { bigip: state.controller.bigip } : {}),
    running: Object.keys(processes).length >= 5 && Object.values(processes).every((p) => p.alive) && layout.nodes.every((n) => netns.has(n.netns)),
  };
}

/** Attaches to a running cluster started elsewhere (e.g. by the CLI or a Jest global set-up). */
export async function attachCluster(name: string = DEFAULT_NAME): Promise<Cluster> {
  const state = await readState(validateName(name));
  if (!state) throw new ClusterError('NPL_CLUSTER_NOT_FOUND', `cluster ${name}: no state in ${clusterDir(name)}`);
  return makeCluster(layoutOf(state), state.dir, state.kubeconfigPath, state);
}

/** The layout a state file describes; a state written before dual-stack (no ipFamily) was IPv4-only. */
function layoutOf(state: ClusterState): ClusterLayout {
  return clusterLayout(state.name, state.slot, state.nodeCount, state.ipFamily ?? 'ipv4');
}
