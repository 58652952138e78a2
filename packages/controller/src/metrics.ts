/**
 * The controller's Prometheus metrics.
 */
import type { Counter, Gauge, Histogram } from '@npl/runtime';
import { registerProcessMetrics, Registry } from '@npl/runtime';

export interface ControllerMetrics {
  readonly registry: Registry;
  /** Syncs by result (`success`, `failure`). */
  readonly syncs: Counter;
  /** Failed syncs by error class. */
  readonly failures: Counter;
  /** BIG-IP requests by method and HTTP status (0: no answer). */
  readonly requests: Counter;
  /** Pool members the controller manages. */
  readonly members: Gauge;
  readonly pools: Gauge;
  /** Unix time of the last successful sync, seconds. */
  readonly lastSuccess: Gauge;
  readonly duration: Histogram;
  /** Kubernetes Events not recorded, by reason (`timeout`, `error`, `overload`). */
  readonly eventsDropped: Counter;
}

/** The controller's metrics, plus the process_* and nodejs_* ones (prom-client's default names). */
export function createControllerMetrics(registry = new Registry()): ControllerMetrics {
  registerProcessMetrics(registry);
  return {
    registry,
    syncs: registry.counter('npl_controller_syncs_total', 'BIG-IP syncs by result'),
    failures: registry.counter('npl_controller_sync_failures_total', 'Failed BIG-IP syncs by error class (notFound, conflict, authExpired, busy, invalid, transport)'),
    requests: registry.counter('npl_controller_bigip_requests_total', 'BIG-IP requests by method and HTTP status (0 = no answer)'),
    members: registry.gauge('npl_controller_members', 'Pool members managed'),
    pools: registry.gauge('npl_controller_pools', 'Pools managed'),
    lastSuccess: registry.gauge('npl_controller_last_success_timestamp_seconds', 'Unix time of the last successful sync'),
    duration: registry.histogram('npl_controller_sync_duration_seconds', 'Duration of a sync (observe, plan, apply)'),
    eventsDropped: registry.counter('npl_controller_events_dropped_total', 'Kubernetes Events not recorded, by reason (timeout, error, overload).'),
  };
}
