/**
 * Whether the API server answers, shared by the informers of one process (issue 11). client-go's
 * capped backoff alone makes a process wait up to the cap (30 s) after the API server is back; here,
 * while a caller reports requests left unanswered (refused, reset, timed out), a cheap probe (e.g.
 * GET /readyz) runs every `probeIntervalMs`, and the first success (a probe's or a caller's) after a
 * failed probe is a *recovery*: it ends every backoff being waited out through `wait`, each after
 * its own random delay below `wakeJitterMs`, so the informers of a process (and the agents of a
 * cluster, which also probe at jittered times) do not all relist in the same instant.
 *
 * Level-based: a caller reads `recoveries` before its request and passes that count to `wait` after
 * the request failed; a recovery seen in between (even one that happened while the request was failing)
 * ends the wait at once, so no edge can be missed. While the API server answers (errors carrying an
 * HTTP status), nothing changes: callers keep their backoff, since only an unanswered request starts
 * probing and only a failed probe makes the next success a recovery.
 */
import type { Clock, TimerHandle } from './clock.js';
import { realClock } from './clock.js';

/** `suspect`: a request went unanswered, the probe has not failed yet; `unreachable`: a probe failed. */
export type Reachability = 'reachable' | 'suspect' | 'unreachable';

export interface ApiReachabilityOptions {
  /**
   * The probe: resolves true when the API server answers ready, false (or rejects) otherwise. It is
   * also abandoned after `probeTimeoutMs`, when `signal` aborts.
   */
  readonly probe: (signal: AbortSignal) => Promise<boolean>;
  readonly clock?: Clock;
  /** Time between probes while not reachable, ms, plus up to half of it at random. Default 2 s. */
  readonly probeIntervalMs?: number;
  /** A probe not answered in this time failed, ms. Default 5 s. */
  readonly probeTimeoutMs?: number;
  /** A recovery ends each wait after a random delay in [0, wakeJitterMs), ms. Default 1 s. */
  readonly wakeJitterMs?: number;
  /** [0, 1); tests pass a fixed one. */
  readonly random?: () => number;
  /** Called on every change of state, e.g. to log it. Must not throw. */
  readonly onChange?: (state: Reachability, previous: Reachability) => void;
}

interface Waiter {
  readonly since: number;
  wake(): void;
}

export class ApiReachability {
  private current: Reachability = 'reachable';
  private recovered = 0;
  private readonly waiters = new Set<Waiter>();
  private probing?: Promise<void>;
  private readonly stopped = new AbortController();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly options: ApiReachabilityOptions;

  constructor(options: ApiReachabilityOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
  }

  get state(): Reachability {
    return this.current;
  }

  /** Recoveries observed so far: read it before a request, pass it to `wait` if the request fails. */
  get recoveries(): number {
    return this.recovered;
  }

  /** A request got no answer (refused, reset, timed out): probe until the API server answers. */
  unanswered(): void {
    if (this.stopped.signal.aborted) return;
    if (this.current === 'reachable') this.set('suspect');
    this.probing ??= this.probeLoop();
  }

  /** A request was answered (any HTTP status): reachable; a recovery when a probe had failed. */
  answered(): void {
    if (this.current === 'unreachable') this.recover();
    else if (this.current === 'suspect') this.set('reachable');
  }

  /**
   * Resolves after `ms`, or sooner after a recovery beyond `since` (the `recoveries` read before the
   * failed request): at once plus the wake jitter if there already was one. Rejects with the signal's
   * reason when `signal` aborts.
   */
  wait(ms: number, since: number, signal?: AbortSignal): Promise<void> {
    if (this.recovered > since) return this.clock.sleep(Math.min(ms, this.jitter()), signal);
    return new Promise<void>((resolve, reject) => {
      const due = this.clock.now() + ms;
      let timer: TimerHandle;
      const end = (): void => {
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        timer.cancel();
        this.waiters.delete(waiter);
        reject(signal?.reason as Error);
      };
      const waiter: Waiter = {
        since,
        wake: () => {
          timer.cancel();
          timer = this.clock.after(Math.min(this.jitter(), due - this.clock.now()), end);
        },
      };
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      timer = this.clock.after(ms, end);
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Ends probing for good (the process stops); waits still end on their own time. Idempotent. */
  async stop(): Promise<void> {
    this.stopped.abort(new Error('API reachability stopped'));
    await this.probing;
  }

  private recover(): void {
    this.recovered++;
    this.set('reachable');
    for (const w of [...this.waiters]) {
      if (this.recovered > w.since) {
        this.waiters.delete(w);
        w.wake();
      }
    }
  }

  private set(state: Reachability): void {
    const previous = this.current;
    if (previous === state) return;
    this.current = state;
    this.options.onChange?.(state, previous);
  }

  private jitter(): number {
    return (this.options.wakeJitterMs ?? 1_000) * this.random();
  }

  private async probeLoop(): Promise<void> {
    const interval = this.options.probeIntervalMs ?? 2_000;
    while (this.probeDue()) {
      await this.clock.sleep(interval * (1 + 0.5 * this.random()), this.stopped.signal).catch(() => undefined);
      if (!this.probeDue()) break;
      if (await this.probeOnce()) this.answered();
      else if (this.probeDue()) this.set('unreachable');
    }
    this.probing = undefined;
  }

  private probeDue(): boolean {
    return this.current !== 'reachable' && !this.stopped.signal.aborted;
  }

  /** One probe, false when it rejects, answers false, or takes longer than `probeTimeoutMs`. */
  private async probeOnce(): Promise<boolean> {
    const ac = new AbortController();
    const timer = this.clock.after(this.options.probeTimeoutMs ?? 5_000, () => ac.abort(new Error('API server probe timed out')));
    const onStop = (): void => ac.abort(this.stopped.signal.reason);
    this.stopped.signal.addEventListener('abort', onStop, { once: true });
    const abandoned = new Promise<boolean>((resolve) => ac.signal.addEventListener('abort', () => resolve(false), { once: true }));
    try {
      return await Promise.race([this.options.probe(ac.signal).then((ok) => ok === true), abandoned]);
    } catch {
      return false;
    } finally {
      timer.cancel();
      this.stopped.signal.removeEventListener('abort', onStop);
      if (!ac.signal.aborted) ac.abort();
    }
  }
}
