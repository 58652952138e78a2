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
  /** Annotation patches by op: set, remove. */
  readonly annotationPatches: Counter;
  readonly allocationFailures: Counter;
  /** Drift found by the periodic dataplane check, by family; each was repaired. */
  readonly dataplaneRepairs: Counter;
  readonly dataplaneErrors: Counter;
  readonly queueDepth: Gauge;
  readonly ready: Gauge;
}

/** The agent's metrics, plus the process_* and nodejs_* ones (prom-client's default names). */
export function createAgentMetrics(registry = new Registry()): AgentMetrics {
  registerProcessMetrics(registry);
  return {
    registry,
    mappings: registry.gauge('npl_agent_mappings', 'NodePortLocal mappings held by this agent.'),
    portsFree: registry.gauge('npl_agent_ports_free', 'Node ports of the range not held by a mapping.'),
    mappingsAdded: registry.counter('npl_agent_mappings_added_total', 'Mappings installed.'),
    mappingsDeleted: registry.counter('npl_agent_mappings_deleted_total', 'Mappings removed.'),
    reconciles: registry.counter('npl_agent_pod_reconciles_total', 'Pod reconciles by result.'),
    reconcileSeconds: registry.histogram('npl_agent_pod_reconcile_duration_seconds', 'Duration of one Pod reconcile.'),
    annotationPatches: registry.counter('npl_agent_annotation_patches_total', 'Pod annotation patches by operation.'),
    allocationFailures: registry.counter('npl_agent_port_allocation_failures_total', 'Node port allocations that failed (range exhausted).'),
    dataplaneRepairs: registry.counter('npl_agent_dataplane_repairs_total', 'Dataplane drift found and repaired.'),
    dataplaneErrors: registry.counter('npl_agent_dataplane_errors_total', 'Dataplane operations that failed.'),
    queueDepth: registry.gauge('npl_agent_workqueue_depth', 'Pods waiting to be reconciled.'),
    ready: registry.gauge('npl_agent_ready', '1 while every /readyz check passes (recomputed at each scrape).'),
  };
}
