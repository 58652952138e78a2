/**
 * The body of `GET /mappings` (schema version 1, documented in README.md "Inspection"): every mapping
 * of this node's port tables with what the agent knows about it — the rule as read back from the
 * dataplane, the socket holding the node port, and whether the Pod's annotation carries it. Pure:
 * the caller gathers the observations (mappings-route.ts).
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { IPFamily, PortEntry, Protocol } from '@npl/core';
import { canonicalIP, isCompleteNplEntry, NPL_ANNOTATION_KEY, parseNplAnnotation } from '@npl/core';
import { mappingKey } from './dataplane/mappings.js';

export const MAPPINGS_SCHEMA_VERSION = 1;

/**
 * `present`: the dataplane read found the rule intact. `pending`: absent, but an add (or the
 * start-up sync) that installs it is under way. `missing`: absent and nothing under way (the
 * drift repair reinstalls it at its next period). `unknown`: the dataplane could not be read.
 */
export type RuleState = 'present' | 'missing' | 'pending' | 'unknown';

/**
 * `match`: the Pod's annotation has this entry (podPort, protocol, ipFamily, nodeIP, nodePort).
 * `differs`: it has entries but not this one. `absent`: no annotation (or no Pod). `invalid`: the
 * annotation cannot be parsed.
 */
export type AnnotationState = 'match' | 'differs' | 'absent' | 'invalid';

export interface MappingReportEntry {
  readonly pod: { readonly namespace: string; readonly name: string; readonly uid: string | null };
  readonly podIP: string;
  readonly podPort: number;
  readonly protocol: Protocol;
  readonly family: IPFamily;
  /** The address the annotation carries for this family; null while the Node has none. */
  readonly nodeIP: string | null;
  readonly nodePort: number;
  readonly rule: RuleState;
  /** Null when the port reserver cannot say (a reserver without `isHeld`). */
  readonly socketHeld: boolean | null;
  readonly annotation: AnnotationState;
  /** The mapping's deletion has started (Antrea's defunct entry); it is never reused. */
  readonly defunct: boolean;
  /** Owning Services, `namespace/name`, sorted; empty until known after a restore. */
  readonly services: readonly string[];
}

export interface DataplaneReadState {
  readonly family: IPFamily;
  readonly read: 'ok' | 'failed';
  readonly error?: string;
}

export interface MappingsReport {
  readonly schemaVersion: typeof MAPPINGS_SCHEMA_VERSION;
  readonly node: string;
  /** True once the start-up sync installed the restored mappings; before, absent rules are `pending`. */
  readonly synced: boolean;
  readonly dataplanes: readonly DataplaneReadState[];
  readonly mappings: readonly MappingReportEntry[];
}

/** What was observed of one family, at one moment. */
export interface FamilyObservation {
  readonly family: IPFamily;
  readonly nodeIP: string | undefined;
  readonly entries: readonly PortEntry[];
  /** mappingKey of the entries whose rules the dataplane read found intact; undefined when the read failed. */
  readonly present: ReadonlySet<string> | undefined;
  readonly readError?: string;
  /** mappingKey of mappings with an add, delete or sync under way. */
  readonly inFlight: ReadonlySet<string>;
}

export interface ReportInput {
  readonly node: string;
  readonly synced: boolean;
  readonly families: readonly FamilyObservation[];
  readonly pod: (key: string) => V1Pod | undefined;
  readonly socketHeld?: (port: number, protocol: Protocol, family: IPFamily) => boolean;
}

function ruleState(entry: PortEntry, obs: FamilyObservation, synced: boolean): RuleState {
  const key = mappingKey(entry);
  if (!obs.present) return 'unknown';
  if (obs.present.has(key)) return 'present';
  return obs.inFlight.has(key) || !synced ? 'pending' : 'missing';
}

/** Whether the Pod's annotation carries `entry` with `nodeIP`. */
export function annotationState(pod: V1Pod | undefined, entry: PortEntry, nodeIP: string | undefined): AnnotationState {
  const text = pod?.metadata?.annotations?.[NPL_ANNOTATION_KEY];
  if (text === undefined) return 'absent';
  let parsed;
  try {
    parsed = parseNplAnnotation(text);
  } catch {
    return 'invalid';
  }
  const want = nodeIP === undefined ? undefined : canonicalIP(nodeIP);
  const found = parsed
    .filter(isCompleteNplEntry)
    .some(
      (a) =>
        a.podPort === entry.podPort &&
        a.protocol === entry.protocol &&
        a.ipFamily === entry.family &&
        a.nodePort === entry.nodePort &&
        want !== undefined &&
        canonicalIP(a.nodeIP) === want,
    );
  return found ? 'match' : 'differs';
}

function reportEntry(entry: PortEntry, obs: FamilyObservation, input: ReportInput): MappingReportEntry {
  const [namespace = '', name = ''] = entry.podKey.split('/');
  const pod = input.pod(entry.podKey);
  return {
    pod: { namespace, name, uid: pod?.metadata?.uid ?? null },
    podIP: entry.podIP,
    podPort: entry.podPort,
    protocol: entry.protocol,
    family: entry.family,
    nodeIP: obs.nodeIP ?? null,
    nodePort: entry.nodePort,
    rule: ruleState(entry, obs, input.synced),
    socketHeld: input.socketHeld ? input.socketHeld(entry.nodePort, entry.protocol, entry.family) : null,
    annotation: annotationState(pod, entry, obs.nodeIP),
    defunct: entry.defunct,
    services: [...entry.services],
  };
}

const FAMILY_ORDER: Record<IPFamily, number> = { IPv4: 0, IPv6: 1 };

/** Pod namespace, name, family (IPv4 first), protocol, pod port, node port. */
export function compareReportEntries(a: MappingReportEntry, b: MappingReportEntry): number {
  return (
    a.pod.namespace.localeCompare(b.pod.namespace) ||
    a.pod.name.localeCompare(b.pod.name) ||
    FAMILY_ORDER[a.family] - FAMILY_ORDER[b.family] ||
    a.protocol.localeCompare(b.protocol) ||
    a.podPort - b.podPort ||
    a.nodePort - b.nodePort
  );
}

/** The report: one entry per port-table entry of every family, sorted (compareReportEntries). */
export function buildMappingsReport(input: ReportInput): MappingsReport {
  const mappings = input.families.flatMap((obs) => obs.entries.map((e) => reportEntry(e, obs, input))).sort(compareReportEntries);
  const dataplanes = input.families.map((obs): DataplaneReadState => (obs.present ? { family: obs.family, read: 'ok' } : { family: obs.family, read: 'failed', error: obs.readError ?? 'unknown error' }));
  return { schemaVersion: MAPPINGS_SCHEMA_VERSION, node: input.node, synced: input.synced, dataplanes, mappings };
}

/** Reads the `pod` query parameter: `namespace/name`. Throws an Error naming the parameter otherwise. */
export function parsePodFilter(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[^/\s]+\/[^/\s]+$/.test(value)) {
    throw new Error(`query parameter pod ${JSON.stringify(value)}: expected namespace/name, e.g. ?pod=default/web-0`);
  }
  return value;
}
