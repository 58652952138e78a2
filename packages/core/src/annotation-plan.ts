/**
 * What to write into a Pod's `nodeportlocal.antrea.io` annotation once its mappings are applied
 * (spec §2.2 step 6, §6.3), and which annotations to drop or restore at agent start-up (§5).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { podIPForFamily } from './addresses.js';
import type { CompleteNplEntry, NplAnnotationEntry, ParsedNplEntry } from './annotation.js';
import { annotationUpToDate, formatNplAnnotation, isCompleteNplEntry, NPL_ANNOTATION_KEY, parseNplAnnotation } from './annotation.js';
import { isNplError } from './errors.js';
import type { DesiredMapping } from './planner.js';
import type { RestoredMapping } from './port-table.js';
import { inPortRange } from './port-range.js';
import { podKey } from './service-selection.js';
import type { IPFamily, PodKey, PortEntry, PortRange, Protocol } from './types.js';

export type AnnotationAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'set'; readonly value: string }
  | { readonly kind: 'remove' };

/** Looks up the table entry of a mapping (the family's PortTable.getEntry). */
export type EntryLookup = (family: IPFamily, podKey: PodKey, podPort: number, protocol: Protocol) => PortEntry | undefined;

/**
 * The annotation entries for `desired`, node ports taken from the hostPort or the table. Throws
 * when a table-backed mapping has no live entry: the caller builds the annotation only after every
 * plan step succeeded, so that is a bug, never a user error.
 */
export function requiredAnnotation(key: PodKey, desired: readonly DesiredMapping[], lookup: EntryLookup): NplAnnotationEntry[] {
  return desired.map((d) => {
    const nodePort = d.hostPort ?? lookup(d.family, key, d.podPort, d.protocol)?.nodePort;
    if (nodePort === undefined) {
      throw new Error(`no ${d.family} port table entry for ${key} ${d.podPort}/${d.protocol} after a successful sync`);
    }
    return { podPort: d.podPort, nodeIP: d.nodeIP, nodePort, protocol: d.protocol, ipFamily: d.family };
  });
}

/** The annotation value of a Pod, undefined when the key is absent. */
export function nplAnnotationOf(pod: V1Pod): string | undefined {
  return pod.metadata?.annotations?.[NPL_ANNOTATION_KEY];
}

/**
 * Decide the patch. Antrea semantics, with two improvements: an unparseable value is overwritten
 * (Antrea skips such a Pod until the agent restarts), and an old-format value is rewritten once in
 * the current format. Nothing required: the key is removed when it holds any mapping or is invalid,
 * and left alone when absent or an empty list (`[]`, `null`), as Antrea leaves it.
 */
export function annotationAction(existing: string | undefined, required: readonly NplAnnotationEntry[]): AnnotationAction {
  let parsed: ParsedNplEntry[] | undefined;
  if (existing !== undefined) {
    try {
      parsed = parseNplAnnotation(existing);
    } catch (err) {
      if (!isNplError(err, 'NPL_ANNOTATION_INVALID')) throw err;
    }
  }
  if (required.length === 0) {
    if (existing === undefined || (parsed !== undefined && parsed.length === 0)) return { kind: 'none' };
    return { kind: 'remove' };
  }
  if (parsed !== undefined && annotationUpToDate(parsed, required)) return { kind: 'none' };
  return { kind: 'set', value: formatNplAnnotation(required) };
}

export interface RestoreOptions {
  readonly range: PortRange;
  /** Families with a port table on this node. */
  readonly families: readonly IPFamily[];
}

export type RestoreSkipReason =
  | 'incomplete-entry'
  | 'family-not-enabled'
  | 'no-pod-ip-for-family'
  | 'node-port-out-of-range';

export interface RestorePlan {
  /** Mappings to adopt, per family, in Pod then annotation order. */
  readonly mappings: Readonly<Record<IPFamily, readonly RestoredMapping[]>>;
  /** Pods whose annotation is removed before workers start: unparseable, or the Pod has no IP. */
  readonly removeAnnotation: readonly { readonly podKey: PodKey; readonly reason: 'invalid-annotation' | 'no-pod-ip'; readonly detail?: string }[];
  readonly skipped: readonly { readonly podKey: PodKey; readonly index: number; readonly reason: RestoreSkipReason }[];
  /**
   * The node ports of Pods whose annotation is removed because they have no IP, per family: not
   * restored (Antrea's TestInitMissingPodIP), only offered back to the same endpoint once the Pod has
   * an IP again (PortTable.hintPort), so a restarted node's Pods keep their ports. Complete entries
   * of an enabled family inside the range only.
   */
  readonly hints: Readonly<Record<IPFamily, readonly PortHintEntry[]>>;
}

export interface PortHintEntry {
  readonly podKey: PodKey;
  readonly podPort: number;
  readonly protocol: Protocol;
  readonly nodePort: number;
}

/**
 * Antrea's start-up restore (§5): which annotated mappings to adopt so node ports survive agent
 * restarts. Deliberately not checked, as in Antrea: Service selection, Pod phase, node IP, duplicate
 * node ports (the second fails its socket bind in PortTable.restore and is dropped there).
 */
export function planRestore(pods: readonly V1Pod[], options: RestoreOptions): RestorePlan {
  const mappings: Record<IPFamily, RestoredMapping[]> = { IPv4: [], IPv6: [] };
  const removeAnnotation: RestorePlan['removeAnnotation'][number][] = [];
  const skipped: RestorePlan['skipped'][number][] = [];
  const hints: Record<IPFamily, PortHintEntry[]> = { IPv4: [], IPv6: [] };
  for (const pod of pods) {
    const text = nplAnnotationOf(pod);
    if (text === undefined) continue;
    const key = podKey(pod);
    let entries: ParsedNplEntry[];
    try {
      entries = parseNplAnnotation(text);
    } catch (err) {
      removeAnnotation.push({ podKey: key, reason: 'invalid-annotation', detail: (err as Error).message });
      continue;
    }
    if (!(pod.status?.podIPs ?? []).some((ip) => ip.ip)) {
      removeAnnotation.push({ podKey: key, reason: 'no-pod-ip' });
      for (const e of entries) {
        const u = usableEntry(e, options);
        if ('entry' in u && inPortRange(options.range, u.entry.nodePort)) {
          hints[u.entry.ipFamily].push({ podKey: key, podPort: u.entry.podPort, protocol: u.entry.protocol, nodePort: u.entry.nodePort });
        }
      }
      continue;
    }
    entries.forEach((entry) => {
      const verdict = restoreEntry(pod, key, entry, options);
      if ('reason' in verdict) skipped.push({ podKey: key, index: entry.index, reason: verdict.reason });
      else mappings[verdict.family].push(verdict.mapping);
    });
  }
  return { mappings, removeAnnotation, skipped, hints };
}

/** The entry when it can be restored on this node, Pod IP and port range aside; else why not. */
function usableEntry(entry: ParsedNplEntry, options: RestoreOptions): { readonly entry: CompleteNplEntry } | { readonly reason: 'incomplete-entry' | 'family-not-enabled' } {
  // Antrea reads an entry without a `protocol` field as protocol "": an incomplete rule, not restored.
  if (!isCompleteNplEntry(entry) || entry.protocolMissing) return { reason: 'incomplete-entry' };
  return options.families.includes(entry.ipFamily) ? { entry } : { reason: 'family-not-enabled' };
}

function restoreEntry(
  pod: V1Pod,
  key: PodKey,
  entry: ParsedNplEntry,
  options: RestoreOptions,
): { family: IPFamily; mapping: RestoredMapping } | { reason: RestoreSkipReason } {
  const usable = usableEntry(entry, options);
  if ('reason' in usable) return usable;
  const { entry: e } = usable;
  const family = e.ipFamily;
  const podIP = podIPForFamily(pod, family);
  if (podIP === undefined) return { reason: 'no-pod-ip-for-family' };
  if (!inPortRange(options.range, e.nodePort)) return { reason: 'node-port-out-of-range' };
  return {
    family,
    mapping: { podKey: key, nodePort: e.nodePort, podPort: e.podPort, podIP, protocol: e.protocol },
  };
}
