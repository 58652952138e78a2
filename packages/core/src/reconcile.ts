/**
 * One Pod's reconcile (Antrea's handleAddUpdatePod / handleRemovePod): plan, apply the plan to the
 * family port tables (sockets and dataplane are behind them), then decide the annotation. Level
 * based: the same inputs always converge to the same state, whatever happened before.
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { podIPForFamily } from './addresses.js';
import type { AnnotationAction } from './annotation-plan.js';
import { annotationAction, nplAnnotationOf, requiredAnnotation } from './annotation-plan.js';
import { NplError } from './errors.js';
import type { PlanStep, PodPlan } from './planner.js';
import { planPod } from './planner.js';
import type { PortTable } from './port-table.js';
import type { TargetPortSelection } from './service-selection.js';
import { selectTargetPorts } from './service-selection.js';
import type { IPFamily, NodeIPs, PodKey, PortEntry } from './types.js';
import { IP_FAMILIES } from './types.js';

export interface PodReconcileInput {
  readonly key: PodKey;
  /** The Pod as the informer has it; undefined once deleted. */
  readonly pod: V1Pod | undefined;
  /** Services of the Pod's namespace (others never select it). */
  readonly services: readonly V1Service[];
  readonly nodeIPs: NodeIPs;
  /** The node's port tables; a family without a table gets no mappings. */
  readonly tables: ReadonlyMap<IPFamily, PortTable>;
  /** Told about each step after it succeeded (for logs, metrics and Events). */
  readonly onStep?: (step: PlanStep, entry: PortEntry | undefined) => void;
}

export interface PodReconcileResult {
  /** What to patch; `none` for a deleted Pod (its object is gone). */
  readonly annotation: AnnotationAction;
  readonly plan?: PodPlan;
  readonly selection?: TargetPortSelection;
}

function tablesEntries(key: PodKey, tables: ReadonlyMap<IPFamily, PortTable>): PortEntry[] {
  return [...tables.values()].flatMap((t) => t.entriesForPod(key));
}

function table(tables: ReadonlyMap<IPFamily, PortTable>, family: IPFamily): PortTable {
  const t = tables.get(family);
  if (!t) throw new Error(`plan step for ${family} without a ${family} port table`);
  return t;
}

async function applyStep(key: PodKey, step: PlanStep, tables: ReadonlyMap<IPFamily, PortTable>): Promise<PortEntry | undefined> {
  switch (step.op) {
    case 'delete': {
      const t = table(tables, step.entry.family);
      await t.deleteRule(key, step.entry.podPort, step.entry.protocol);
      // A Pod that lost its IP (sandbox recreated, node restarted) gets the same port back with it.
      if (step.reason === 'no-pod-ip') t.hintPort(key, step.entry.podPort, step.entry.protocol, step.entry.nodePort);
      return step.entry;
    }
    case 'add':
      return table(tables, step.family).addRule(key, step.podIP, step.podPort, step.protocol, step.services);
    case 'set-services':
      table(tables, step.entry.family).setServices(key, step.entry.podPort, step.entry.protocol, step.services);
      return step.entry;
  }
}

function describeStep(step: PlanStep): string {
  if (step.op === 'add') return `add ${step.family} ${step.podPort}/${step.protocol} -> ${step.podIP}`;
  const e = step.entry;
  return `${step.op} ${e.family} ${e.protocol} node port ${e.nodePort} (${e.podPort}/${e.protocol} -> ${e.podIP})`;
}

/** Apply steps in order; the first failure stops the round (already applied steps stay applied). */
async function applyPlan(input: PodReconcileInput, plan: PodPlan): Promise<void> {
  for (const step of plan.steps) {
    let entry: PortEntry | undefined;
    try {
      entry = await applyStep(input.key, step, input.tables);
    } catch (err) {
      const code = err instanceof NplError ? err.code : 'NPL_DATAPLANE_FAILED';
      throw new NplError(code, `Pod ${input.key}: ${describeStep(step)} failed: ${(err as Error).message}`, { cause: err });
    }
    input.onStep?.(step, entry);
  }
}

/**
 * Reconcile one Pod. Throws (for a rate-limited requeue) when a step fails; the annotation is then
 * left as it is, as Antrea does, so consumers never see a mapping that is not installed.
 */
export async function reconcilePod(input: PodReconcileInput): Promise<PodReconcileResult> {
  const { key, pod, tables } = input;
  if (pod === undefined) {
    for (const t of tables.values()) {
      for (const entry of await t.deleteAllForPod(key)) input.onStep?.({ op: 'delete', entry, reason: 'not-wanted' }, entry);
    }
    return { annotation: { kind: 'none' } };
  }
  const selection = selectTargetPorts(pod, input.services);
  const podIPs: Partial<Record<IPFamily, string>> = {};
  for (const f of IP_FAMILIES) {
    const ip = podIPForFamily(pod, f);
    if (ip) podIPs[f] = ip;
  }
  const plan = planPod({
    podKey: key,
    podIPs,
    nodeIPs: input.nodeIPs,
    families: [...tables.keys()],
    targets: selection.targets,
    hostPorts: selection.hostPorts,
    entries: tablesEntries(key, tables),
  });
  await applyPlan(input, plan);
  const existing = nplAnnotationOf(pod);
  if (plan.noPodIP) {
    return { annotation: existing === undefined ? { kind: 'none' } : { kind: 'remove' }, plan, selection };
  }
  const required = requiredAnnotation(key, plan.desired, (family, k, podPort, protocol) =>
    tables.get(family)?.getEntry(k, podPort, protocol),
  );
  return { annotation: annotationAction(existing, required), plan, selection };
}
