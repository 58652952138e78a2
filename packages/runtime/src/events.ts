/**
 * Kubernetes Events (core/v1) for what users must see in `kubectl describe`. Shared by npl-agent and
 * npl-controller; each keeps its own reasons and messages. The same (object, reason, message) is
 * sent at most once per interval. Writes are fire-and-forget with a deadline and a cap on those in
 * flight: a hung API server never holds the caller, nor piles up requests; what cannot be written is
 * dropped (and reported through `onDropped`), never retried.
 */
import type { CoreV1Api, CoreV1Event, V1ObjectReference } from '@kubernetes/client-node';
import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import { DEFAULT_API_TIMEOUT_MS, isApiTimeout, withApiTimeout } from './api-timeout.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Best effort: never throws; failures go to `onError`. */
  record(object: V1ObjectReference, type: EventType, reason: string, message: string): void;
}

export interface ApiEventRecorderOptions {
  readonly core: Pick<CoreV1Api, 'createNamespacedEvent'>;
  readonly component: string;
  readonly host: string;
  readonly clock?: Clock;
  /** Minimum time between two identical events, ms. Default 10 min. */
  readonly dedupeMs?: number;
  readonly onError?: (err: unknown) => void;
  /** Deadline of one Event write, ms. Default 30 s (DEFAULT_API_TIMEOUT_MS). */
  readonly timeoutMs?: number;
  /** Event writes in flight at most; further Events are dropped (`overload`) until some end. Default 32. */
  readonly maxInFlight?: number;
  /** Called once per Event not recorded: timed out, failed (also given to `onError`), or over `maxInFlight`. */
  readonly onDropped?: (reason: EventDropReason) => void;
}

export type EventDropReason = 'timeout' | 'error' | 'overload';

/** The reasons `onDropped` reports, for metrics that list every label value up front. */
export const EVENT_DROP_REASONS: readonly EventDropReason[] = ['timeout', 'error', 'overload'];

/** Creates one Event per call through the API server, dropping repeats within `dedupeMs`. */
export class ApiEventRecorder implements EventRecorder {
  private readonly lastSent = new Map<string, number>();
  private readonly clock: Clock;
  private readonly options: ApiEventRecorderOptions;
  private readonly callOptions: ReturnType<typeof withApiTimeout>;
  private inFlight = 0;

  constructor(options: ApiEventRecorderOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.callOptions = withApiTimeout(options.timeoutMs ?? DEFAULT_API_TIMEOUT_MS);
  }

  /** Event writes sent and not yet answered (or timed out). */
  pending(): number {
    return this.inFlight;
  }

  record(object: V1ObjectReference, type: EventType, reason: string, message: string): void {
    const key = `${object.uid ?? `${object.namespace}/${object.name}`}|${reason}|${message}`;
    const now = this.clock.now();
    const last = this.lastSent.get(key);
    if (last !== undefined && now - last < (this.options.dedupeMs ?? 600_000)) return;
    if (this.inFlight >= (this.options.maxInFlight ?? 32)) {
      this.drop('overload');
      return;
    }
    this.lastSent.set(key, now);
    if (this.lastSent.size > 10_000) this.lastSent.clear();
    const namespace = object.namespace || 'default';
    const time = new Date();
    const body: CoreV1Event = {
      metadata: { generateName: `${object.name ?? 'object'}.`, namespace },
      involvedObject: object,
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.options.component, host: this.options.host },
      reportingComponent: this.options.component,
      reportingInstance: `${this.options.component}-${this.options.host}`,
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    };
    this.send(namespace, body);
  }

  private send(namespace: string, body: CoreV1Event): void {
    this.inFlight++;
    this.options.core
      .createNamespacedEvent({ namespace, body }, this.callOptions)
      .then(
        () => undefined,
        (err: unknown) => {
          this.drop(isApiTimeout(err) ? 'timeout' : 'error');
          this.options.onError?.(err);
        },
      )
      .catch(() => undefined)
      .finally(() => this.inFlight--);
  }

  private drop(reason: EventDropReason): void {
    try {
      this.options.onDropped?.(reason);
    } catch {
      // Best effort: a failing counter must not break the caller.
    }
  }
}
