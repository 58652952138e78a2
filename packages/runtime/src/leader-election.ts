/**
 * Leader election on a `coordination.k8s.io/v1` Lease with client-go's semantics
 * (`tools/leaderelection`): a candidate takes the Lease when it is free, released, held by itself, or
 * not renewed by its holder for `leaseDurationSeconds` as measured on the candidate's own clock since
 * it last saw the Lease change (never by comparing wall-clock times across machines); writes use the
 * resourceVersion (409 = lost the race); the leader renews every `retryPeriod` and gives up after
 * `renewDeadline` without a successful renewal. See docs/adr/0003-lifecycle-and-leader-election.md.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import { isRuntimeError, RuntimeError } from './errors.js';
import type { HealthCheck } from './health.js';
import type { LeaseClient, LeaseRecord, StoredLease } from './lease.js';
import type { LeaderGate } from './manager.js';
import type { Counter, Gauge, Registry } from './metrics.js';

/** client-go's defaults (and kube-controller-manager's). */
export const LEADER_ELECTION_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;

/** client-go's JitterFactor for acquire retries: each wait is retryPeriod * (1 + 1.2 * random). */
const JITTER_FACTOR = 1.2;

/** kube-controller-manager's leader-election healthz tolerance. */
export const DEFAULT_HEALTHZ_TOLERANCE_MS = 20_000;

export interface LeaderElectorOptions {
  readonly lease: LeaseClient;
  /** Unique per process (client-go: hostname_uuid, see `defaultLeaderIdentity`). */
  readonly identity: string;
  readonly logger: Logger;
  /** Drives every wait and expiry. */
  readonly clock?: Clock;
  /** Wall-clock ms for the acquireTime/renewTime written into the Lease (for people only). */
  readonly wallClock?: () => number;
  /** A whole number of seconds, > renewDeadlineMs. Default 15 s. */
  readonly leaseDurationMs?: number;
  /** > 1.2 × retryPeriodMs. Default 10 s. */
  readonly renewDeadlineMs?: number;
  /** Default 2 s. */
  readonly retryPeriodMs?: number;
  /** [0, 1), for the acquire retry jitter. */
  readonly random?: () => number;
  /** Registers `npl_leader_election_is_leader` and `npl_leader_election_transitions_total` (label `lease`). */
  readonly registry?: Registry;
  /** The gate's name in the manager and the health check's name. Default `leader-election`. */
  readonly name?: string;
}

type Attempt = { kind: 'leader' } | { kind: 'held'; holder: string } | { kind: 'failed'; err: unknown };

/** `hostname_uuid`, as client-go's callers build it. */
export function defaultLeaderIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

function validate(o: Required<Pick<LeaderElectorOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs' | 'identity'>>): void {
  const bad = (why: string): never => {
    throw new RuntimeError('NPL_LEADER_ELECTION_CONFIG_INVALID', `leader election: ${why}`);
  };
  if (o.identity.trim() === '') bad('identity must not be empty');
  if (!(o.retryPeriodMs > 0)) bad(`retryPeriod ${o.retryPeriodMs} ms must be > 0`);
  if (!(o.leaseDurationMs >= 1_000) || o.leaseDurationMs % 1_000 !== 0) bad(`leaseDuration ${o.leaseDurationMs} ms must be a whole number of seconds >= 1 s (the Lease stores seconds)`);
  if (!(o.leaseDurationMs > o.renewDeadlineMs)) bad(`leaseDuration ${o.leaseDurationMs} ms must be greater than renewDeadline ${o.renewDeadlineMs} ms`);
  if (!(o.renewDeadlineMs > JITTER_FACTOR * o.retryPeriodMs)) bad(`renewDeadline ${o.renewDeadlineMs} ms must be greater than ${JITTER_FACTOR} x retryPeriod ${o.retryPeriodMs} ms`);
}

export class LeaderElector implements LeaderGate {
  readonly name: string;
  private readonly lease: LeaseClient;
  private readonly identity: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly wallClock: () => number;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly random: () => number;
  private readonly metrics?: { isLeader: Gauge; transitions: Counter };
  private readonly renewAbort = new AbortController();
  private observed?: StoredLease;
  private observedAt = 0;
  private lastRenew = 0;
  private leader = false;
  private acquiring?: Promise<void>;
  private renewing?: Promise<void>;
  private releasing?: Promise<void>;
  private onLost?: (err: Error) => void;

  /** Throws NPL_LEADER_ELECTION_CONFIG_INVALID for durations client-go would refuse or an empty identity. */
  constructor(options: LeaderElectorOptions) {
    this.name = options.name ?? 'leader-election';
    this.lease = options.lease;
    this.identity = options.identity;
    this.logger = options.logger.child({ lease: options.lease.description, identity: options.identity });
    this.clock = options.clock ?? realClock;
    this.wallClock = options.wallClock ?? Date.now;
    this.leaseDurationMs = options.leaseDurationMs ?? LEADER_ELECTION_DEFAULTS.leaseDurationMs;
    this.renewDeadlineMs = options.renewDeadlineMs ?? LEADER_ELECTION_DEFAULTS.renewDeadlineMs;
    this.retryPeriodMs = options.retryPeriodMs ?? LEADER_ELECTION_DEFAULTS.retryPeriodMs;
    this.random = options.random ?? Math.random;
    validate({ identity: this.identity, leaseDurationMs: this.leaseDurationMs, renewDeadlineMs: this.renewDeadlineMs, retryPeriodMs: this.retryPeriodMs });
    if (options.registry) {
      this.metrics = {
        isLeader: options.registry.gauge('npl_leader_election_is_leader', '1 while this process holds the leader Lease, else 0.'),
        transitions: options.registry.counter('npl_leader_election_transitions_total', 'Times this process became leader or stopped being leader.'),
      };
      this.metrics.isLeader.set(0, { lease: this.lease.description });
    }
  }

  isLeader(): boolean {
    return this.leader;
  }

  /** The holder of the Lease as last seen ('' when released), or undefined before the first read. */
  observedHolder(): string | undefined {
    return this.observed?.record.holderIdentity;
  }

  /**
   * Tries every retryPeriod (with client-go's jitter) until this process holds the Lease, then
   * renews it in the background until `release`. Rejects with the signal's reason when `signal`
   * aborts (or `release` is called) first; a Lease won meanwhile is given back by `release`. Call
   * once; a second call rejects with NPL_LEADER_ELECTION_CONFIG_INVALID.
   */
  acquire(signal: AbortSignal, onLost: (err: Error) => void): Promise<void> {
    if (this.acquiring) return Promise.reject(new RuntimeError('NPL_LEADER_ELECTION_CONFIG_INVALID', `leader election ${this.lease.description}: acquire was already called`));
    this.onLost = onLost;
    this.acquiring = this.runAcquire(AbortSignal.any([signal, this.renewAbort.signal]));
    return this.acquiring;
  }

  private async runAcquire(signal: AbortSignal): Promise<void> {
    this.logger.info('Attempting to acquire leader lease');
    for (;;) {
      if (signal.aborted) throw signal.reason as Error;
      const attempt = await this.tryAcquireOrRenew(this.renewDeadlineMs);
      if (attempt.kind === 'leader') break;
      if (attempt.kind === 'failed') this.logger.warn({ err: errText(attempt.err) }, 'Could not acquire lease, retrying');
      await this.clock.sleep(this.retryPeriodMs * (1 + JITTER_FACTOR * this.random()), signal);
    }
    this.setLeader(true);
    this.logger.info('Successfully acquired lease');
    // Won while being stopped: `release` (which waits for this) gives the Lease back.
    if (signal.aborted) throw signal.reason as Error;
    this.renewing = this.renewLoop();
  }

  /**
   * Stops renewing; when leader, writes the Lease back with no holder and a 1 s duration so that a
   * candidate takes it at its next retry (client-go ReleaseOnCancel). Never throws: a failed
   * release is logged and the Lease then expires after leaseDuration. Idempotent.
   */
  release(): Promise<void> {
    this.releasing ??= this.doRelease();
    return this.releasing;
  }

  /**
   * A liveness check for /healthz (client-go's HealthzAdaptor): fails while this process counts
   * itself leader but has not renewed the Lease for longer than renewDeadline + `toleranceMs`, i.e.
   * its renewal loop is stuck and it would not notice the loss. A non-leader always passes.
   */
  healthCheck(toleranceMs = DEFAULT_HEALTHZ_TOLERANCE_MS): HealthCheck {
    return {
      name: this.name,
      check: () => {
        if (!this.leader) return undefined;
        const since = this.clock.now() - this.lastRenew;
        if (since <= this.renewDeadlineMs + toleranceMs) return undefined;
        return `leader Lease ${this.lease.description} not renewed for ${Math.round(since)} ms (renew deadline ${this.renewDeadlineMs} ms + tolerance ${toleranceMs} ms)`;
      },
    };
  }

  private async doRelease(): Promise<void> {
    this.renewAbort.abort(new Error(`leader election ${this.lease.description} released`));
    await this.acquiring?.catch(() => undefined);
    await this.renewing;
    if (!this.leader || !this.observed) return;
    this.setLeader(false);
    const now = new Date(this.wallClock()).toISOString();
    const record: LeaseRecord = { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: this.observed.record.leaseTransitions };
    try {
      this.observe(await this.within(this.lease.update(record, this.observed.resourceVersion), this.renewDeadlineMs), this.clock.now());
      this.logger.info('Released leader lease');
    } catch (err) {
      this.logger.warn({ err: errText(err) }, 'Could not release leader lease; it expires after its lease duration');
    }
  }

  private async renewLoop(): Promise<void> {
    const signal = this.renewAbort.signal;
    for (;;) {
      try {
        await this.clock.sleep(this.retryPeriodMs, signal);
      } catch {
        return;
      }
      const remaining = this.lastRenew + this.renewDeadlineMs - this.clock.now();
      const attempt = remaining > 0 ? await this.tryAcquireOrRenew(remaining) : undefined;
      if (signal.aborted) return;
      if (attempt?.kind === 'leader') continue;
      if (attempt?.kind === 'held') return this.lose(`Lease ${this.lease.description} is now held by ${attempt.holder}`);
      if (attempt?.kind === 'failed') this.logger.warn({ err: errText(attempt.err) }, 'Failed to renew lease');
      const since = this.clock.now() - this.lastRenew;
      if (since >= this.renewDeadlineMs) return this.lose(`Lease ${this.lease.description} not renewed for ${Math.round(since)} ms (renew deadline ${this.renewDeadlineMs} ms)`);
    }
  }

  private lose(reason: string): void {
    this.setLeader(false);
    this.logger.error({ reason }, 'Leader lease lost');
    const notify = this.onLost;
    this.onLost = undefined;
    notify?.(new RuntimeError('NPL_LEADERSHIP_LOST', `leadership lost: ${reason}`));
  }

  /** One round of client-go's tryAcquireOrRenew, each API call bounded by `budgetMs`. */
  private async tryAcquireOrRenew(budgetMs: number): Promise<Attempt> {
    const now = this.clock.now();
    const wall = new Date(this.wallClock()).toISOString();
    try {
      const current = await this.within(this.lease.get(), budgetMs);
      if (!current) {
        const created = await this.within(this.lease.create({ holderIdentity: this.identity, leaseDurationSeconds: this.leaseDurationMs / 1_000, acquireTime: wall, renewTime: wall, leaseTransitions: 0 }), budgetMs);
        return this.won(created, now);
      }
      if (current.resourceVersion !== this.observed?.resourceVersion) this.observe(current, now);
      const { holderIdentity: holder, leaseDurationSeconds, leaseTransitions, acquireTime } = current.record;
      const mine = holder === this.identity;
      if (holder !== '' && !mine && this.observedAt + leaseDurationSeconds * 1_000 > now) return { kind: 'held', holder };
      const record: LeaseRecord = {
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationMs / 1_000,
        acquireTime: mine ? (acquireTime ?? wall) : wall,
        renewTime: wall,
        leaseTransitions: mine ? leaseTransitions : leaseTransitions + 1,
      };
      return this.won(await this.within(this.lease.update(record, current.resourceVersion), budgetMs), now);
    } catch (err) {
      if (isRuntimeError(err, 'NPL_LEASE_CONFLICT')) this.logger.debug({ err: err.message }, 'Lost a Lease write race');
      return { kind: 'failed', err };
    }
  }

  private won(stored: StoredLease, at: number): Attempt {
    this.observe(stored, at);
    this.lastRenew = at;
    return { kind: 'leader' };
  }

  private observe(stored: StoredLease, at: number): void {
    const before = this.observed?.record.holderIdentity;
    this.observed = stored;
    this.observedAt = at;
    const holder = stored.record.holderIdentity;
    if (holder !== before && holder !== '' && holder !== this.identity) this.logger.info({ holder }, 'New leader elected');
  }

  private setLeader(leader: boolean): void {
    if (this.leader === leader) return;
    this.leader = leader;
    this.metrics?.isLeader.set(leader ? 1 : 0, { lease: this.lease.description });
    this.metrics?.transitions.inc({ lease: this.lease.description });
  }

  /** `work`, or NPL_LEASE_REQUEST_FAILED after `ms` on the clock (the late result is ignored). */
  private within<T>(work: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.after(ms, () => reject(new RuntimeError('NPL_LEASE_REQUEST_FAILED', `Lease ${this.lease.description}: no answer within ${Math.round(ms)} ms`)));
      work.then(
        (v) => {
          timer.cancel();
          resolve(v);
        },
        (err: Error) => {
          timer.cancel();
          reject(err);
        },
      );
    });
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
