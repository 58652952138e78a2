/**
 * Wires one controller: cluster cache -> desired state -> sync engine -> backend -> BIG-IP, with
 * Events, metrics and the health server. Each piece has start/stop; `startController` starts them
 * in order (health, caches, engine) and `stop` ends them in reverse. Leader election is not here:
 * a manager gates `engine` on leadership.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { createHealthServer, parseListenAddress } from '@npl/runtime';
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
import { ClusterCache } from './kube/cache.js';
import { ApiEventRecorder, ServiceEvents } from './kube/events.js';
import type { ControllerMetrics } from './metrics.js';
import { createControllerMetrics } from './metrics.js';
import type { DesiredState } from './model.js';

export const COMPONENT = 'npl-controller';

export interface ControllerDeps {
  readonly kubeConfig?: KubeConfig;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface RunningController {
  readonly engine: SyncEngine;
  readonly cache: ClusterCache;
  readonly metrics: ControllerMetrics;
  readonly client: BigipClient;
  /** Address the health server listens on. */
  readonly healthAddress: string;
  /** The desired state now (for debugging and tests). */
  desired(): DesiredState;
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
 * The controller's pieces, created but not started, each with its own start/stop so a manager can
 * run them in order (health, caches, then the engine, gated on leadership) and stop them in reverse.
 */
export interface ControllerParts {
  readonly config: ControllerConfig;
  readonly metrics: ControllerMetrics;
  readonly client: BigipClient;
  readonly backend: Backend;
  readonly cache: ClusterCache;
  readonly engine: SyncEngine;
  readonly health: FastifyInstance;
  /** The desired state now. */
  readonly desired: () => DesiredState;
}

export function createController(config: ControllerConfig, logger: Logger, deps: ControllerDeps = {}): ControllerParts {
  const env = deps.env ?? process.env;
  const kc = loadKubeConfig(config, deps.kubeConfig);
  const metrics = createControllerMetrics();
  const client = createClient(config, logger, metrics, env);
  const backend = createBackend(config, client, logger);
  const recorder = new ApiEventRecorder({ core: kc.makeApiClient(CoreV1Api), component: COMPONENT, host: hostname(), onError: (err) => logger.debug({ err }, 'Event not recorded') });
  const events = new ServiceEvents(recorder);
  const cache = new ClusterCache({
    kubeConfig: kc, relistMs: config.relistMs,
    ...(config.namespaces ? { namespaces: config.namespaces } : {}),
    ...(config.namespaceLabelSelector ? { namespaceLabelSelector: config.namespaceLabelSelector } : {}),
    onChange: () => engine.trigger(),
    onError: (err, context) => logger.warn({ err: (err as Error).message, context }, 'Kubernetes watch failed; retrying'),
  });
  const desired = (): DesiredState => {
    const namespaces = cache.watchedNamespaces();
    return desiredState(cache.snapshot(), { partition: config.partition, ...(namespaces ? { namespaces } : {}) });
  };
  const engine = new SyncEngine({
    backend, desired, resyncMs: config.resyncMs, metrics, logger,
    onSynced: (d, report) => events.synced(d, report),
    onFailed: (d, err) => events.failed(d, (err as Error).message),
  });
  const health = createHealthServer({
    registry: metrics.registry, logger,
    checks: [
      { name: 'caches', check: () => (cache.hasSynced() ? undefined : 'Services, Pods and EndpointSlices not listed yet') },
      { name: 'bigip', check: () => (engine.lastSuccessAt !== undefined ? undefined : 'no successful BIG-IP sync yet') },
    ],
  });
  return { config, metrics, client, backend, cache, engine, health, desired };
}

/** Creates and starts every piece in order: health server, caches (until listed), engine. */
export async function startController(config: ControllerConfig, logger: Logger, deps: ControllerDeps = {}): Promise<RunningController> {
  const parts = createController(config, logger, deps);
  const { cache, engine, health, client, metrics, backend } = parts;
  const { host, port } = parseListenAddress(config.healthAddress, '--health-address (NPL_HEALTH_ADDRESS)');
  const healthAddress = await health.listen({ host, port });
  cache.start();
  await cache.synced();
  engine.start();
  logger.info({ backend: backend.kind, partition: config.partition, url: config.bigipUrl }, 'Controller started');
  return {
    engine, cache, metrics, client, healthAddress, desired: parts.desired,
    stop: async () => {
      await engine.stop();
      await cache.stop();
      await health.close();
      await client.close();
    },
  };
}
