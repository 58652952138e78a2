/**
 * npl-agent's life cycle: a Manager (@npl/runtime) running runnables in Antrea's start-up order
 * (spec §5): health server, informers synced, node IPs known, mappings restored from annotations
 * (same node ports, sockets held), one full dataplane sync per family with backoff, then workers and
 * the drift-repair loop; stopped in reverse. Rules stay in the kernel when the agent stops, so
 * traffic keeps flowing across restarts and upgrades.
 */
import { readFile } from 'node:fs/promises';
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import type { IPFamily, MappingRules, PortReserver, UnsettledMappings } from '@npl/core';
import { ephemeralOverlap, formatPortRange, IP_FAMILIES, planRestore, PortTable, restoreBackoff } from '@npl/core';
import type { ApiReachability, Clock, EventRecorder, HealthCheck, ListWatchSource, Logger, PeriodicRunnable, Runnable, ServerRunnable } from '@npl/runtime';
import {
  ApiEventRecorder,
  apiServerReachability,
  createHealthServer,
  Informer,
  informersRunnable,
  kubeListWatch,
  Manager,
  periodicRunnable,
  realClock,
  reuseConnections,
  serverRunnable,
  TokenBucket,
  withApiTimeout,
  workersRunnable,
  WorkQueue,
} from '@npl/runtime';
import type { FastifyInstance } from 'fastify';
import type { AgentConfig } from './config.js';
import { NplController } from './controller.js';
import type { Dataplane, DataplaneDrift } from './dataplane/types.js';
import type { ConntrackCleaner } from './dataplane/conntrack.js';
import { CliConntrackCleaner } from './dataplane/conntrack.js';
import { ConntrackCleaningDataplane } from './dataplane/conntrack-dataplane.js';
import { ExecaRunner } from './dataplane/exec.js';
import { createDataplane } from './dataplane/index.js';
import type { FamilyParts } from './families.js';
import { DetachableRules, FamilySync } from './families.js';
import { DataplaneHealth, livenessChecks, readinessChecks, TrackedDataplane } from './health.js';
import type { AnnotationWriter } from './kube/annotation-writer.js';
import { ApiAnnotationWriter, apiMessage } from './kube/annotation-writer.js';
import { registerMappingsRoute } from './mappings-route.js';
import { listInPages, PAGE_SIZE, slimListBody } from './kube/paged-list.js';
import { slimPod, slimService, slimSource } from './kube/slim.js';
import type { AgentMetrics } from './metrics.js';
import { createAgentMetrics } from './metrics.js';
import { SocketPortReserver } from './ports/socket-reserver.js';
import { credentialsSource, loadKubeConfig, NODE_IP_HOST, nodeListenHost, resolveListenAddress, waitForNode } from './startup.js';

/** Seams for tests: everything else is built from the config. */
export interface AgentOverrides {
  readonly kubeConfig?: KubeConfig;
  readonly dataplane?: (family: IPFamily) => Dataplane;
  readonly reserver?: PortReserver;
  readonly clock?: Clock;
  /** Text of net.ipv4.ip_local_port_range; read from /proc when absent. */
  readonly ephemeralRange?: string;
  /** List and watch of this node's Pods, all Services and this Node; built from the kubeconfig when absent. */
  readonly sources?: AgentSources;
  readonly annotations?: AnnotationWriter;
  readonly events?: EventRecorder;
  /**
   * Deletes stale conntrack entries after mapping changes. Default: the `conntrack` CLI, unless
   * `dataplane` is overridden (then none: a test's fake dataplane has no kernel state to clean).
   */
  readonly conntrack?: ConntrackCleaner;
}

export interface AgentSources {
  readonly pods: ListWatchSource<V1Pod>;
  readonly services: ListWatchSource<V1Service>;
  readonly nodes: ListWatchSource<V1Node>;
}

export interface AgentHandle {
  readonly controller: NplController;
  readonly tables: ReadonlyMap<IPFamily, PortTable>;
  readonly dataplanes: ReadonlyMap<IPFamily, Dataplane>;
  readonly metrics: AgentMetrics;
  readonly health: FastifyInstance;
  /** The lifecycle: runnables in start order (see `AGENT_RUNNABLES`). */
  readonly manager: Manager;
  /** Address the health server listens on, e.g. `127.0.0.1:10361`. */
  readonly healthAddress: string;
  /** Resolves once the start-up sync is done and workers run; rejects when a runnable failed to start. */
  readonly ready: Promise<void>;
  isReady(): boolean;
  /** Stop workers, informers and the health server; releases sockets but leaves rules in place. */
  stop(): Promise<void>;
}

/**
 * The agent's runnables in start order (stopped in reverse): Antrea's start-up order with the health
 * server first. `drift-repair` only when --verify-period is not 0. No leadership: one agent per node.
 */
export const AGENT_RUNNABLES = ['health', 'preflight', 'informers', 'node-ips', 'dataplanes', 'restore', 'startup-sync', 'workers', 'drift-repair'] as const;

/** Warn (Antrea #2381) when the NodePortLocal range overlaps the kernel ephemeral range; `text` overrides /proc. */
export async function warnOnEphemeralOverlap(config: AgentConfig, logger: Logger, text?: string): Promise<void> {
  try {
    const raw = text ?? (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'));
    const overlap = ephemeralOverlap(config.portRange, raw);
    if (overlap) {
      logger.warn(
        { portRange: formatPortRange(config.portRange), ephemeral: raw.trim().replace(/\s+/, '-'), overlap: formatPortRange(overlap) },
        'The NodePortLocal port range overlaps net.ipv4.ip_local_port_range: ports the kernel hands to outgoing connections cannot be mapped while in use',
      );
    }
  } catch (err) {
    logger.debug({ err: (err as Error).message }, 'Could not read net.ipv4.ip_local_port_range');
  }
}

interface Informers {
  readonly pods: Informer<V1Pod>;
  readonly services: Informer<V1Service>;
  readonly nodes: Informer<V1Node>;
}

function kubeSources(kc: KubeConfig, config: AgentConfig): AgentSources {
  const core = kc.makeApiClient(CoreV1Api);
  // Each page (and the Node read) has a deadline: a hung API server fails the list, the informer
  // retries. List pages are slimmed before client-node deserializes them (kube/paged-list.ts).
  const timed = withApiTimeout();
  const slimPodPages = withApiTimeout(undefined, { middleware: [slimListBody(slimPod)], middlewareMergeStrategy: 'append' });
  const slimServicePages = withApiTimeout(undefined, { middleware: [slimListBody(slimService)], middlewareMergeStrategy: 'append' });
  // Informers cache slim copies: only the fields the agent reads (kube/slim.ts); lists come in pages.
  return {
    pods: slimSource(
      kubeListWatch(kc, {
        path: '/api/v1/pods',
        fieldSelector: `spec.nodeName=${config.nodeName}`,
        list: (o) => listInPages((c) => core.listPodForAllNamespaces({ ...o, limit: PAGE_SIZE, ...(c ? { _continue: c } : {}) }, slimPodPages), slimPod),
      }),
      slimPod,
    ),
    services: slimSource(
      kubeListWatch(kc, {
        path: '/api/v1/services',
        list: (o) => listInPages((c) => core.listServiceForAllNamespaces({ ...o, limit: PAGE_SIZE, ...(c ? { _continue: c } : {}) }, slimServicePages), slimService),
      }),
      slimService,
    ),
    nodes: kubeListWatch(kc, {
      path: '/api/v1/nodes',
      fieldSelector: `metadata.name=${config.nodeName}`,
      list: (o) => core.listNode(o, timed),
    }),
  };
}

function createInformers(kube: KubeSides, config: AgentConfig, logger: Logger, clock: Clock): Informers {
  const { sources, reachability } = kube;
  const onError = (err: unknown, context: string): void => logger.warn({ err: apiMessage(err), context }, 'Watch failed, relisting with backoff');
  const common = { clock, relistMs: config.relistMs, onError, ...(reachability ? { reachability } : {}) };
  return {
    pods: new Informer<V1Pod>({ ...common, name: 'pods', source: sources.pods }),
    services: new Informer<V1Service>({ ...common, name: 'services', source: sources.services }),
    nodes: new Informer<V1Node>({ ...common, name: 'nodes', source: sources.nodes }),
  };
}

interface KubeSides {
  /** The API server's URL, for messages. */
  readonly server: string;
  readonly sources: AgentSources;
  readonly annotations: AnnotationWriter;
  readonly events: EventRecorder;
  /** Shared by the informers when they use the real API server (absent with overridden sources). */
  readonly reachability?: ApiReachability;
}

function kubeSides(config: AgentConfig, logger: Logger, clock: Clock, metrics: AgentMetrics, overrides: AgentOverrides): KubeSides {
  const { sources, annotations, events } = overrides;
  if (sources && annotations && events) return { server: 'the API server', sources, annotations, events };
  const kc = overrides.kubeConfig ?? loadKubeConfig(config.kubeconfig);
  if (!reuseConnections(kc)) logger.debug('client-node has no KubeConfig.createDispatcher: API connections are not shared');
  const core = kc.makeApiClient(CoreV1Api);
  const bucket = new TokenBucket(config.apiQps, config.apiBurst, clock);
  return {
    server: kc.getCurrentCluster()?.server ?? 'the API server',
    sources: sources ?? kubeSources(kc, config),
    ...(sources ? {} : { reachability: apiServerReachability(kc, clock, logger) }),
    annotations: annotations ?? new ApiAnnotationWriter(core, () => bucket.take()),
    events:
      events ??
      new ApiEventRecorder({
        core,
        component: 'npl-agent',
        host: config.nodeName,
        clock,
        onError: (err) => logger.debug({ err: apiMessage(err) }, 'Could not record Event'),
        onDropped: (reason) => metrics.eventsDropped.inc({ reason }),
      }),
  };
}

interface AgentParts {
  readonly config: AgentConfig;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly overrides: AgentOverrides;
  readonly informers: Informers;
  readonly reachability?: ApiReachability;
  readonly controller: NplController;
  readonly queue: WorkQueue<string>;
  readonly tables: Map<IPFamily, PortTable>;
  readonly dataplanes: Map<IPFamily, TrackedDataplane>;
  readonly annotations: AnnotationWriter;
  readonly events: EventRecorder;
  readonly metrics: AgentMetrics;
  readonly dataplaneHealth: DataplaneHealth;
  readonly families: FamilySync<TrackedDataplane>;
  /** Clock time at which the workers started; set by the workers runnable. */
  workersStartedAt?: number;
  /** The port reserver of every table (one for all families). */
  readonly reserver: PortReserver;
  /** True once the start-up sync has installed the restored mappings. */
  synced: boolean;
}

/** Every address of the Node's status (InternalIP and ExternalIP, both families): the node IPs clients may use. */
export function nodeAddressList(node: V1Node | undefined): string[] {
  return (node?.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a) => a.address);
}

/**
 * Builds one family's dataplane (with conntrack clean-up unless disabled, and health tracking) and
 * its port table, and initialises the dataplane; installs nothing.
 */
function familyFactory(p: Omit<AgentParts, 'families'>): (family: IPFamily) => Promise<FamilyParts<TrackedDataplane>> {
  const { config, logger, overrides, metrics } = p;
  const reserver = p.reserver;
  const cleaner = overrides.conntrack ?? (overrides.dataplane ? undefined : new CliConntrackCleaner(new ExecaRunner()));
  return async (family) => {
    const base = overrides.dataplane?.(family) ?? createDataplane({ kind: config.dataplane, family, table: config.nftTable, chain: config.iptablesChain, logger });
    const inner = cleaner
      ? new ConntrackCleaningDataplane(base, {
          family,
          cleaner,
          logger,
          nodeAddresses: () => nodeAddressList(p.informers.nodes.get(config.nodeName)),
          onCleared: (_f, deleted) => metrics.conntrackDeleted.inc({ family }, deleted),
          onFailed: () => metrics.conntrackFailures.inc({ family }),
        })
      : base;
    const dataplane = new TrackedDataplane(inner, p.dataplaneHealth);
    try {
      await dataplane.init();
    } catch (err) {
      dataplane.close();
      throw err;
    }
    const rules = new DetachableRules(dataplane, family);
    return { dataplane, rules, table: new PortTable({ family, range: config.portRange, reserver, rules }) };
  };
}

/** The start-up steps between caches synced and workers, in Antrea's order. */
function startupRunnables(p: AgentParts, create: (family: IPFamily) => Promise<FamilyParts<TrackedDataplane>>): Runnable[] {
  const { config, logger, clock, controller, tables, dataplanes } = p;
  return [
    { name: 'node-ips', start: (signal) => waitForNodeIPs(controller, logger, clock, signal) },
    {
      name: 'dataplanes',
      async start() {
        for (const family of IP_FAMILIES.filter((f) => controller.nodeIPs()[f])) {
          const parts = await create(family);
          dataplanes.set(family, parts.dataplane);
          tables.set(family, parts.table);
          p.families.adopt(family, parts);
        }
      },
      stop() {
        // Closes our nft sessions only: the rules stay in the kernel so traffic keeps flowing.
        p.families.stop();
        for (const dp of dataplanes.values()) dp.close();
        return Promise.resolve();
      },
    },
    { name: 'restore', start: () => restoreMappings({ informers: p.informers, tables, annotations: p.annotations, logger, config }) },
    {
      name: 'startup-sync',
      async start(signal) {
        await syncWithBackoff(tables, logger, clock, signal);
        p.synced = true;
      },
    },
  ];
}

function agentRunnables(p: AgentParts, server: Runnable, node: (signal: AbortSignal) => Promise<V1Node>, drift: PeriodicRunnable | undefined, create: (family: IPFamily) => Promise<FamilyParts<TrackedDataplane>>): Runnable[] {
  const { config, logger, controller, queue, informers } = p;
  const runnables: Runnable[] = [
    server,
    { name: 'preflight', group: 'servers', start: async (signal) => void (await node(signal)) },
    informersWithProbe(informersRunnable('informers', [informers.pods, informers.services, informers.nodes]), p.reachability),
    ...startupRunnables(p, create),
    workersRunnable({
      name: 'workers',
      queue,
      handle: (key) => controller.syncPod(key),
      workers: config.workers,
      onError: (key, err, retryIn) => logger.error({ pod: key, err: (err as Error).message, retryInMs: retryIn }, 'Error syncing Pod, requeuing'),
      onStarted: () => {
        p.workersStartedAt = p.clock.now();
        p.families.start();
        controller.enqueueAll();
      },
    }),
  ];
  if (drift) runnables.push(drift);
  return runnables;
}

/** The informers' runnable; stopping it also ends the API server probe they share. */
function informersWithProbe(inner: Runnable, reachability: ApiReachability | undefined): Runnable {
  if (!reachability) return inner;
  return {
    ...inner,
    async stop() {
      await reachability.stop();
      await inner.stop?.();
    },
  };
}

/** The drift-repair loop, absent with --verify-period 0. */
function driftRunnable(p: AgentParts): PeriodicRunnable | undefined {
  const { config, logger, clock } = p;
  if (config.verifyMs <= 0) return undefined;
  const deps = { tables: p.tables, dataplanes: p.dataplanes, metrics: p.metrics, logger, events: p.events, nodeName: config.nodeName };
  return periodicRunnable({ name: 'drift-repair', intervalMs: config.verifyMs, clock, run: () => verifyOnce(deps) });
}

/**
 * The Node read once at start-up (waitForNode: retried while waiting can help); memoised so that
 * the health server (when it listens on the node's address) and the preflight share one read.
 */
function nodeReader(config: AgentConfig, logger: Logger, clock: Clock, kube: KubeSides): (signal: AbortSignal) => Promise<V1Node> {
  let pending: Promise<V1Node> | undefined;
  const needAddress = config.healthAddress.startsWith(`${NODE_IP_HOST}:`) && !config.nodeIP;
  return (signal) =>
    (pending ??= waitForNode({
      nodeName: config.nodeName,
      read: async () => (await kube.sources.nodes.list()).items.find((n) => n.metadata?.name === config.nodeName),
      source: credentialsSource(config.kubeconfig),
      server: kube.server,
      clock,
      logger,
      signal,
      needAddress,
    }));
}

/** The health server, listening on --health-address with NODE_IP resolved (from --node-ip, else the Node). */
function healthRunnable(app: FastifyInstance, config: AgentConfig, node: (signal: AbortSignal) => Promise<V1Node>): ServerRunnable {
  let inner: ServerRunnable | undefined;
  return {
    name: 'health',
    group: 'servers',
    async start(signal) {
      const usesNodeIP = config.healthAddress.startsWith(`${NODE_IP_HOST}:`);
      const ip = usesNodeIP ? (config.nodeIP ?? nodeListenHost(await node(signal))) : undefined;
      inner = serverRunnable('health', app, resolveListenAddress(config.healthAddress, ip), '--health-address');
      await inner.start(signal);
    },
    stop: () => inner?.stop?.() ?? Promise.resolve(),
    address: () => inner?.address() ?? config.healthAddress,
  };
}

function failing(checks: readonly HealthCheck[]): boolean {
  return checks.some((c) => c.check() !== undefined);
}

export async function startAgent(config: AgentConfig, logger: Logger, overrides: AgentOverrides = {}): Promise<AgentHandle> {
  const clock = overrides.clock ?? realClock;
  const metrics = createAgentMetrics();
  const kube = kubeSides(config, logger, clock, metrics, overrides);
  const { annotations, events } = kube;
  const informers = createInformers(kube, config, logger, clock);
  const allInformers = [informers.pods, informers.services, informers.nodes] as const;
  const queue = new WorkQueue<string>({ clock });
  const tables = new Map<IPFamily, PortTable>();
  const dataplanes = new Map<IPFamily, TrackedDataplane>();
  const controller = new NplController({
    ...informers,
    nodeName: config.nodeName,
    tables,
    annotations,
    events,
    logger,
    metrics,
    queue,
    // Called on informer events, after `families` below exists.
    onNodeIPsChanged: () => families.trigger(),
  });
  controller.registerHandlers();

  let ready = false;
  let stopping = false;
  const dataplaneHealth = new DataplaneHealth(clock, () => queue.failingKeys());
  const base = { config, logger, clock, overrides, informers, ...(kube.reachability ? { reachability: kube.reachability } : {}), controller, queue, tables, dataplanes, annotations, events, metrics, dataplaneHealth, reserver: overrides.reserver ?? new SocketPortReserver(), synced: false };
  const create = familyFactory(base);
  const families = new FamilySync({
    tables,
    dataplanes,
    nodeIPs: () => controller.nodeIPs(),
    create,
    enqueueAll: () => controller.enqueueAll(),
    clock,
    logger,
    count: (family, op) => (op === 'error' ? metrics.dataplaneErrors.inc() : metrics.familyChanges.inc({ family, op })),
  });
  const parts: AgentParts = { ...base, families };
  const drift = driftRunnable(parts);
  const inputs = {
    clock,
    limits: { unreadyAfterMs: config.unreadyAfterMs, stallMs: config.stallMs },
    informers: allInformers,
    informerNames: ['pods', 'services', 'node'],
    started: () => ready,
    dataplane: dataplaneHealth,
    queue,
    workersStartedAt: () => parts.workersStartedAt,
    ...(drift ? { verifyOverdueMs: () => drift.overdueMs() } : {}),
  };
  const checks = readinessChecks(inputs);
  const liveness = livenessChecks(inputs);
  metrics.registry.onCollect(() => metrics.ready.set(failing(checks) ? 0 : 1));
  const health = createHealthServer({ registry: metrics.registry, checks, liveness, logger });
  registerMappingsRoute(health, {
    nodeName: config.nodeName,
    tables,
    dataplanes,
    pods: informers.pods,
    nodeIPs: () => controller.nodeIPs(),
    synced: () => parts.synced,
    reserver: () => parts.reserver,
  });
  const node = nodeReader(config, logger, clock, kube);
  const server = healthRunnable(health, config, node);
  const manager = new Manager({ logger, clock });
  for (const r of agentRunnables(parts, server, node, drift, create)) manager.add(r);

  await warnOnEphemeralOverlap(config, logger, overrides.ephemeralRange);
  logger.info({ node: config.nodeName, portRange: formatPortRange(config.portRange), dataplane: config.dataplane }, 'Starting NPLController');
  const readyPromise = manager.start().then(() => {
    ready = true;
    logger.info({ families: [...tables.keys()] }, 'NodePortLocal agent is ready');
  });
  readyPromise.catch((err: unknown) => {
    if (!stopping) logger.error({ err: (err as Error).message }, 'Agent start-up failed');
  });
  await manager.whenStarted('health');

  return {
    controller,
    tables,
    dataplanes,
    metrics,
    health,
    manager,
    healthAddress: server.address(),
    ready: readyPromise,
    isReady: () => !failing(checks),
    async stop() {
      stopping = true;
      await manager.stop();
      logger.info('Shutting down NPLController');
    },
  };
}

async function waitForNodeIPs(controller: NplController, logger: Logger, clock: Clock, signal: AbortSignal): Promise<void> {
  let logged = false;
  for (;;) {
    controller.refreshNodeIPs();
    const ips = controller.nodeIPs();
    if (ips.IPv4 || ips.IPv6) {
      logger.info({ nodeIPv4: ips.IPv4, nodeIPv6: ips.IPv6 }, 'Node IPs initialized');
      return;
    }
    if (!logged) logger.warn('Node has no InternalIP or ExternalIP yet, waiting');
    logged = true;
    await clock.sleep(1_000, signal);
  }
}

interface RestoreDeps {
  readonly informers: Informers;
  readonly tables: ReadonlyMap<IPFamily, PortTable>;
  readonly annotations: AnnotationWriter;
  readonly logger: Logger;
  readonly config: AgentConfig;
}

async function restoreMappings({ informers, tables, annotations, logger, config }: RestoreDeps): Promise<void> {
  logger.info('Will fetch Pods and generate NodePortLocal rules for these Pods');
  const pods = informers.pods.list().filter((p) => p.spec?.nodeName === config.nodeName);
  const plan = planRestore(pods, { range: config.portRange, families: [...tables.keys()] });
  for (const r of plan.removeAnnotation) {
    const [ns = '', name = ''] = r.podKey.split('/');
    logger.info({ pod: r.podKey, reason: r.reason, detail: r.detail }, r.reason === 'invalid-annotation' ? 'Found invalid NodePortLocal annotation, removing it' : 'Pod has no IP, removing its NodePortLocal annotation');
    await annotations.write(ns, name, null).catch((err: unknown) => logger.warn({ pod: r.podKey, err: (err as Error).message }, 'Could not remove annotation; the Pod reconcile will retry'));
  }
  for (const s of plan.skipped) logger.info({ pod: s.podKey, index: s.index, reason: s.reason }, 'Not restoring NodePortLocal mapping');
  for (const [family, table] of tables) {
    for (const h of plan.hints[family]) table.hintPort(h.podKey, h.podPort, h.protocol, h.nodePort);
    const result = await table.restore(plan.mappings[family]);
    for (const s of result.skipped) logger.warn({ pod: s.entry.podKey, nodePort: s.entry.nodePort, reason: s.reason, family }, 'Cannot bind to local port, skipping it');
    logger.info({ family, restored: result.restored.length, skipped: result.skipped.length }, 'Restored NodePortLocal mappings');
  }
}

async function syncWithBackoff(tables: ReadonlyMap<IPFamily, PortTable>, logger: Logger, clock: Clock, signal: AbortSignal): Promise<void> {
  logger.info('Starting initialization of NodePortLocal rules and waiting for it to complete');
  await Promise.all(
    [...tables].map(async ([family, table]) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await table.syncAll();
          return;
        } catch (err) {
          const delay = restoreBackoff(attempt, Math.random);
          logger.error({ family, err: (err as Error).message, retryInMs: Math.round(delay) }, 'Failed to restore iptables rules, will retry with backoff');
          await clock.sleep(delay, signal);
        }
      }
    }),
  );
  logger.info('Initialization of NodePortLocal rules successful');
}

interface VerifyDeps {
  readonly tables: ReadonlyMap<IPFamily, PortTable>;
  readonly dataplanes: ReadonlyMap<IPFamily, Dataplane>;
  readonly metrics: AgentMetrics;
  readonly logger: Logger;
  readonly events: EventRecorder;
  readonly nodeName: string;
}

/** Compare each family's dataplane with its table and repair drift (Antrea issue #2210, never done there). */
export async function verifyOnce(deps: VerifyDeps): Promise<number> {
  let repaired = 0;
  for (const [family, table] of deps.tables) {
    const dp = deps.dataplanes.get(family);
    if (!dp) continue;
    try {
      await table.withActiveMappings(async (active, unsettled) => {
        const drift = settledDrift(await dp.verify(active), unsettled);
        if (!drift.tableMissing && drift.missing.length === 0 && drift.unexpected.length === 0 && !drift.staticDrift) return;
        const detail = { family, missing: drift.missing.length, unexpected: drift.unexpected.length, tableMissing: drift.tableMissing, staticDrift: drift.staticDrift };
        deps.logger.warn(detail, 'Dataplane drift found, repairing');
        // Installs in flight are idempotent: kept. Deletions in flight are idempotent too: dropped.
        await dp.repair([...active, ...unsettled.installing]);
        repaired++;
        deps.metrics.dataplaneRepairs.inc({ family });
        deps.events.record(
          { kind: 'Node', apiVersion: 'v1', name: deps.nodeName, uid: deps.nodeName },
          'Warning',
          'NodePortLocalDriftRepaired',
          `${family} NodePortLocal rules differed from the mappings (${drift.missing.length} missing, ${drift.unexpected.length} unexpected${drift.tableMissing ? ', table missing' : ''}${drift.staticDrift ? ', base rules changed' : ''}); repaired`,
        );
      });
    } catch (err) {
      deps.metrics.dataplaneErrors.inc();
      deps.logger.error({ family, err: (err as Error).message }, 'Dataplane check failed, will retry');
    }
  }
  return repaired;
}

/**
 * The drift a check may act on: a rule of a mapping that a worker is installing or deleting right
 * now (outside the table lock) is neither missing nor unexpected, whichever side of its change the
 * kernel was read on. Without this, a check during a burst of adds found their rules "unexpected"
 * and repaired a dataplane that was fine (a spurious NodePortLocalDriftRepaired Event).
 */
export function settledDrift(drift: DataplaneDrift, unsettled: UnsettledMappings): DataplaneDrift {
  const busy = new Set([...unsettled.installing, ...unsettled.defunct].map((m) => `${m.protocol}/${m.nodePort}`));
  if (busy.size === 0) return drift;
  const unexpected = drift.unexpected.filter((m) => !busy.has(`${m.protocol}/${m.nodePort}`));
  const missing = drift.missing.filter((m) => !busy.has(`${m.protocol}/${m.nodePort}`));
  const inSync = missing.length === 0 && unexpected.length === 0 && !drift.staticDrift && !drift.tableMissing;
  return { ...drift, missing, unexpected, inSync };
}

export type { MappingRules };
