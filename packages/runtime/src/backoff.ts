/**
 * Exponential backoff delays, as pure functions of the attempt number.
 */

export interface BackoffPolicy {
  /** Delay of the first retry, ms. */
  readonly initialMs: number;
  /** Growth per attempt (2 doubles). */
  readonly factor: number;
  /** Upper bound, ms. */
  readonly maxMs: number;
  /** Fraction of random extra delay in [0, jitter); 0 for none. */
  readonly jitter?: number;
}

/** Antrea's per-Pod requeue: 2 s, doubling, capped at 120 s (client-go ItemExponentialFailureRateLimiter). */
export const POD_REQUEUE_BACKOFF: BackoffPolicy = { initialMs: 2_000, factor: 2, maxMs: 120_000 };

/**
 * Delay before retry number `attempt` (0-based). `random` returns [0, 1) and is only consulted when
 * the policy has jitter. Never exceeds `maxMs * (1 + jitter)`.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * Math.pow(policy.factor, Math.max(0, attempt)));
  const jitter = policy.jitter ?? 0;
  return jitter > 0 ? base + base * jitter * random() : base;
}
