import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A work queue with client-go semantics: keys are deduplicated, one key is in flight at a time,
 * a failing key is retried with per-key exponential backoff, and at most `workers` keys run
 * concurrently. A key added while in flight runs again after the current run.
 */
export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly order: string[] = [];
  private readonly inFlight = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private running = 0;
  private stopped = false;
  private readonly handler: (key: string) => Promise<void>;
  private readonly workers: number;
  private readonly onError: (key: string, err: unknown) => void;

  constructor(handler: (key: string) => Promise<void>, workers: number, onError: (key: string, err: unknown) => void) {
    this.handler = handler;
    this.workers = workers;
    this.onError = onError;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.inFlight.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.pending.has(key)) return;
    this.pending.add(key);
    this.order.push(key);
    this.pump();
  }

  stop(): void {
    this.stopped = true;
  }

  private pump(): void {
    while (this.running < this.workers && this.order.length > 0) {
      const key = this.order.shift()!;
      this.pending.delete(key);
      this.inFlight.add(key);
      this.running++;
      void this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    let retryIn = 0;
    try {
      await this.handler(key);
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      this.onError(key, err);
      retryIn = Math.min(50 * 2 ** n, 10_000);
    } finally {
      this.inFlight.delete(key);
      this.running--;
    }
    if (this.dirty.delete(key)) this.add(key);
    this.pump();
    if (retryIn > 0) {
      await sleep(retryIn);
      this.add(key);
    }
  }
}
