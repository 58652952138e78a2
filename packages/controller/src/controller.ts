/**
 * Wires one controller as a Manager (@npl/runtime) with runnables in this order (stopped in
 * reverse): `health` (/healthz, /readyz, /metrics), `informers` (Services, Pods, EndpointSlices
 * listed), the leader gate (a Lease, unless --leader-elect=false), then, only while leader,
 * `sync-engine` (cluster cache -> desired state -> backend -> BIG-IP, with Events) and `resync`
 * (the periodic full sync). A standby keeps its caches warm and is ready, but never writes to the
 * BIG-IP nor records Events. See docs/adr/0003 and 0005.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Clock, EventRecorder, LeaderGate, LeaseClient, Runnable, ServerRunnable } from '@npl/runtime';
import { ApiEventRecorder, apiServerReachability, createHealthServer, defaultLeaderIdentity, kubeLeaseClient, LeaderElector, Manager, periodicRunnable, realClock, reuseConnections, serverRunnable, untilAborted } from '@npl/runtime';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { As3Backend } from './as3/backend.js';
import type { Backend } from './backend/types.js';
import { BigipClient } from './bigip/client.js';
import type { ControllerConfig } from './config.js';
import { credentialsReader } from './credentials.js';
import { desiredState } from './desired.js';
import { SyncEngine } from './engine.js';
import { ControllerError } from './errors.js';
import { IcontrolBackend } from './icontrol/backend.js';
import type { ClusterSources } from './kube/cache.js';
import { ClusterCache } from './kube/cache.js';
import { ServiceEvents } from './kube/events.js';
import type { ControllerMetrics } from './metrics.js';
import { createControllerMetrics } from './metrics.js';
import type { DesiredState } from './model.js';

export const COMPONENT = 'npl-controller';

/** The runnables in start order with leader election on (`leader-election` is absent when it is off, `resync` when its period is 0). */
export const CONTROLLER_RUNNABLES = ['health', 'informers', 'leader-election', 'sync-engine', 'resync'] as const;

/** Where a pod finds its own namespace when POD_NAMESPACE is not set. */
export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** Seams for tests; everything else is built from the config. */
export interface ControllerDeps {
  readonly kubeConfig?: KubeConfig;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** List-watch sources instead of the API server's. */
  readonly sources?: ClusterSources;
  /** Event recorder instead of the API server's. */
  readonly events?: EventRecorder;
  /** A leader gate instead of a LeaderElector (tests: FakeLeaderGate). */
  readonly leaderGate?: LeaderGate;
  /** The Lease client of the LeaderElector instead of the API server's (tests: FakeLeaseStore). */
  readonly lease?: LeaseClient;
  /** This process's identity in the Lease. Default hostname_uuid. */
  readonly identity?: string;
  /** Reads the ServiceAccount namespace file. */
  readonly readFile?: (path: string) => string;
  /** Called once when leadership is lost; default: stop the manager. The CLI exits instead. */
  readonly onLeadershipLost?: (err: Error) => void;
  readonly clock?: Clock;
}

export interface RunningController {
  readonly engine: SyncEngine;
  readonly cache: ClusterCache;
  readonly metrics: ControllerMetrics;
  readonly client: BigipClient;
  readonly manager: Manager;
  /** The LeaderElector, when leader election is on and no gate was injected. */
  readonly elector?: LeaderElector;
  readonly health: FastifyInstance;
  /** Address the health server listens on. */
  readonly healthAddress: string;
  /** Resolves once every runnable started (for a standby: once it became leader); rejects when one failed to start or on stop. */
  readonly leading: Promise<void>;
  isLeader(): boolean;
  /** The desired state now (for debugging and tests). */
  desired(): DesiredState;
  /** Stops the runnables in reverse order (a leader releases its Lease) and closes the BIG-IP client. BIG-IP objects stay. */
  stop(): Promise<void>;
}

function loadKubeConfig(config: ControllerConfig, given?: KubeConfig): KubeConfig {
  if (given) return given;
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromCluster();
  return kc;
}

function readCa(file: string | undefined): string | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ControllerError('CTL_CONFIG_INVALID', `--bigip-ca-file (BIGIP_CA_FILE) ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

export function createClient(config: ControllerConfig, logger: Logger, metrics: ControllerMetrics, env: Readonly<Record<string, string | undefined>>): BigipClient {
  if (config.insecure) logger.warn({ url: config.bigipUrl }, 'TLS verification of the BIG-IP is OFF (--bigip-insecure): use only in labs');
  const ca = readCa(config.caFile);
  return new BigipClient({
    url: config.bigipUrl, credentials: credentialsReader(config.credentials, env), insecure: config.insecure, auth: config.auth,
    ...(ca ? { ca } : {}), logger,
    onResponse: (method, status) => metrics.requests.inc({ method, status: String(status) }),
  });
}

export function createBackend(config: ControllerConfig, client: BigipClient, logger: Logger): Backend {
  return config.backend === 'as3'
    ? new As3Backend({ client, partition: config.partition, userAgent: `${COMPONENT}/0.1.0`, logger })
    : new IcontrolBackend({ client, partition: config.partition, logger });
}

/**
 * The Lease's namespace: --leader-election-namespace, else POD_NAMESPACE, else the ServiceAccount's
 * namespace file, else `kube-system` (where manifests/rbac.yaml lets the controller write Leases).
 */
export function leaseNamespace(config: ControllerConfig, env: Readonly<Record<string, string | undefined>>, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): string {
  if (config.leaderElection.namespace) return config.leaderElection.namespace;
  const fromEnv = env.POD_NAMESPACE?.trim();
  if (fromEnv) return fromEnv;
  try {
    const fromFile = read(SERVICE_ACCOUNT_NAMESPACE_FILE).trim();
    if (fromFile) return fromFile;
  } catch {
    // Not in a pod: fall through to the default.
  }
  return 'kube-system';
}

/**
 * The controller's pieces, created but not started: `manager` runs them (see CONTROLLER_RUNNABLES).
 */
export interface ControllerParts {
  readonly config: ControllerConfig;
  readonly metrics: ControllerMetrics;
  readonly client: BigipClient;
  readonly backend: Backend;
  readonly cache: ClusterCache;
  readonly engine: SyncEngine;
  readonly health: FastifyInstance;
  readonly server: ServerRunnable;
  readonly manager: Manager;
  readonly gate?: LeaderGate;
  readonly elector?: LeaderElector;
  /** The desired state now. */
  readonly desired: () => DesiredState;
}

interface Gating {
  readonly gate?: LeaderGate;
  readonly elector?: LeaderElector;
}

function leaderGateOf(config: ControllerConfig, logger: Logger, kc: KubeConfig, metrics: ControllerMetrics, deps: ControllerDeps): Gating {
  const le = config.leaderElection;
  if (!le.enabled) return {};
  if (deps.leaderGate) return { gate: deps.leaderGate };
  const namespace = leaseNamespace(config, deps.env ?? process.env, deps.readFile);
  const elector = new LeaderElector({
    lease: deps.lease ?? kubeLeaseClient(kc, namespace, le.id),
    identity: deps.identity ?? defaultLeaderIdentity(),
    logger, registry: metrics.registry,
    leaseDurationMs: le.leaseDurationMs, renewDeadlineMs: le.renewDeadlineMs, retryPeriodMs: le.retryPeriodMs,
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  return { gate: elector, elector };
}

/** Events only while this process leads (a standby's view of the pools would be stale). */
function leaderOnly(recorder: EventRecorder, gate: LeaderGate | undefined): EventRecorder {
  if (!gate) return recorder;
  return { record: (object, type, reason, message) => (gate.isLeader() ? recorder.record(object, type, reason, message) : undefined) };
}

function engineRunnables(config: ControllerConfig, engine: SyncEngine, gated: boolean, clock: Clock | undefined): Runnable[] {
  const runnables: Runnable[] = [{
    name: 'sync-engine', needsLeadership: gated,
    start: () => {
      engine.start();
      return Promise.resolve();
    },
    stop: () => engine.stop(),
  }];
  if (config.resyncMs > 0) {
    runnables.push(periodicRunnable({
      name: 'resync', intervalMs: config.resyncMs, needsLeadership: gated, ...(clock ? { clock } : {}),
      run: () => {
        engine.trigger();
        return Promise.resolve();
      },
    }));
  }
  return runnables;
}

function cacheRunnable(cache: ClusterCache): Runnable {
  return {
    name: 'informers', group: 'caches',
    start: async (signal) => {
      cache.start();
      await untilAborted(cache.synced(), signal);
    },
    stop: () => cache.stop(),
  };
}

function createCache(config: ControllerConfig, kc: KubeConfig, deps: ControllerDeps, onChange: () => void, logger: Logger): ClusterCache {
  return new ClusterCache({
    // Test sources have no API server to probe; the API server's get its /readyz probe.
    ...(deps.sources ? { sources: deps.sources } : { kubeConfig: kc, reachability: apiServerReachability(kc, deps.clock ?? realClock, logger) }), relistMs: config.relistMs,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(config.namespaces ? { namespaces: config.namespaces } : {}),
    ...(config.namespaceLabelSelector ? { namespaceLabelSelector: config.namespaceLabelSelector } : {}),
    onChange,
    onError: (err, context) => logger.warn({ err: (err as Error).message, context }, 'Kubernetes watch failed; retrying'),
  });
}

function createManager(logger: Logger, gate: LeaderGate | undefined, deps: ControllerDeps): Manager {
  const onLost = deps.onLeadershipLost;
  return new Manager({ logger, ...(gate ? { leaderGate: gate } : {}), ...(deps.clock ? { clock: deps.clock } : {}), ...(onLost ? { onLeadershipLost: onLost } : {}) });
}

export function createController(config: ControllerConfig, logger: Logger, deps: ControllerDeps = {}): ControllerParts {
  const env = deps.env ?? process.env;
  const clock = deps.clock ? { clock: deps.clock } : {};
  const kc = loadKubeConfig(config, deps.kubeConfig);
  // One keep-alive connection pool for the watches, Lease renewals and Events, not a TLS handshake per request.
  if (!reuseConnections(kc)) logger.debug('client-node has no KubeConfig.createDispatcher: API connections are not shared');
  const metrics = createControllerMetrics();
  const client = createClient(config, logger, metrics, env);
  const backend = createBackend(config, client, logger);
  const { gate, elector } = leaderGateOf(config, logger, kc, metrics, deps);
  const recorder =
    deps.events ??
    new ApiEventRecorder({
      core: kc.makeApiClient(CoreV1Api), component: COMPONENT, host: hostname(), ...clock,
      onError: (err) => logger.debug({ err }, 'Event not recorded'),
      onDropped: (reason) => metrics.eventsDropped.inc({ reason }),
    });
  const events = new ServiceEvents(leaderOnly(recorder, gate));
  const cache = createCache(config, kc, deps, () => engine.trigger(), logger);
  const desired = (): DesiredState => {
    const namespaces = cache.watchedNamespaces();
    return desiredState(cache.snapshot(), { partition: config.partition, ...(namespaces ? { namespaces } : {}) });
  };
  // The periodic resync is the `resync` runnable (gated on leadership), not the engine's own timer.
  const engine = new SyncEngine({
    backend, desired, resyncMs: 0, metrics, logger, ...clock,
    onSynced: (d, report) => events.synced(d, report),
    onFailed: (d, err) => events.failed(d, (err as Error).message),
  });
  const health = createHealthServer({
    registry: metrics.registry, logger, liveness: elector ? [elector.healthCheck()] : [],
    checks: [{ name: 'caches', check: () => (cache.hasSynced() ? undefined : 'Services, Pods and EndpointSlices not listed yet') }],
  });
  const server = serverRunnable('health', health, config.healthAddress, '--health-address (NPL_HEALTH_ADDRESS)');
  const manager = createManager(logger, gate, deps);
  for (const r of [server, cacheRunnable(cache), ...engineRunnables(config, engine, gate !== undefined, deps.clock)]) manager.add(r);
  return { config, metrics, client, backend, cache, engine, health, server, manager, desired, ...(gate ? { gate } : {}), ...(elector ? { elector } : {}) };
}

/**
 * Creates the controller and starts its manager; resolves once the health server listens and the
 * caches are synced (a standby is then ready; it syncs BIG-IP only once it leads: see `leading`).
 * Rejects when a runnable before the leader gate fails to start.
 */
export async function startController(config: ControllerConfig, logger: Logger, deps: ControllerDeps = {}): Promise<RunningController> {
  const parts = createController(config, logger, deps);
  const { cache, engine, client, metrics, backend, manager, gate } = parts;
  let stopping = false;
  const leading = manager.start();
  leading.catch((err: unknown) => {
    if (!stopping) logger.error({ err: (err as Error).message }, 'Controller start-up failed');
  });
  await manager.whenStarted('informers');
  logger.info({ backend: backend.kind, partition: config.partition, url: config.bigipUrl, leaderElection: config.leaderElection.enabled }, 'Controller started; syncing BIG-IP once leader');
  return {
    engine, cache, metrics, client, manager, health: parts.health, healthAddress: parts.server.address(), desired: parts.desired, leading,
    ...(parts.elector ? { elector: parts.elector } : {}),
    isLeader: () => (gate ? gate.isLeader() : true),
    stop: async () => {
      stopping = true;
      try {
        await manager.stop();
      } finally {
        await client.close();
      }
    },
  };
}
