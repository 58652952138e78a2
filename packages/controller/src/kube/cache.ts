/**
 * The cluster as the controller reads it: informers on Services, Pods and EndpointSlices of all
 * namespaces (and Namespaces when a label selector restricts them). Every change calls `onChange`;
 * the engine then reads a fresh snapshot, so event types never matter (level-based).
 */
import type { KubeConfig, KubernetesObject, V1EndpointSlice, V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import { CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import type { ApiReachability, BackoffPolicy, Clock, ListWatchSource } from '@npl/runtime';
import { Informer, kubeListWatch } from '@npl/runtime';
import type { ClusterSnapshot } from '../desired.js';
import { ControllerError } from '../errors.js';

/** Where each collection is listed and watched from (the API server unless given, e.g. FakeListWatch in tests). */
export interface ClusterSources {
  readonly services: ListWatchSource<V1Service>;
  readonly pods: ListWatchSource<V1Pod>;
  readonly endpointSlices: ListWatchSource<V1EndpointSlice>;
  /** Only used with `namespaceLabelSelector`; must apply that selector itself. */
  readonly namespaces?: ListWatchSource<V1Namespace>;
}

/** The API server's list-watch of every collection the controller reads. */
export function kubeSources(kc: KubeConfig, namespaceLabelSelector?: string): ClusterSources {
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  return {
    services: kubeListWatch(kc, { path: '/api/v1/services', list: (o) => core.listServiceForAllNamespaces(o) }),
    pods: kubeListWatch(kc, { path: '/api/v1/pods', list: (o) => core.listPodForAllNamespaces(o) }),
    endpointSlices: kubeListWatch(kc, { path: '/apis/discovery.k8s.io/v1/endpointslices', list: (o) => discovery.listEndpointSliceForAllNamespaces(o) }),
    ...(namespaceLabelSelector !== undefined
      ? { namespaces: kubeListWatch(kc, { path: '/api/v1/namespaces', labelSelector: namespaceLabelSelector, list: (o) => core.listNamespace(o) }) }
      : {}),
  };
}

export interface ClusterCacheOptions {
  /** Read through `sources` when given, else through this kubeconfig. One of the two is required. */
  readonly kubeConfig?: KubeConfig;
  readonly sources?: ClusterSources;
  /** Called after any add, update or delete (synchronously; keep it cheap). */
  readonly onChange: () => void;
  readonly onError?: (err: unknown, context: string) => void;
  readonly relistMs?: number;
  /** The informers' retry backoff; default the Informer's (1 s doubling to 30 s, 10% jitter). */
  readonly backoff?: BackoffPolicy;
  readonly clock?: Clock;
  /** Watched namespaces; undefined: all. */
  readonly namespaces?: readonly string[];
  /** Only namespaces with these labels (a Kubernetes label selector). */
  readonly namespaceLabelSelector?: string;
  /**
   * Shared by every informer: an unanswered list or watch starts its /readyz probe and the first
   * success after a failed probe ends every informer's backoff (apiServerReachability, @npl/runtime).
   * The cache owns it: `stop()` also stops the probe.
   */
  readonly reachability?: ApiReachability;
}

export class ClusterCache {
  readonly services: Informer<V1Service>;
  readonly pods: Informer<V1Pod>;
  readonly endpointSlices: Informer<V1EndpointSlice>;
  readonly namespaceObjects: Informer<V1Namespace> | undefined;
  private readonly options: ClusterCacheOptions;

  constructor(options: ClusterCacheOptions) {
    this.options = options;
    const sources = options.sources ?? (options.kubeConfig ? kubeSources(options.kubeConfig, options.namespaceLabelSelector) : undefined);
    if (!sources) throw new ControllerError('CTL_CONFIG_INVALID', 'ClusterCache: a kubeConfig or list-watch sources are required');
    const common = { ...(options.clock ? { clock: options.clock } : {}), ...(options.relistMs !== undefined ? { relistMs: options.relistMs } : {}), ...(options.backoff ? { backoff: options.backoff } : {}), ...(options.onError ? { onError: options.onError } : {}), ...(options.reachability ? { reachability: options.reachability } : {}) };
    this.services = new Informer<V1Service>({ name: 'services', ...common, source: sources.services });
    this.pods = new Informer<V1Pod>({ name: 'pods', ...common, source: sources.pods });
    this.endpointSlices = new Informer<V1EndpointSlice>({ name: 'endpointslices', ...common, source: sources.endpointSlices });
    const namespaces = options.namespaceLabelSelector === undefined ? undefined : sources.namespaces;
    this.namespaceObjects = namespaces === undefined ? undefined : new Informer<V1Namespace>({ name: 'namespaces', ...common, source: namespaces });
    for (const informer of this.informers()) {
      informer.on('add', () => options.onChange());
      informer.on('update', () => options.onChange());
      informer.on('delete', () => options.onChange());
    }
  }

  private informers(): Informer<KubernetesObject>[] {
    return [this.services, this.pods, this.endpointSlices, ...(this.namespaceObjects ? [this.namespaceObjects] : [])] as Informer<KubernetesObject>[];
  }

  start(): void {
    for (const i of this.informers()) i.start();
  }

  async stop(): Promise<void> {
    await this.options.reachability?.stop();
    await Promise.all(this.informers().map((i) => i.stop()));
  }

  /** Resolves once every informer has listed once. */
  async synced(): Promise<void> {
    await Promise.all(this.informers().map((i) => i.synced()));
  }

  hasSynced(): boolean {
    return this.informers().every((i) => i.hasSynced());
  }

  /** The watched namespaces now: the configured list, intersected with the selected ones. */
  watchedNamespaces(): ReadonlySet<string> | undefined {
    const listed = this.options.namespaces ? new Set(this.options.namespaces) : undefined;
    if (!this.namespaceObjects) return listed;
    const selected = this.namespaceObjects.list().map((n) => n.metadata?.name ?? '');
    return new Set(listed ? selected.filter((n) => listed.has(n)) : selected);
  }

  snapshot(): ClusterSnapshot {
    return { services: this.services.list(), pods: this.pods.list(), endpointSlices: this.endpointSlices.list() };
  }
}
