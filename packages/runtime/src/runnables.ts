/**
 * Ready-made runnables for the parts every deployable has: an HTTP server, informers, workers on a
 * queue, and a periodic loop. Each follows the `Runnable` contract of manager.ts.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { FastifyInstance } from 'fastify';
import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import { parseListenAddress } from './health.js';
import type { Informer } from './informer.js';
import type { Runnable } from './manager.js';
import type { WorkQueue } from './workqueue.js';
import { runWorkers } from './workqueue.js';

export interface ServerRunnable extends Runnable {
  /** The bound `host:port` (`[v6]:port`) once started; the configured address before. */
  address(): string;
}

/** Listens on `listen` (`host:port`, `:port`) at start; closes the server at stop. Group `servers`. */
export function serverRunnable(name: string, app: FastifyInstance, listen: string, field = '--health-address'): ServerRunnable {
  const { host, port } = parseListenAddress(listen, field);
  let bound = listen;
  let listening = false;
  return {
    name,
    group: 'servers',
    async start() {
      await app.listen({ host, port });
      listening = true;
      const a = app.server.address();
      if (typeof a === 'object' && a) bound = `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
    },
    async stop() {
      if (listening) await app.close();
    },
    address: () => bound,
  };
}

/** What `informersRunnable` needs of an informer (any `Informer<T>` is one). */
export type SyncingCache = Pick<Informer<KubernetesObject>, 'start' | 'stop' | 'synced'>;

/**
 * Starts every informer and resolves once all have synced (their first list). Stop ends them; their
 * caches keep their last content. Group `caches`.
 */
export function informersRunnable(name: string, informers: readonly SyncingCache[]): Runnable {
  return {
    name,
    group: 'caches',
    async start(signal) {
      for (const i of informers) i.start();
      await untilAborted(Promise.all(informers.map((i) => i.synced())), signal);
    },
    async stop() {
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}

export interface WorkersRunnableOptions {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  readonly handle: (key: string) => Promise<void>;
  readonly workers: number;
  readonly onError?: (key: string, err: unknown, retryInMs: number) => void;
  /** Runs once the workers run (e.g. queue every known key). */
  readonly onStarted?: () => void;
  readonly needsLeadership?: boolean;
}

/** `runWorkers` on `queue`; stop shuts the queue down and waits for the keys in flight. */
export function workersRunnable(options: WorkersRunnableOptions): Runnable {
  let running: Promise<void> | undefined;
  return {
    name: options.name,
    ...(options.needsLeadership ? { needsLeadership: true } : {}),
    start() {
      running = runWorkers(options.queue, options.handle, { workers: options.workers, ...(options.onError ? { onError: options.onError } : {}) });
      options.onStarted?.();
      return Promise.resolve();
    },
    async stop() {
      options.queue.shutDown();
      await running;
    },
  };
}

export interface PeriodicRunnableOptions {
  readonly name: string;
  /** Time between the end of one run and the start of the next, ms (> 0). */
  readonly intervalMs: number;
  /** One run; must not throw (report failures itself). A rejection is passed to `onError`. */
  readonly run: (signal: AbortSignal) => Promise<unknown>;
  readonly onError?: (err: unknown) => void;
  readonly clock?: Clock;
  /** Run once at start (before the first interval). Default false. */
  readonly immediate?: boolean;
  readonly needsLeadership?: boolean;
}

export interface PeriodicRunnable extends Runnable {
  /**
   * How far the loop is behind, ms: time since the last run ended (or the loop started) minus the
   * interval; 0 before start, after stop, and while on time. It grows while a run hangs.
   */
  overdueMs(): number;
}

/** A loop calling `run` every `intervalMs` until stopped; stop waits for a run in progress. */
export function periodicRunnable(options: PeriodicRunnableOptions): PeriodicRunnable {
  const clock = options.clock ?? realClock;
  const abort = new AbortController();
  let loop: Promise<void> | undefined;
  let lastEnd: number | undefined;
  const once = async (): Promise<void> => {
    try {
      await options.run(abort.signal);
    } catch (err) {
      options.onError?.(err);
    }
    lastEnd = clock.now();
  };
  const body = async (): Promise<void> => {
    if (options.immediate) await once();
    while (!abort.signal.aborted) {
      try {
        await clock.sleep(options.intervalMs, abort.signal);
      } catch {
        return;
      }
      await once();
    }
  };
  return {
    name: options.name,
    ...(options.needsLeadership ? { needsLeadership: true } : {}),
    start(signal) {
      signal.addEventListener('abort', () => abort.abort(signal.reason), { once: true });
      lastEnd = clock.now();
      loop = body();
      return Promise.resolve();
    },
    async stop() {
      abort.abort(new Error(`${options.name} stopped`));
      await loop;
    },
    overdueMs() {
      if (lastEnd === undefined || abort.signal.aborted) return 0;
      return Math.max(0, clock.now() - lastEnd - options.intervalMs);
    },
  };
}

/** `work`, or a rejection with the signal's reason as soon as `signal` aborts. */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: Error) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
