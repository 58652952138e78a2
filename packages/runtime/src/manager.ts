/**
 * One lifecycle for every deployable, after controller-runtime's manager (`pkg/manager/runnable_group.go`):
 * a deployable's `main` is a list of runnables, started in a fixed order and stopped in reverse.
 *
 * Start order: `servers` (health, metrics) → `caches` (informers, started once synced) → `others` that
 * do not need leadership, in the order added → the leader gate (only when a runnable needs
 * leadership) → runnables that need leadership, by group then in the order added.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import { RuntimeError } from './errors.js';

export type RunnableGroup = 'servers' | 'caches' | 'others';

export interface Runnable {
  /** Unique within a manager; names the runnable in logs and errors. */
  readonly name: string;
  /** Start phase, default `others`. */
  readonly group?: RunnableGroup;
  /** Started only once this process holds leadership (after the leader gate). Default false. */
  readonly needsLeadership?: boolean;
  /**
   * Resolves once started: a server listens, an informer has synced, a start-up step is done, a loop
   * runs. Background work goes on until `signal` aborts. Rejects when it cannot start, or with the
   * signal's reason when the manager stops first.
   */
  start(signal: AbortSignal): Promise<void>;
  /**
   * Ends background work and frees resources. Called at most once, after `signal` aborted, for
   * every runnable whose `start` was called, even if that start failed or was aborted: it must cope
   * with a partial start. Bounded by the manager's per-runnable timeout.
   */
  stop?(): Promise<void>;
}

/** What the manager needs from leader election (`LeaderElector` implements it; tests use `FakeLeaderGate`). */
export interface LeaderGate {
  /** The name of the gate's step in logs and in `startOrder()`, e.g. `leader-election`. */
  readonly name: string;
  /**
   * Resolves once this process holds leadership, then keeps it (renewing) until `release`. Rejects
   * with the signal's reason when `signal` aborts first. `onLost` is called at most once, when
   * leadership is lost after it was acquired, never because of `release`.
   */
  acquire(signal: AbortSignal, onLost: (err: Error) => void): Promise<void>;
  /** Stops renewing and gives leadership up at once (client-go ReleaseOnCancel). Idempotent. */
  release(): Promise<void>;
  isLeader(): boolean;
}

export interface ManagerOptions {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Required when a runnable needs leadership. */
  readonly leaderGate?: LeaderGate;
  /** Time each runnable gets to finish starting (once aborted) and stopping, ms. Default 10 s. */
  readonly stopTimeoutMs?: number;
  /**
   * Called once when leadership is lost after it was acquired. Default: stop the manager. A
   * deployable's CLI sets it to exit non-zero at once (see `exitOnLeadershipLost`), as
   * controller-runtime does, so that the Pod restarts and a process that lost its Lease never keeps
   * acting next to the new leader.
   */
  readonly onLeadershipLost?: (err: Error) => void;
}

interface Step {
  readonly name: string;
  readonly group: RunnableGroup | 'leader-gate';
  start(signal: AbortSignal): Promise<void>;
  stop?(): Promise<void>;
}

interface Begun {
  readonly step: Step;
  readonly abort: AbortController;
  readonly startPromise: Promise<void>;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

const GROUP_ORDER: readonly RunnableGroup[] = ['servers', 'caches', 'others'];
const DEFAULT_STOP_TIMEOUT_MS = 10_000;

export class Manager {
  private readonly runnables: Runnable[] = [];
  private readonly begun: Begun[] = [];
  private readonly started = new Set<string>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly clock: Clock;
  private readonly options: ManagerOptions;
  private starting?: Promise<void>;
  private stopping?: Promise<void>;
  private failure?: Error;

  constructor(options: ManagerOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
  }

  /** Adds a runnable. Throws NPL_RUNNABLE_INVALID for a duplicate name or after `start`. */
  add(runnable: Runnable): this {
    if (this.starting) throw new RuntimeError('NPL_RUNNABLE_INVALID', `runnable ${runnable.name}: cannot be added after the manager started`);
    const taken = [...this.runnables.map((r) => r.name), this.options.leaderGate?.name];
    if (taken.includes(runnable.name)) throw new RuntimeError('NPL_RUNNABLE_INVALID', `runnable ${runnable.name}: the name is already used in this manager`);
    this.runnables.push(runnable);
    return this;
  }

  /** Names in start order, the leader gate included when some runnable needs leadership. */
  startOrder(): string[] {
    return this.plan().map((s) => s.name);
  }

  /** Names of the runnables whose start has resolved, in start order. */
  startedNames(): string[] {
    return this.plan()
      .map((s) => s.name)
      .filter((n) => this.started.has(n));
  }

  /**
   * Starts every runnable in order; resolves once all have started (for a standby, only once it
   * became leader). Idempotent. A start failure stops what had begun, in reverse, then rejects with
   * NPL_RUNNABLE_START_FAILED naming the runnable (cause: its error); `stop` during start makes it
   * reject with NPL_MANAGER_STOPPED. Throws NPL_RUNNABLE_INVALID when a runnable needs leadership and
   * no leader gate was given.
   */
  start(): Promise<void> {
    this.starting ??= this.runStart();
    return this.starting;
  }

  /**
   * Resolves once the named runnable has started; rejects with the manager's start error when the
   * start sequence ends before it (failure or stop), or NPL_RUNNABLE_INVALID for an unknown name.
   */
  whenStarted(name: string): Promise<void> {
    if (this.started.has(name)) return Promise.resolve();
    if (!this.plan().some((s) => s.name === name)) {
      return Promise.reject(new RuntimeError('NPL_RUNNABLE_INVALID', `runnable ${name}: no such runnable in this manager`));
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(name) ?? [];
      list.push({ resolve, reject });
      this.waiters.set(name, list);
    });
  }

  /**
   * Stops, in reverse start order, every runnable whose start was called: aborts its signal, waits
   * for its start to settle, then calls its `stop`, each bounded by `stopTimeoutMs`. Idempotent (the
   * same promise). Always goes through every runnable; then rejects with NPL_RUNNABLE_STOP_FAILED
   * naming those that failed or timed out.
   */
  stop(): Promise<void> {
    this.stopping ??= this.runStop();
    return this.stopping;
  }

  private plan(): Step[] {
    const free = this.runnables.filter((r) => !r.needsLeadership);
    const gated = this.runnables.filter((r) => r.needsLeadership);
    const ordered = (list: Runnable[]): Step[] =>
      GROUP_ORDER.flatMap((g) => list.filter((r) => (r.group ?? 'others') === g)).map((r) => toStep(r));
    const gate = this.options.leaderGate;
    if (gated.length === 0 || !gate) return [...ordered(free), ...ordered(gated)];
    const gateStep: Step = {
      name: gate.name,
      group: 'leader-gate',
      start: (signal) => gate.acquire(signal, (err) => this.leadershipLost(err)),
      stop: () => gate.release(),
    };
    return [...ordered(free), gateStep, ...ordered(gated)];
  }

  private async runStart(): Promise<void> {
    const { logger } = this.options;
    try {
      if (this.runnables.some((r) => r.needsLeadership) && !this.options.leaderGate) {
        const names = this.runnables.filter((r) => r.needsLeadership).map((r) => r.name);
        throw new RuntimeError('NPL_RUNNABLE_INVALID', `runnables ${names.join(', ')} need leadership but the manager has no leader gate`);
      }
      for (const step of this.plan()) await this.startStep(step);
      logger.info({ runnables: this.startedNames() }, 'All runnables started');
    } catch (err) {
      this.failure = err as Error;
      for (const list of this.waiters.values()) for (const w of list) w.reject(this.failure);
      this.waiters.clear();
      throw err;
    }
  }

  private async startStep(step: Step): Promise<void> {
    const { logger } = this.options;
    if (this.stopping) throw this.stoppedError(step.name);
    const abort = new AbortController();
    const t0 = this.clock.now();
    logger.info({ runnable: step.name, group: step.group }, 'Starting runnable');
    const startPromise = Promise.resolve().then(() => step.start(abort.signal));
    this.begun.push({ step, abort, startPromise });
    try {
      await startPromise;
    } catch (err) {
      if (this.stopping) throw this.stoppedError(step.name, err);
      logger.error({ runnable: step.name, err: message(err) }, 'Runnable failed to start, stopping what started');
      const failure = new RuntimeError('NPL_RUNNABLE_START_FAILED', `runnable ${step.name} failed to start: ${message(err)}`, { cause: err });
      await this.stop().catch(() => undefined);
      throw failure;
    }
    if (this.stopping) throw this.stoppedError(step.name);
    this.started.add(step.name);
    logger.info({ runnable: step.name, ms: Math.round(this.clock.now() - t0) }, 'Runnable started');
    for (const w of this.waiters.get(step.name) ?? []) w.resolve();
    this.waiters.delete(step.name);
  }

  private stoppedError(name: string, cause?: unknown): RuntimeError {
    return new RuntimeError('NPL_MANAGER_STOPPED', `the manager was stopped while runnable ${name} was starting`, { cause });
  }

  private async runStop(): Promise<void> {
    const { logger } = this.options;
    const failed: string[] = [];
    for (const entry of [...this.begun].reverse()) {
      const outcome = await this.stopStep(entry);
      if (outcome !== 'stopped') failed.push(`${entry.step.name} (${outcome})`);
    }
    logger.info({ failed }, 'Manager stopped');
    if (failed.length) {
      throw new RuntimeError('NPL_RUNNABLE_STOP_FAILED', `runnables did not stop cleanly: ${failed.join(', ')}`);
    }
  }

  private async stopStep({ step, abort, startPromise }: Begun): Promise<string> {
    const { logger } = this.options;
    const timeoutMs = this.options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    logger.info({ runnable: step.name }, 'Stopping runnable');
    abort.abort(this.stoppedError(step.name));
    const work = startPromise.catch(() => undefined).then(() => step.stop?.());
    const outcome = await settleWithin(work, timeoutMs, this.clock);
    if (outcome.kind === 'timeout') {
      logger.error({ runnable: step.name, timeoutMs }, 'Runnable did not stop within its timeout');
      return `timed out after ${timeoutMs} ms`;
    }
    if (outcome.kind === 'error') {
      logger.error({ runnable: step.name, err: message(outcome.error) }, 'Runnable failed to stop');
      return `failed: ${message(outcome.error)}`;
    }
    logger.info({ runnable: step.name }, 'Runnable stopped');
    return 'stopped';
  }

  private leadershipLost(err: Error): void {
    this.options.logger.error({ err: err.message }, 'Leadership lost');
    if (this.options.onLeadershipLost) {
      this.options.onLeadershipLost(err);
      return;
    }
    this.stop().catch((stopErr: unknown) => this.options.logger.error({ err: message(stopErr) }, 'Stop after leadership loss failed'));
  }
}

function toStep(r: Runnable): Step {
  return {
    name: r.name,
    group: r.group ?? 'others',
    start: (signal) => r.start(signal),
    ...(r.stop ? { stop: () => r.stop!() } : {}),
  };
}

type Outcome = { kind: 'done' } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

function settleWithin(work: Promise<unknown>, ms: number, clock: Clock): Promise<Outcome> {
  return new Promise((resolve) => {
    const timer = clock.after(ms, () => resolve({ kind: 'timeout' }));
    work.then(
      () => {
        timer.cancel();
        resolve({ kind: 'done' });
      },
      (error: unknown) => {
        timer.cancel();
        resolve({ kind: 'error', error });
      },
    );
  });
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The `onLeadershipLost` of a deployable's CLI: log at fatal and exit non-zero at once, without a
 * graceful stop (controller-runtime does the same), so the Pod restarts as a candidate.
 */
export function exitOnLeadershipLost(logger: Logger, exit: (code: number) => void = (code) => process.exit(code)): (err: Error) => void {
  return (err) => {
    logger.fatal({ err: err.message }, 'Leadership lost, exiting so that the Pod restarts');
    exit(1);
  };
}
