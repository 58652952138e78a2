/**
 * A token bucket for API calls (client-go's QPS/burst): `take()` resolves when the call may go.
 * Keeps a restarted node's hundreds of annotation patches from flooding the API server.
 *
 * Implemented as GCRA: each call is given the next slot of an absolute schedule (one every
 * 1000/qps ms, up to `burst` ahead of time), so timer overshoot never accumulates: 400 calls at
 * 50/s take 8 s, not 400 × (20 ms + timer delay).
 */
import type { Clock } from './clock.js';
import { realClock } from './clock.js';

export class TokenBucket {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;
  private readonly clock: Clock;
  /** Theoretical arrival time of the next call on the schedule. */
  private tat: number;

  /** `qps` 0 means unlimited. `burst` calls may go at once after an idle period. */
  constructor(qps: number, burst: number, clock: Clock = realClock) {
    this.intervalMs = qps > 0 ? 1000 / qps : 0;
    this.toleranceMs = Math.max(0, burst - 1) * this.intervalMs;
    this.clock = clock;
    this.tat = clock.now();
  }

  /** Waits for this call's slot; callers are served in call order. */
  take(): Promise<void> {
    if (this.intervalMs === 0) return Promise.resolve();
    const now = this.clock.now();
    const tat = Math.max(this.tat, now);
    const wait = tat - this.toleranceMs - now;
    this.tat = tat + this.intervalMs;
    return wait > 0 ? this.clock.sleep(wait) : Promise.resolve();
  }
}
