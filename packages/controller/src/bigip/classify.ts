/**
 * BIG-IP failures classified once. Every caller handles a class the same way:
 * - `notFound`: a delete is done; anything else re-reads the device and plans again.
 * - `conflict`: a create becomes an update; anything else re-reads and plans again.
 * - `authExpired`: the client logs in again once and repeats the request.
 * - `busy`: retried after an exponential backoff with jitter (503, "in progress", timeouts at BIG-IP).
 * - `invalid`: not retried until the desired state changes (the same request would fail again).
 * - `transport`: no usable answer (refused, reset, TLS, timeout): retried with backoff.
 */
import { ControllerError } from '../errors.js';

export type ErrorClass = 'notFound' | 'conflict' | 'authExpired' | 'busy' | 'invalid' | 'transport';

export const ERROR_CLASSES: readonly ErrorClass[] = ['notFound', 'conflict', 'authExpired', 'busy', 'invalid', 'transport'];

/** Classes worth retrying with backoff. */
export function isRetryable(c: ErrorClass): boolean {
  return c === 'busy' || c === 'transport' || c === 'authExpired';
}

const BUSY_TEXT = /active asynchronous task|operation in progress|operations are in progress|try again/i;

/** The class of an HTTP answer with `status` (>= 400) and the F5 `message` of its body. */
export function classifyResponse(status: number, message: string): ErrorClass {
  if (status === 401) return 'authExpired';
  if (status === 404 || /\b01020036:/.test(message)) return 'notFound';
  if (status === 409 || /\b01020066:/.test(message)) return 'conflict';
  if (status === 503 || status === 502 || status === 504 || status === 429 || BUSY_TEXT.test(message)) return 'busy';
  if (status >= 500) return 'busy';
  return 'invalid';
}

export interface BigipErrorDetails {
  readonly errorClass: ErrorClass;
  readonly method: string;
  readonly path: string;
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  /** BIG-IP's message (`message` of the error body) or the transport error's. */
  readonly f5Message: string;
}

export class BigipError extends ControllerError {
  readonly details: BigipErrorDetails;

  constructor(details: BigipErrorDetails, options?: { cause?: unknown }) {
    const status = details.status === 0 ? 'no answer' : `HTTP ${details.status}`;
    super('CTL_BIGIP_REQUEST_FAILED', `BIG-IP ${details.method} ${details.path}: ${status} (${details.errorClass}): ${details.f5Message}`, options);
    this.details = details;
  }

  get errorClass(): ErrorClass {
    return this.details.errorClass;
  }
}

export function isBigipError(err: unknown, c?: ErrorClass): err is BigipError {
  return err instanceof BigipError && (c === undefined || err.errorClass === c);
}

/** The class of any error thrown while talking to BIG-IP: a BigipError's own, otherwise transport. */
export function classOf(err: unknown): ErrorClass {
  return err instanceof BigipError ? err.errorClass : 'transport';
}
