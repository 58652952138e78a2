/**
 * What /readyz and /healthz of npl-agent mean (the table in README.md, "Health"). Every check is
 * computed from the current state when probed, so readiness drops and comes back: nothing latches.
 *
 * Readiness (/readyz 503: the agent cannot do its job now; the kubelet only marks the Pod unready):
 * caches not synced, start-up not done, an informer unable to list/watch for `unreadyAfterMs`, the
 * dataplane failing for `unreadyAfterMs`. Liveness (/healthz 503: a loop is stuck; the kubelet
 * restarts the container): workers with work and no finished reconcile for `stallMs`, the
 * drift-repair loop overdue by `stallMs`.
 */
import type { DnatMapping } from '@npl/core';
import type { Clock, HealthCheck, Informer, WorkQueue } from '@npl/runtime';
import { FailureStreak, streakCheck } from '@npl/runtime';
import type { KubernetesObject } from '@kubernetes/client-node';
import { mappingKey } from './dataplane/mappings.js';
import type { Dataplane, DataplaneDrift } from './dataplane/types.js';

export interface HealthLimits {
  /** How long a watch or the dataplane may keep failing before /readyz fails, ms. */
  readonly unreadyAfterMs: number;
  /** How long workers (with work) or the drift-repair loop (past its period) may make no progress before /healthz fails, ms. */
  readonly stallMs: number;
}

export const DEFAULT_HEALTH_LIMITS: HealthLimits = { unreadyAfterMs: 60_000, stallMs: 120_000 };

/**
 * The dataplane's failure streak, fed by every operation of every family (see TrackedDataplane).
 * A failed write (add, delete, replaceAll, repair, init) or a failed check (verify) starts or extends
 * it. It ends with a successful write, or with a successful check that found the rules in sync while
 * no Pod reconcile is failing (so one failure followed by no further write does not leave the
 * agent unready forever, and a check passing between failing writes does not hide them).
 */
export class DataplaneHealth {
  readonly streak: FailureStreak;
  private readonly failingReconciles: () => number;

  /** `failingReconciles`: Pod keys whose last reconcile failed (WorkQueue.failingKeys). */
  constructor(clock: Pick<Clock, 'now'>, failingReconciles: () => number) {
    this.streak = new FailureStreak(clock);
    this.failingReconciles = failingReconciles;
  }

  wrote(err?: unknown): void {
    if (err === undefined) this.streak.succeed();
    else this.streak.fail(err);
  }

  checked(result: { inSync: boolean } | { error: unknown }): void {
    if ('error' in result) this.streak.fail(result.error);
    else if (result.inSync && this.failingReconciles() === 0) this.streak.succeed();
  }
}

/**
 * A Dataplane that reports each operation's outcome to `health` and knows which mappings a write is
 * changing right now (`inFlight`, for GET /mappings); behaviour is unchanged.
 */
export class TrackedDataplane implements Dataplane {
  /** mappingKey -> number of writes under way that name it. */
  private readonly writing = new Map<string, number>();

  constructor(
    private readonly inner: Dataplane,
    private readonly health: DataplaneHealth,
  ) {}

  private async write(op: () => Promise<void>, mappings: readonly DnatMapping[] = []): Promise<void> {
    const keys = mappings.map(mappingKey);
    for (const k of keys) this.writing.set(k, (this.writing.get(k) ?? 0) + 1);
    try {
      await op();
    } catch (err) {
      this.health.wrote(err);
      throw err;
    } finally {
      for (const k of keys) {
        const n = (this.writing.get(k) ?? 1) - 1;
        if (n > 0) this.writing.set(k, n);
        else this.writing.delete(k);
      }
    }
    this.health.wrote();
  }

  /** mappingKey of every mapping an add, delete, replaceAll or repair is writing now. */
  inFlight(): ReadonlySet<string> {
    return new Set(this.writing.keys());
  }

  /** `verify` without reporting to health: a read for inspection (GET /mappings) is not a drift check. */
  inspect(expected: readonly DnatMapping[]): Promise<DataplaneDrift> {
    return this.inner.verify(expected);
  }

  init(): Promise<void> {
    return this.write(() => this.inner.init());
  }
  add(m: DnatMapping): Promise<void> {
    return this.write(() => this.inner.add(m), [m]);
  }
  delete(m: DnatMapping): Promise<void> {
    return this.write(() => this.inner.delete(m), [m]);
  }
  replaceAll(ms: readonly DnatMapping[]): Promise<void> {
    return this.write(() => this.inner.replaceAll(ms), ms);
  }
  repair(expected: readonly DnatMapping[]): Promise<void> {
    return this.write(() => this.inner.repair(expected), expected);
  }
  async verify(expected: readonly DnatMapping[]): Promise<DataplaneDrift> {
    let drift: DataplaneDrift;
    try {
      drift = await this.inner.verify(expected);
    } catch (err) {
      this.health.checked({ error: err });
      throw err;
    }
    this.health.checked({ inSync: drift.inSync });
    return drift;
  }
  teardown(): Promise<void> {
    return this.inner.teardown();
  }
  available(): Promise<string> {
    return this.inner.available();
  }
  close(): void {
    this.inner.close();
  }
  describe(): string {
    return this.inner.describe();
  }
}

export interface AgentHealthInputs {
  readonly clock: Pick<Clock, 'now'>;
  readonly limits: HealthLimits;
  readonly informers: readonly Pick<Informer<KubernetesObject>, 'hasSynced' | 'failures'>[];
  readonly informerNames: readonly string[];
  /** True once every start-up runnable (through workers) has started. */
  readonly started: () => boolean;
  readonly dataplane: DataplaneHealth;
  readonly queue: Pick<WorkQueue<string>, 'stalledForMs' | 'length'>;
  /** When the workers started (clock time); undefined before. */
  readonly workersStartedAt: () => number | undefined;
  /** The drift-repair loop's lateness (periodicRunnable.overdueMs); absent with --verify-period 0. */
  readonly verifyOverdueMs?: () => number;
}

/** The /readyz checks, in the order the body lists them. */
export function readinessChecks(h: AgentHealthInputs): HealthCheck[] {
  const watchChecks = h.informers.map((informer, i) => {
    const name = h.informerNames[i] ?? `informer-${i}`;
    return streakCheck(`${name}-watch`, `${name} list/watch`, informer.failures, h.limits.unreadyAfterMs);
  });
  return [
    { name: 'informers', check: () => (h.informers.every((i) => i.hasSynced()) ? undefined : 'caches not synced yet') },
    { name: 'startup', check: () => (h.started() ? undefined : 'start-up (node IPs, restore, first dataplane sync, workers) not done yet') },
    ...watchChecks,
    streakCheck('dataplane', 'dataplane operations', h.dataplane.streak, h.limits.unreadyAfterMs),
  ];
}

/** The /healthz checks: a loop that has stopped making progress. */
export function livenessChecks(h: AgentHealthInputs): HealthCheck[] {
  const seconds = (ms: number): number => Math.round(ms / 1000);
  const checks: HealthCheck[] = [
    {
      name: 'workers',
      check() {
        const since = h.workersStartedAt();
        if (since === undefined) return undefined;
        const stalled = Math.min(h.queue.stalledForMs(), h.clock.now() - since);
        if (stalled < h.limits.stallMs) return undefined;
        return `no Pod reconcile finished for ${seconds(stalled)} s while ${h.queue.length()} wait (limit ${seconds(h.limits.stallMs)} s)`;
      },
    },
  ];
  const overdue = h.verifyOverdueMs;
  if (overdue) {
    checks.push({
      name: 'drift-repair',
      check() {
        const late = overdue();
        if (late < h.limits.stallMs) return undefined;
        return `no dataplane check finished for ${seconds(late)} s past its period (limit ${seconds(h.limits.stallMs)} s)`;
      },
    });
  }
  return checks;
}
