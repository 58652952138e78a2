/**
 * Waiting for a condition with a deadline (tests, benchmarks, start-up checks).
 */
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `fn` every `intervalMs` until it returns a value other than undefined/false; errors count as
 * "not yet". At the deadline it throws, naming `what` and the last error.
 */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, what = 'condition', intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} did not hold within ${timeoutMs} ms${last instanceof Error ? `: ${last.message}` : ''}`);
    }
    await sleep(intervalMs);
  }
}
