/**
 * A keyed work queue with client-go semantics: a key waiting in the queue is there once however
 * often it is added; a key being processed is never handed to a second worker, and if it was added
 * meanwhile it is queued again when the first worker is done; failures are retried per key with
 * exponential backoff until `forget`.
 */
import type { BackoffPolicy } from './backoff.js';
import { backoffDelay, POD_REQUEUE_BACKOFF } from './backoff.js';
import type { Clock, TimerHandle } from './clock.js';
import { realClock } from './clock.js';

export interface WorkQueueOptions {
  readonly clock?: Clock;
  readonly backoff?: BackoffPolicy;
}

export class WorkQueue<K = string> {
  private readonly clock: Clock;
  private readonly backoff: BackoffPolicy;
  private readonly queue: K[] = [];
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly failures = new Map<K, number>();
  private readonly delayed = new Map<K, { due: number; timer: TimerHandle }>();
  private waiters: ((key: K | undefined) => void)[] = [];
  private shuttingDown = false;
  private lastProgressAt: number;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.backoff = options.backoff ?? POD_REQUEUE_BACKOFF;
    this.lastProgressAt = this.clock.now();
  }

  /** Queue `key` now. No-op when it already waits or after shutdown. */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    if (!this.hasWork()) this.lastProgressAt = this.clock.now();
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
  }

  /** Queue `key` after `ms`; an earlier pending delayed add of the same key wins. */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const due = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.due <= due) return;
    pending?.timer.cancel();
    const timer = this.clock.after(ms, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { due, timer });
  }

  /** Queue `key` after its next backoff delay and count a failure. Returns the delay used. */
  addRateLimited(key: K): number {
    const attempt = this.failures.get(key) ?? 0;
    this.failures.set(key, attempt + 1);
    const delay = backoffDelay(this.backoff, attempt);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clear the failure count of `key` (after a success). */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** Keys whose last attempt failed (counted by addRateLimited, not yet forgotten). */
  failingKeys(): number {
    return this.failures.size;
  }

  /** Failures counted for `key` since the last `forget`. */
  retries(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /**
   * The next key to process, waiting if none is queued. Resolves `undefined` once the queue is shut
   * down and drained. Every key returned must be given back with `done`.
   */
  get(): Promise<K | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Mark `key` processed; if it was added meanwhile, it is queued again. */
  done(key: K): void {
    this.lastProgressAt = this.clock.now();
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  /** Keys waiting now (not delayed, not in flight). */
  length(): number {
    return this.queue.length;
  }

  /**
   * How long the queue has had work (keys waiting or in flight; delayed keys do not count) without
   * a key being finished, ms: since the later of the last `done` and the moment work arrived at an
   * empty queue. 0 when it has no work. A liveness check compares it with a deadline.
   */
  stalledForMs(): number {
    return this.hasWork() ? this.clock.now() - this.lastProgressAt : 0;
  }

  private hasWork(): boolean {
    return this.queue.length > 0 || this.processing.size > 0;
  }

  /** True when nothing waits, nothing is in flight and no delayed add is pending. */
  idle(): boolean {
    return this.queue.length === 0 && this.processing.size === 0 && this.delayed.size === 0;
  }

  /** Stop accepting keys; waiting `get` calls resolve `undefined`; pending delayed adds are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) timer.cancel();
    this.delayed.clear();
    for (const w of this.waiters) w(undefined);
    this.waiters = [];
  }
}

export interface WorkerOptions {
  readonly workers: number;
  /** Called when a key's handler throws; the key is requeued with backoff after this returns. */
  readonly onError?: (key: string, err: unknown, retryInMs: number) => void;
}

/**
 * Run `workers` loops that take keys from `queue` and call `handle(key)`: success forgets the key's
 * failures, an error requeues it with backoff. Resolves when the queue is shut down and every
 * worker has finished its current key.
 */
export async function runWorkers(
  queue: WorkQueue<string>,
  handle: (key: string) => Promise<void>,
  options: WorkerOptions,
): Promise<void> {
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await handle(key);
        queue.forget(key);
      } catch (err) {
        const retryIn = queue.addRateLimited(key);
        options.onError?.(key, err, retryIn);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.workers) }, worker));
}
