/**
 * A list-watch cache (client-go's reflector + informer) that never gives up: a failed list or watch
 * is retried with backoff, a 410 Gone relists at once, and a periodic relist repairs whatever a
 * silently stalled watch missed (deletes included: the relist diffs against the cache).
 * Backoff grows over consecutive failures and only resets once a watch has stayed up for
 * `healthyWatchMs`: a watch that fails (or answers 410) right after every successful list backs off
 * like a failing list instead of relisting in a loop (ADR 0007).
 * With a shared `reachability`, a failure the API server did not answer (refused, reset, timed out)
 * starts its probe, a successful list reports the server reachable, and a backoff ends early when the
 * API server is seen to recover (api-reachability.ts), so an outage costs seconds after the server
 * is back, not up to the backoff cap.
 * Handlers are called synchronously and never throw out of the informer.
 */
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { Watch } from '@kubernetes/client-node';
import type { ApiReachability } from './api-reachability.js';
import type { BackoffPolicy } from './backoff.js';
import { backoffDelay } from './backoff.js';
import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import { FailureStreak } from './health.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** The two API calls an informer needs; `kubeListWatch` is the real one, tests may pass their own. */
export interface ListWatchSource<T extends KubernetesObject> {
  list(): Promise<{ items: T[]; resourceVersion: string }>;
  /**
   * Start a watch from `resourceVersion`. `onDone` is called once when it ends: with no error for a
   * normal close, a TimeoutError (name) for a client timeout, the error otherwise. The returned promise
   * resolves once the server answered (response headers); a TimeoutError before that means the server
   * accepted no watch in the client's time (it is down or hung). The returned handle aborts it.
   */
  watch(
    resourceVersion: string,
    onEvent: (type: WatchEventType, obj: T) => void,
    onDone: (err?: unknown) => void,
  ): Promise<{ abort(): void }>;
}

export type InformerEvent = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubernetesObject> {
  readonly name: string;
  readonly source: ListWatchSource<T>;
  readonly clock?: Clock;
  /** Relist period, ms (0 disables). Default 5 min. */
  readonly relistMs?: number;
  /** A list not answered in this time fails (a hung API server), ms (0: wait forever). Default 60 s. */
  readonly listTimeoutMs?: number;
  readonly backoff?: BackoffPolicy;
  /** A watch phase at least this long ends a failure streak (backoff starts again from its first step). Default 10 s. */
  readonly healthyWatchMs?: number;
  /** Shared by the informers of one API server: ends backoffs early when it recovers from an outage. */
  readonly reachability?: Pick<ApiReachability, 'recoveries' | 'unanswered' | 'answered' | 'wait'>;
  /** Called for list/watch failures (the informer retries by itself) and handler exceptions. */
  readonly onError?: (err: unknown, context: string) => void;
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, factor: 2, maxMs: 30_000, jitter: 0.1 };

export function objectKey(obj: KubernetesObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

interface WatchOutcome {
  readonly relist: boolean;
  readonly error?: unknown;
  /** The relist is the periodic one or was asked for by `relistNow` (never throttled). */
  readonly planned?: boolean;
}

export class Informer<T extends KubernetesObject> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: Record<InformerEvent, ((obj: T, old?: T) => void)[]> = {
    add: [],
    update: [],
    delete: [],
  };
  private readonly clock: Clock;
  private readonly abort = new AbortController();
  private syncedFlag = false;
  private resolveSynced!: () => void;
  private readonly syncedPromise = new Promise<void>((r) => (this.resolveSynced = r));
  private running?: Promise<void>;
  private currentWatch?: { abort(): void };
  private lastResourceVersion = '';
  private relistRequested = false;
  /** Relists done so far (the first list included); for metrics and tests. */
  relists = 0;
  /** List/watch failures since the last successful list (a failed watch counts until the relist succeeds). */
  readonly failures: FailureStreak;

  private readonly options: InformerOptions<T>;

  constructor(options: InformerOptions<T>) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.failures = new FailureStreak(this.clock);
  }

  on(event: 'add' | 'delete', fn: (obj: T) => void): void;
  on(event: 'update', fn: (obj: T, old: T) => void): void;
  on(event: InformerEvent, fn: (obj: T, old: T) => void): void {
    this.handlers[event].push(fn as (obj: T, old?: T) => void);
  }

  /** Start listing and watching in the background. Idempotent. */
  start(): void {
    this.running ??= this.run();
  }

  /** Stop and wait for the loop to end. The cache keeps its last content. */
  async stop(): Promise<void> {
    this.abort.abort(new Error(`informer ${this.options.name} stopped`));
    this.currentWatch?.abort();
    await this.running;
  }

  hasSynced(): boolean {
    return this.syncedFlag;
  }

  /** Resolves after the first successful list. */
  synced(): Promise<void> {
    return this.syncedPromise;
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** Cached objects, optionally of one namespace. */
  list(namespace?: string): T[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /** Abort the current watch so the loop relists now (e.g. when a stall is suspected). */
  relistNow(): void {
    this.relistRequested = true;
    this.currentWatch?.abort();
  }

  private async run(): Promise<void> {
    const policy = this.options.backoff ?? DEFAULT_BACKOFF;
    const healthyMs = this.options.healthyWatchMs ?? 10_000;
    // Consecutive list/watch cycles that failed or ended before the watch was healthy.
    let attempt = 0;
    while (!this.abort.signal.aborted) {
      const recoveries = this.recoveries();
      try {
        await this.listOnce();
        const watchStart = this.clock.now();
        const outcome = await this.watchUntilRelist();
        const healthy = this.clock.now() - watchStart >= healthyMs;
        if (healthy) attempt = 0;
        if (outcome.error !== undefined) throw toError(outcome.error);
        // A 410 right after a list (e.g. a watch cache behind the list): the first relists at once,
        // a streak of them backs off like failures.
        if (outcome.relist && !outcome.planned && !healthy) {
          if (attempt > 0) await this.pause(backoffDelay(policy, attempt - 1));
          attempt++;
        }
      } catch (err) {
        if (this.abort.signal.aborted) break;
        await this.afterFailure(err, backoffDelay(policy, attempt++), recoveries);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return this.clock.sleep(ms, this.abort.signal).catch(() => undefined);
  }

  /** The shared reachability's recovery count (0 without one), read before each list/watch cycle. */
  private recoveries(): number {
    return this.options.reachability?.recoveries ?? 0;
  }

  /**
   * Records a failed cycle and backs off `delayMs`; with a shared reachability, an unanswered failure
   * starts its probe and a recovery after `recoveries` ends the backoff early.
   */
  private afterFailure(err: unknown, delayMs: number, recoveries: number): Promise<void> {
    this.failures.fail(err);
    this.report(err, 'list/watch');
    const reach = this.options.reachability;
    if (!reach) return this.pause(delayMs);
    if (!hasHttpStatus(err)) reach.unanswered();
    return reach.wait(delayMs, recoveries, this.abort.signal).catch(() => undefined);
  }

  private async listOnce(): Promise<void> {
    const { items, resourceVersion } = await this.listWithTimeout();
    this.relists++;
    this.failures.succeed();
    this.options.reachability?.answered();
    this.replace(items);
    this.lastResourceVersion = resourceVersion;
    if (!this.syncedFlag) {
      this.syncedFlag = true;
      this.resolveSynced();
    }
  }

  /** The source's list, failing after `listTimeoutMs`: a hung server must count as failing, not as slow. */
  private listWithTimeout(): Promise<{ items: T[]; resourceVersion: string }> {
    const ms = this.options.listTimeoutMs ?? 60_000;
    const listing = this.options.source.list();
    if (ms <= 0) return listing;
    return new Promise((resolve, reject) => {
      const timer = this.clock.after(ms, () => reject(new Error(`${this.options.name}: list not answered within ${ms} ms`)));
      listing.then(
        (v) => (timer.cancel(), resolve(v)),
        (err: unknown) => (timer.cancel(), reject(toError(err))),
      );
    });
  }

  /** Watch (re-watching after clean closes) until a relist is due, a 410 arrives, or an error. */
  private async watchUntilRelist(): Promise<WatchOutcome> {
    const relistMs = this.options.relistMs ?? 300_000;
    const relistAt = relistMs > 0 ? this.clock.now() + relistMs : Infinity;
    for (;;) {
      if (this.abort.signal.aborted) return { relist: false };
      const remaining = relistAt - this.clock.now();
      if (remaining <= 0) return { relist: true, planned: true };
      const outcome = await this.watchOnce(remaining);
      if (outcome.relist || outcome.error !== undefined) return outcome;
    }
  }

  private watchOnce(maxMs: number): Promise<WatchOutcome> {
    return new Promise<WatchOutcome>((resolve) => {
      let gone = false;
      let settled = false;
      let answered = false;
      const finish = (outcome: WatchOutcome): void => {
        if (settled) return;
        settled = true;
        timer?.cancel();
        resolve(outcome);
      };
      const timer = Number.isFinite(maxMs)
        ? this.clock.after(maxMs, () => {
            finish({ relist: true, planned: true });
            this.currentWatch?.abort();
          })
        : undefined;
      const onEvent = (type: WatchEventType, obj: T): void => {
        if (type === 'ERROR') {
          gone = isGone(obj);
          return;
        }
        this.apply(type, obj);
      };
      const onDone = (err?: unknown): void => {
        if (this.relistRequested) {
          this.relistRequested = false;
          finish({ relist: true, planned: true });
        } else if (gone || isGone(err)) finish({ relist: true });
        else if (isTimeout(err) && !answered && !this.abort.signal.aborted) {
          // Not an idle watch timing out: the server accepted no watch at all (down or hung).
          finish({ relist: true, error: new Error(`${this.options.name}: watch not answered (client timeout)`) });
        } else if (err && !isTimeout(err) && !this.abort.signal.aborted) finish({ relist: true, error: err });
        else finish({ relist: this.abort.signal.aborted });
      };
      this.options.source.watch(this.lastResourceVersion, onEvent, onDone).then(
        (handle) => {
          answered = true;
          this.currentWatch = handle;
          // Stopped (or timed out) while the watch was being set up: end it, or the loop would wait for it.
          if (settled || this.abort.signal.aborted) handle.abort();
        },
        (err: unknown) => finish({ relist: true, error: err }),
      );
    });
  }

  private apply(type: WatchEventType, obj: T): void {
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.lastResourceVersion = rv;
    if (type === 'BOOKMARK') return;
    const key = objectKey(obj);
    const old = this.cache.get(key);
    if (type === 'DELETED') {
      this.cache.delete(key);
      this.emit('delete', obj);
      return;
    }
    this.cache.set(key, obj);
    if (old) this.emit('update', obj, old);
    else this.emit('add', obj);
  }

  private replace(items: readonly T[]): void {
    const fresh = new Map(items.map((o) => [objectKey(o), o]));
    for (const [key, old] of this.cache) {
      if (!fresh.has(key)) {
        this.cache.delete(key);
        this.emit('delete', old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emit('update', obj, old);
    }
  }

  private emit(event: InformerEvent, obj: T, old?: T): void {
    for (const fn of this.handlers[event]) {
      try {
        fn(obj, old);
      } catch (err) {
        this.report(err, `${event} handler`);
      }
    }
  }

  private report(err: unknown, context: string): void {
    try {
      this.options.onError?.(err, `${this.options.name}: ${context}`);
    } catch {
      // An error reporter that throws must not stop the informer.
    }
  }
}

function toError(x: unknown): Error {
  return x instanceof Error ? x : new Error(String(x));
}

function isGone(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as { code?: unknown; statusCode?: unknown };
  return o.code === 410 || o.statusCode === 410;
}

/** The API server answered (an ApiException's `code`, a watch's `statusCode`): not an outage. */
function hasHttpStatus(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as { code?: unknown; statusCode?: unknown };
  const status = typeof o.code === 'number' ? o.code : o.statusCode;
  return typeof status === 'number' && status >= 100 && status <= 599;
}

function isTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'TimeoutError';
}

export interface KubeListWatchOptions<T extends KubernetesObject> {
  /** API path of the collection, e.g. `/api/v1/pods`. */
  readonly path: string;
  readonly list: (opts: { fieldSelector?: string; labelSelector?: string }) => Promise<{
    items: T[];
    metadata?: { resourceVersion?: string };
  }>;
  readonly fieldSelector?: string;
  readonly labelSelector?: string;
}

/** The real source: the typed list call plus client-node's `Watch` with bookmarks. */
export function kubeListWatch<T extends KubernetesObject>(kc: KubeConfig, opts: KubeListWatchOptions<T>): ListWatchSource<T> {
  const watch = new Watch(kc);
  const selectors = {
    ...(opts.fieldSelector !== undefined ? { fieldSelector: opts.fieldSelector } : {}),
    ...(opts.labelSelector !== undefined ? { labelSelector: opts.labelSelector } : {}),
  };
  return {
    async list() {
      const res = await opts.list(selectors);
      return { items: res.items, resourceVersion: res.metadata?.resourceVersion ?? '' };
    },
    watch(resourceVersion, onEvent, onDone) {
      return watch.watch(
        opts.path,
        { ...selectors, resourceVersion, allowWatchBookmarks: true },
        (phase: string, obj: T) => onEvent(phase as WatchEventType, obj),
        onDone,
      );
    },
  };
}
