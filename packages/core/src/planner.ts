/**
 * The per-Pod reconcile decision (spec §2.2 steps 4–5, §2.3), as a pure function of what the Pod
 * wants and what the port tables hold. Allocation itself is not decided here: an `add` step asks the
 * family's PortTable for the next free node port, because only a real socket bind can say a port is
 * free. The caller applies steps in order, stops at the first error (and requeues), and only then
 * builds the annotation from the tables (`desiredAnnotation`).
 */
import type { TargetPort } from './service-selection.js';
import { portProtoKey } from './service-selection.js';
import type { IPFamily, NodeIPs, PodKey, PortEntry, Protocol } from './types.js';
import { IP_FAMILIES } from './types.js';

/** One (podPort, protocol) that enabled Services select on this Pod, with the families they ask for. */
export type PlanTarget = Pick<TargetPort, 'podPort' | 'protocol' | 'families' | 'services'>;

export interface PodPlanInput {
  readonly podKey: PodKey;
  /** Pod IP per family; an empty object means the Pod has no IP yet (or lost it). */
  readonly podIPs: Partial<Record<IPFamily, string>>;
  readonly nodeIPs: NodeIPs;
  /** Families this node has a port table for. */
  readonly families: readonly IPFamily[];
  /** Wanted pod ports; empty for a terminated Pod or one no enabled Service selects. */
  readonly targets: readonly PlanTarget[];
  /** `"<containerPort>:<protocol>"` → hostPort, from the Pod's containers. */
  readonly hostPorts: ReadonlyMap<string, number>;
  /** Every table entry of this Pod, all families, defunct ones included. */
  readonly entries: readonly PortEntry[];
}

export type DeleteReason = 'defunct' | 'pod-ip-changed' | 'not-wanted' | 'no-pod-ip';

export type PlanStep =
  | { readonly op: 'delete'; readonly entry: PortEntry; readonly reason: DeleteReason }
  | {
      readonly op: 'add';
      readonly family: IPFamily;
      readonly protocol: Protocol;
      readonly podPort: number;
      readonly podIP: string;
      readonly services: readonly string[];
    }
  | { readonly op: 'set-services'; readonly entry: PortEntry; readonly services: readonly string[] };

/** A mapping the annotation must list once the steps are applied. */
export interface DesiredMapping {
  readonly family: IPFamily;
  readonly protocol: Protocol;
  readonly podPort: number;
  readonly nodeIP: string;
  /** Set when a container hostPort serves this pod port: no rule, no socket, no table entry. */
  readonly hostPort?: number;
}

export type SkipReason = 'no-pod-ip-for-family' | 'no-node-ip-for-family' | 'family-not-enabled';

export interface PlanSkip {
  readonly family: IPFamily;
  readonly protocol: Protocol;
  readonly podPort: number;
  readonly reason: SkipReason;
}

export interface PodPlan {
  /** Deletes first (in table order), then adds and Service refreshes, in target order. */
  readonly steps: readonly PlanStep[];
  readonly desired: readonly DesiredMapping[];
  readonly skipped: readonly PlanSkip[];
  /** True when the Pod has no IP at all: every mapping goes and the annotation is removed if present. */
  readonly noPodIP: boolean;
}

function entryKey(family: IPFamily, podPort: number, protocol: Protocol): string {
  return `${family}/${podPort}:${protocol}`;
}

interface Resolved {
  readonly target: PlanTarget;
  readonly family: IPFamily;
  readonly podIP: string;
  readonly nodeIP: string;
}

function resolveFamily(input: PodPlanInput, target: PlanTarget, family: IPFamily): Resolved | SkipReason {
  if (!input.families.includes(family)) return 'family-not-enabled';
  const podIP = input.podIPs[family];
  if (podIP === undefined || podIP === '') return 'no-pod-ip-for-family';
  const nodeIP = input.nodeIPs[family];
  if (nodeIP === undefined || nodeIP === '') return 'no-node-ip-for-family';
  return { target, family, podIP, nodeIP };
}

function sameServices(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** Steps for one wanted (family, port, protocol) that needs a table entry. */
function stepsForTableMapping(r: Resolved, existing: PortEntry | undefined): PlanStep[] {
  const { target, family, podIP } = r;
  const add: PlanStep = {
    op: 'add',
    family,
    protocol: target.protocol,
    podPort: target.podPort,
    podIP,
    services: target.services,
  };
  if (existing === undefined) return [add];
  if (existing.defunct) return [{ op: 'delete', entry: existing, reason: 'defunct' }, add];
  if (existing.podIP !== podIP) return [{ op: 'delete', entry: existing, reason: 'pod-ip-changed' }, add];
  if (sameServices(existing.services, target.services)) return [];
  return [{ op: 'set-services', entry: existing, services: target.services }];
}

interface Accumulator {
  readonly wanted: Set<string>;
  readonly deletes: PlanStep[];
  readonly rest: PlanStep[];
  readonly desired: DesiredMapping[];
  readonly skipped: PlanSkip[];
}

function planTarget(input: PodPlanInput, target: PlanTarget, byKey: ReadonlyMap<string, PortEntry>, acc: Accumulator): void {
  const hostPort = input.hostPorts.get(portProtoKey(target.podPort, target.protocol));
  for (const family of IP_FAMILIES.filter((f) => target.families.has(f))) {
    const r = resolveFamily(input, target, family);
    if (typeof r === 'string') {
      acc.skipped.push({ family, protocol: target.protocol, podPort: target.podPort, reason: r });
      continue;
    }
    const key = entryKey(family, target.podPort, target.protocol);
    const existing = byKey.get(key);
    const base = { family, protocol: target.protocol, podPort: target.podPort, nodeIP: r.nodeIP };
    if (hostPort !== undefined && (existing === undefined || existing.defunct)) {
      acc.desired.push({ ...base, hostPort });
      continue;
    }
    acc.wanted.add(key);
    acc.desired.push(base);
    for (const step of stepsForTableMapping(r, existing)) (step.op === 'delete' ? acc.deletes : acc.rest).push(step);
  }
}

/**
 * Decide what to do for one Pod. Pure and total: every input gives a plan.
 *
 * Where Antrea keeps a table entry whose family is no longer wanted (its cleanup keys on port and
 * protocol only), we delete it: the annotation would not list it, so it would only hold a port.
 */
export function planPod(input: PodPlanInput): PodPlan {
  const noPodIP = IP_FAMILIES.every((f) => !input.podIPs[f]);
  if (noPodIP) {
    const steps = input.entries.map((entry): PlanStep => ({ op: 'delete', entry, reason: 'no-pod-ip' }));
    return { steps, desired: [], skipped: [], noPodIP };
  }

  const byKey = new Map(input.entries.map((e) => [entryKey(e.family, e.podPort, e.protocol), e]));
  const acc: Accumulator = { wanted: new Set(), deletes: [], rest: [], desired: [], skipped: [] };
  for (const target of input.targets) planTarget(input, target, byKey, acc);
  const { wanted, deletes, rest, desired, skipped } = acc;

  for (const entry of input.entries) {
    if (!wanted.has(entryKey(entry.family, entry.podPort, entry.protocol))) {
      deletes.push({ op: 'delete', entry, reason: entry.defunct ? 'defunct' : 'not-wanted' });
    }
  }
  return { steps: [...deletes, ...rest], desired, skipped, noPodIP };
}
