/**
 * A token bucket for API calls (client-go's QPS/burst): `take()` resolves when a token is
 * available. Keeps a restarted node's hundreds of annotation patches from flooding the API server.
 */
import type { Clock } from './clock.js';
import { realClock } from './clock.js';

export class TokenBucket {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  private readonly qps: number;
  private readonly burst: number;
  private readonly clock: Clock;

  /** `qps` 0 means unlimited. */
  constructor(qps: number, burst: number, clock: Clock = realClock) {
    this.qps = qps;
    this.burst = burst;
    this.clock = clock;
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Waits for a token; callers are served in call order. */
  take(): Promise<void> {
    if (this.qps <= 0) return Promise.resolve();
    const next = this.queue.then(() => this.waitForToken());
    this.queue = next;
    return next;
  }

  private async waitForToken(): Promise<void> {
    this.refill();
    if (this.tokens < 1) {
      await this.clock.sleep(((1 - this.tokens) / this.qps) * 1000);
      this.refill();
    }
    this.tokens -= 1;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
  }
}
