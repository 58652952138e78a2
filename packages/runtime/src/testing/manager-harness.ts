/**
 * Test doubles for wiring tests of a deployable's runnables without root or a cluster: a leader
 * gate granted and revoked by hand, and a harness that records each runnable's start and stop.
 */
import { Writable } from 'node:stream';
import type { Clock } from '../clock.js';
import { createLogger } from '../logger.js';
import type { LeaderGate, Runnable } from '../manager.js';
import { Manager } from '../manager.js';

/** A leader gate whose leadership is given with `grant()` and taken away with `revoke()`. */
export class FakeLeaderGate implements LeaderGate {
  readonly name = 'leader-election';
  released = false;
  private leader = false;
  private granted = false;
  private pending?: () => void;
  private onLost?: (err: Error) => void;

  /** Already granted when `granted` is true: `acquire` resolves at once. */
  constructor(granted = false) {
    this.granted = granted;
  }

  acquire(signal: AbortSignal, onLost: (err: Error) => void): Promise<void> {
    this.onLost = onLost;
    if (this.granted) {
      this.leader = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      this.pending = () => {
        this.leader = true;
        resolve();
      };
    });
  }

  /** Make this process leader (resolves a pending `acquire`). */
  grant(): void {
    this.granted = true;
    this.pending?.();
  }

  /** Lose leadership: calls the manager's `onLost` once. */
  revoke(err: Error = new Error('leadership revoked by the test')): void {
    this.leader = false;
    const lost = this.onLost;
    this.onLost = undefined;
    lost?.(err);
  }

  release(): Promise<void> {
    this.leader = false;
    this.released = true;
    return Promise.resolve();
  }

  isLeader(): boolean {
    return this.leader;
  }
}

export interface ManagerHarnessOptions {
  readonly clock?: Clock;
  readonly stopTimeoutMs?: number;
  /** Default: a gate not yet granted. */
  readonly gate?: FakeLeaderGate;
  readonly onLeadershipLost?: (err: Error) => void;
}

/**
 * A Manager whose runnables are wrapped to record `start X`, `started X`, `start-failed X`, `stop X`,
 * `stopped X` in `events`, with a FakeLeaderGate and the manager's pino lines kept in `logs`.
 */
export class ManagerHarness {
  readonly events: string[] = [];
  readonly logs: Record<string, unknown>[] = [];
  readonly gate: FakeLeaderGate;
  readonly manager: Manager;

  constructor(options: ManagerHarnessOptions = {}) {
    this.gate = options.gate ?? new FakeLeaderGate();
    const destination = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        for (const l of chunk.toString().split('\n').filter(Boolean)) this.logs.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    this.manager = new Manager({
      logger: createLogger({ name: 'manager-test', level: 'debug', destination }),
      leaderGate: this.gate,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.stopTimeoutMs !== undefined ? { stopTimeoutMs: options.stopTimeoutMs } : {}),
      ...(options.onLeadershipLost ? { onLeadershipLost: options.onLeadershipLost } : {}),
    });
  }

  /** Add `runnables` wrapped so that their start and stop are recorded. */
  add(...runnables: Runnable[]): this {
    for (const r of runnables) this.manager.add(this.record(r));
    return this;
  }

  /** The log messages (`msg`) in order, optionally only those naming `runnable`. */
  messages(runnable?: string): string[] {
    return this.logs.filter((l) => runnable === undefined || l.runnable === runnable).map((l) => String(l.msg));
  }

  private record(r: Runnable): Runnable {
    const events = this.events;
    return {
      name: r.name,
      ...(r.group ? { group: r.group } : {}),
      ...(r.needsLeadership ? { needsLeadership: true } : {}),
      async start(signal) {
        events.push(`start ${r.name}`);
        try {
          await r.start(signal);
        } catch (err) {
          events.push(`start-failed ${r.name}`);
          throw err;
        }
        events.push(`started ${r.name}`);
      },
      async stop() {
        events.push(`stop ${r.name}`);
        await r.stop?.();
        events.push(`stopped ${r.name}`);
      },
    };
  }
}

/** A runnable for tests: `start` waits for `ready` (if given) and obeys the signal; `stop` is recorded by the harness. */
export function testRunnable(name: string, options: Partial<Pick<Runnable, 'group' | 'needsLeadership'>> & { ready?: Promise<void>; fail?: Error; stop?: () => Promise<void> } = {}): Runnable {
  return {
    name,
    ...(options.group ? { group: options.group } : {}),
    ...(options.needsLeadership ? { needsLeadership: true } : {}),
    start(signal) {
      if (options.fail) return Promise.reject(options.fail);
      if (!options.ready) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        options.ready!.then(resolve, reject);
      });
    },
    ...(options.stop ? { stop: options.stop } : {}),
  };
}
