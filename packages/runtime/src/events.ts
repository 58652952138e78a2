/**
 * Kubernetes Events (core/v1) for what users must see in `kubectl describe`. Shared by npl-agent and
 * npl-controller; each keeps its own reasons and messages. The same (object, reason, message) is
 * sent at most once per interval.
 */
import type { CoreV1Api, CoreV1Event, V1ObjectReference } from '@kubernetes/client-node';
import type { Clock } from './clock.js';
import { realClock } from './clock.js';

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
}

/** Creates one Event per call through the API server, dropping repeats within `dedupeMs`. */
export class ApiEventRecorder implements EventRecorder {
  private readonly lastSent = new Map<string, number>();
  private readonly clock: Clock;
  private readonly options: ApiEventRecorderOptions;

  constructor(options: ApiEventRecorderOptions) {
    this.options = options;
    this.clock = options.clock ?? realClock;
  }

  record(object: V1ObjectReference, type: EventType, reason: string, message: string): void {
    const key = `${object.uid ?? `${object.namespace}/${object.name}`}|${reason}|${message}`;
    const now = this.clock.now();
    const last = this.lastSent.get(key);
    if (last !== undefined && now - last < (this.options.dedupeMs ?? 600_000)) return;
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
    this.options.core.createNamespacedEvent({ namespace, body }).catch((err: unknown) => this.options.onError?.(err));
  }
}
