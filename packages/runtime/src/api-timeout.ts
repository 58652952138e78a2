/**
 * A deadline for each API request made through client-node's typed calls (issue 11). A hung API
 * server (the process stopped: connections accepted, nothing answered) must fail a request, not hold
 * its caller (a worker, an Event write) until the process is restarted. client-node 2.x sends through
 * undici's `fetch` with the request context's AbortSignal; this middleware gives each request its own
 * timeout signal, which covers the response body too. A timed-out call rejects with a DOMException
 * named `TimeoutError` (see `isApiTimeout`). Watches are not concerned: client-node's `Watch` has its
 * own connect and inactivity timeouts.
 */
import type { ConfigurationOptions, ObservableMiddleware, RequestContext, ResponseContext } from '@kubernetes/client-node';
import { Observable } from '@kubernetes/client-node';

/** Per-request deadline of the agent's and controller's API reads and writes outside watches, ms. */
export const DEFAULT_API_TIMEOUT_MS = 30_000;

/** Middleware that gives each request a fresh `AbortSignal.timeout(ms)` (ms > 0). */
export function timeoutMiddleware(ms: number): ObservableMiddleware {
  if (!(ms > 0)) throw new RangeError(`API request timeout ${ms} ms: expected a positive number of milliseconds`);
  return {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(AbortSignal.timeout(ms));
      return new Observable(Promise.resolve(ctx));
    },
    post: (rsp: ResponseContext) => new Observable(Promise.resolve(rsp)),
  };
}

/**
 * Call options (the last argument of a typed client-node call) that time the request out after `ms`,
 * keeping `options`' own middleware (appended after it, on top of the API client's).
 */
export function withApiTimeout(ms: number = DEFAULT_API_TIMEOUT_MS, options?: ConfigurationOptions<ObservableMiddleware>): ConfigurationOptions<ObservableMiddleware> {
  return { ...options, middleware: [...(options?.middleware ?? []), timeoutMiddleware(ms)], middlewareMergeStrategy: 'append' };
}

/** True for the rejection of a request that ran out of time (ours or client-node's watch's). */
export function isApiTimeout(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'TimeoutError';
}
