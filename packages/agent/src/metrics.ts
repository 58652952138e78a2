/**
 * The agent's Prometheus metrics (Antrea has none). Names use the `npl_agent_` prefix.
 */
import type { Counter, Gauge, Histogram } from '@npl/runtime';
import { registerProcessMetrics, Registry } from '@npl/runtime';

export interface AgentMetrics {
  readonly registry: Registry;
  /** Mappings held, by family and protocol (recounted after each reconcile). */
  readonly mappings: Gauge;
  /** Free node ports left, by family and protocol. */
  readonly portsFree: Gauge;
  readonly mappingsAdded: Counter;
  readonly mappingsDeleted: Counter;
  /** Reconciles by result: success, error. */
  readonly reconciles: Counter;
  readonly reconcileSeconds: Histogram;
  /** Pod updates not queued: nothing a reconcile reads changed (mostly the echoes of our own PATCHes). */
  readonly updatesSkipped: Counter;
  /** Annotation patches by op: set, remove. */
  readonly annotationPatches: Counter;
  readonly allocationFailures: Counter;
  /** Drift found by the periodic dataplane check, by family; each was repaired. */
  readonly dataplaneRepairs: Counter;
  readonly dataplaneErrors: Counter;
  /** Stale UDP conntrack entries of our node ports deleted after a mapping change, by family. */
  readonly conntrackDeleted: Counter;
  /** `conntrack -D` calls that failed (logged, not retried), by family. */
  readonly conntrackFailures: Counter;
  /** Address families added to or removed from the dataplane while running, by family and op (add, remove). */
  readonly familyChanges: Counter;
  /** Kubernetes Events not recorded, by reason (timeout, error, overload). */
  readonly eventsDropped: Counter;
  readonly queueDepth: Gauge;
  readonly ready: Gauge;
}

/** The agent's metrics, plus the process_* and nodejs_* ones (prom-client's default names). */
export function createAgentMetrics(registry = new Registry()): AgentMetrics {
  registerProcessMetrics(registry);
  return agentMetrics(registry);
}

function agentMetrics(registry: Registry): AgentMetrics {
  return {
    registry,
    mappings: registry.gauge('npl_agent_mappings', 'NodePortLocal mappings held by this agent.'),
    portsFree: registry.gauge('npl_agent_ports_free', 'Node ports of the range not held by a mapping.'),
    mappingsAdded: registry.counter('npl_agent_mappings_added_total', 'Mappings installed.'),
    mappingsDeleted: registry.counter('npl_agent_mappings_deleted_total', 'Mappings removed.'),
    reconciles: registry.counter('npl_agent_pod_reconciles_total', 'Pod reconciles by result.'),
    updatesSkipped: registry.counter('npl_agent_pod_updates_skipped_total', 'Pod updates not reconciled: nothing a reconcile reads changed and the annotation is the one last settled (own PATCH echoes).'),
    reconcileSeconds: registry.histogram('npl_agent_pod_reconcile_duration_seconds', 'Duration of one Pod reconcile.'),
    annotationPatches: registry.counter('npl_agent_annotation_patches_total', 'Pod annotation patches by operation.'),
    allocationFailures: registry.counter('npl_agent_port_allocation_failures_total', 'Node port allocations that failed (range exhausted).'),
    dataplaneRepairs: registry.counter('npl_agent_dataplane_repairs_total', 'Dataplane drift found and repaired.'),
    dataplaneErrors: registry.counter('npl_agent_dataplane_errors_total', 'Dataplane operations that failed.'),
    conntrackDeleted: registry.counter('npl_agent_conntrack_entries_deleted_total', 'Stale UDP conntrack entries of node ports deleted after a mapping change.'),
    conntrackFailures: registry.counter('npl_agent_conntrack_cleanup_failures_total', 'Conntrack clean-ups that failed (logged, not retried).'),
    familyChanges: registry.counter('npl_agent_family_changes_total', 'Address families added to or removed from the dataplane at run time.'),
    eventsDropped: registry.counter('npl_agent_events_dropped_total', 'Kubernetes Events not recorded, by reason (timeout, error, overload).'),
    queueDepth: registry.gauge('npl_agent_workqueue_depth', 'Pods waiting to be reconciled.'),
    ready: registry.gauge('npl_agent_ready', '1 while every /readyz check passes (recomputed at each scrape).'),
  };
}
