/**
 * The sync engine: one writer per BIG-IP, level-based. Any number of triggers while a sync runs
 * or waits coalesce into one more sync, which reads the newest desired state when it starts (an
 * older state is never retried). Failures back off exponentially with jitter, and triggers during
 * a backoff wait for it (a 503 storm never becomes a request storm). A periodic full resync repairs
 * edits made by hand on the BIG-IP.
 */
import type { BackoffPolicy, Clock, TimerHandle } from '@npl/runtime';
import { backoffDelay, realClock } from '@npl/runtime';
import type { Logger } from 'pino';
import type { Backend, SyncReport } from './backend/types.js';
import type { ErrorClass } from './bigip/classify.js';
import { classOf, isRetryable } from './bigip/classify.js';
import type { ControllerMetrics } from './metrics.js';
import type { DesiredState } from './model.js';

/** 1 s doubling to 4 min (CIS's ceiling), up to 50 % jitter. */
export const SYNC_BACKOFF: BackoffPolicy = { initialMs: 1_000, factor: 2, maxMs: 240_000, jitter: 0.5 };

export interface SyncEngineOptions {
  readonly backend: Backend;
  /** The newest desired state; called when a sync starts. */
  readonly desired: () => DesiredState;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly backoff?: BackoffPolicy;
  /** Period of the full resync, ms (0 disables). Default 30 s, as CIS. */
  readonly resyncMs?: number;
  /** Wait after a trigger so bursts of events make one sync, ms. Default 100. */
  readonly coalesceMs?: number;
  readonly metrics?: ControllerMetrics;
  readonly logger?: Logger;
  readonly onSynced?: (desired: DesiredState, report: SyncReport) => void;
  readonly onFailed?: (desired: DesiredState, err: unknown, errorClass: ErrorClass) => void;
}

export class SyncEngine {
  private readonly options: SyncEngineOptions;
  private readonly clock: Clock;
  private dirty = false;
  private running: Promise<void> | undefined;
  private timer: TimerHandle | undefined;
  private resyncTimer: TimerHandle | undefined;
  private stopped = true;
  private attempt = 0;
  private idleWaiters: (() => void)[] = [];
  /** Clock time of the last successful sync. */
  lastSuccessAt: number | undefined;
  /** Failures since the last success. */
  get consecutiveFailures(): number {
    return this.attempt;
  }

  constructor(options: SyncEngineOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
  }

  /** Starts with a full sync, then resyncs periodically. Idempotent. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.scheduleResync();
    this.trigger();
  }

  /** Stops timers and waits for a sync in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.resyncTimer?.cancel();
    this.timer = undefined;
    await this.running;
    this.releaseIdle();
  }

  /** Something changed: sync soon (coalesced; never before a pending backoff ends). */
  trigger(): void {
    this.dirty = true;
    if (this.stopped || this.running || this.timer) return;
    this.schedule(this.options.coalesceMs ?? 100);
  }

  /** Resolves when no sync runs and none is due (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.running && !this.timer && !this.dirty) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The one pending timer: a coalescing delay or a backoff; triggers never shorten it. */
  private schedule(ms: number): void {
    this.timer?.cancel();
    this.timer = this.clock.after(ms, () => {
      this.timer = undefined;
      this.running = this.run().finally(() => {
        this.running = undefined;
        this.afterRun();
      });
    });
  }

  private scheduleResync(): void {
    const period = this.options.resyncMs ?? 30_000;
    if (period <= 0 || this.stopped) return;
    this.resyncTimer = this.clock.after(period, () => {
      this.trigger();
      this.scheduleResync();
    });
  }

  private afterRun(): void {
    if (this.stopped) return this.releaseIdle();
    if (this.dirty && !this.timer) this.schedule(0);
    if (!this.dirty && !this.timer) this.releaseIdle();
  }

  private releaseIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async run(): Promise<void> {
    if (this.stopped) return;
    this.dirty = false;
    const desired = this.options.desired();
    const started = this.clock.now();
    try {
      const report = await this.options.backend.sync(desired);
      this.succeeded(desired, report, started);
    } catch (err) {
      this.failed(desired, err);
    }
  }

  private succeeded(desired: DesiredState, report: SyncReport, started: number): void {
    const m = this.options.metrics;
    this.attempt = 0;
    this.lastSuccessAt = this.clock.now();
    m?.syncs.inc({ result: 'success' });
    m?.duration.observe((this.clock.now() - started) / 1000);
    m?.lastSuccess.set(Date.now() / 1000);
    m?.pools.set(desired.pools.length);
    m?.members.set(desired.pools.reduce((n, p) => n + p.members.length, 0));
    if (report.writes > 0) this.options.logger?.info({ writes: report.writes, changes: report.changes.slice(0, 50) }, 'BIG-IP synced');
    if (report.resyncNeeded) this.dirty = true;
    this.options.onSynced?.(desired, report);
  }

  private failed(desired: DesiredState, err: unknown): void {
    const errorClass = classOf(err);
    this.options.metrics?.syncs.inc({ result: 'failure' });
    this.options.metrics?.failures.inc({ class: errorClass });
    this.options.onFailed?.(desired, err, errorClass);
    if (errorClass === 'invalid') {
      this.options.logger?.error({ err: (err as Error).message, class: errorClass }, 'BIG-IP refused the change; waiting for the desired state to change or the next resync');
      return;
    }
    const delay = backoffDelay(this.options.backoff ?? SYNC_BACKOFF, this.attempt, this.options.random);
    this.attempt++;
    this.options.logger?.warn({ err: (err as Error).message, class: errorClass, retryInMs: Math.round(delay), attempt: this.attempt }, isRetryable(errorClass) ? 'BIG-IP sync failed; retrying after backoff' : 'BIG-IP changed meanwhile; syncing again');
    this.dirty = true;
    if (!this.stopped) this.schedule(delay);
  }
}
