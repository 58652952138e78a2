/**
 * `nplctl list`: the mappings the Pods' `nodeportlocal.antrea.io` annotations publish, one row per
 * entry, and one problem per Pod whose annotation cannot be read (or per entry that is incomplete),
 * so one bad annotation never hides the others. Pure.
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { NPL_ANNOTATION_KEY, parseNplAnnotation } from '@npl/core/annotation';
import type { IPFamily, Protocol } from '@npl/core/annotation';
import { selects, servicePodPorts } from './selection.js';

export interface MappingRow {
  readonly namespace: string;
  readonly pod: string;
  /** The Pod's node (spec.nodeName); '' when not scheduled. */
  readonly node: string;
  readonly podPort: number;
  readonly protocol: Protocol;
  readonly family: IPFamily;
  readonly nodeIP: string;
  readonly nodePort: number;
}

export interface PodProblem {
  readonly namespace: string;
  readonly pod: string;
  readonly node: string;
  /** What is wrong, naming the annotation and, for one entry, its index. */
  readonly message: string;
}

export interface Listing {
  readonly mappings: readonly MappingRow[];
  readonly problems: readonly PodProblem[];
}

function podIdentity(pod: V1Pod): { namespace: string; pod: string; node: string } {
  return { namespace: pod.metadata?.namespace ?? '', pod: pod.metadata?.name ?? '', node: pod.spec?.nodeName ?? '' };
}

const INCOMPLETE: Record<string, string> = {
  'podPort-missing': 'podPort is missing or 0',
  'podPort-out-of-range': 'podPort is outside 1-65535',
  'nodePort-missing': 'nodePort is missing or 0',
  'nodePort-out-of-range': 'nodePort is outside 1-65535',
  'protocol-missing': 'protocol is missing',
  'protocol-unsupported': 'protocol is neither tcp nor udp',
};

/** The rows and problems of one Pod; a Pod without the annotation gives neither. */
export function podMappings(pod: V1Pod): Listing {
  const text = pod.metadata?.annotations?.[NPL_ANNOTATION_KEY];
  if (text === undefined) return { mappings: [], problems: [] };
  const id = podIdentity(pod);
  let entries;
  try {
    entries = parseNplAnnotation(text);
  } catch (err) {
    return { mappings: [], problems: [{ ...id, message: `${(err as Error).message}; value ${JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text)}` }] };
  }
  const mappings: MappingRow[] = [];
  const problems: PodProblem[] = [];
  for (const e of entries) {
    if (e.incomplete !== undefined) {
      problems.push({ ...id, message: `${NPL_ANNOTATION_KEY} annotation: entry ${e.index} is incomplete: ${INCOMPLETE[e.incomplete] ?? e.incomplete}` });
      continue;
    }
    mappings.push({ ...id, podPort: e.podPort, protocol: e.protocol, family: e.ipFamily, nodeIP: e.nodeIP, nodePort: e.nodePort });
  }
  return { mappings, problems };
}

const FAMILY_ORDER: Record<IPFamily, number> = { IPv4: 0, IPv6: 1 };

/** Namespace, pod, family (IPv4 first), protocol, pod port, node port. */
export function compareRows(a: MappingRow, b: MappingRow): number {
  return (
    a.namespace.localeCompare(b.namespace) ||
    a.pod.localeCompare(b.pod) ||
    FAMILY_ORDER[a.family] - FAMILY_ORDER[b.family] ||
    a.protocol.localeCompare(b.protocol) ||
    a.podPort - b.podPort ||
    a.nodePort - b.nodePort
  );
}

export interface ListFilter {
  /** Only Pods on this node. */
  readonly node?: string;
  /** Only Pods this Service selects, and only the pod ports it targets. */
  readonly service?: V1Service;
}

function servicePorts(filter: ListFilter, pod: V1Pod): Set<string> | undefined {
  return filter.service ? servicePodPorts(filter.service, pod) : undefined;
}

/**
 * Rows and problems of `pods` (already narrowed to the namespace, node or Service selector by the
 * caller's query; `filter` is applied again so the result never depends on how the query was made),
 * sorted.
 */
export function listMappings(pods: readonly V1Pod[], filter: ListFilter = {}): Listing {
  const mappings: MappingRow[] = [];
  const problems: PodProblem[] = [];
  for (const pod of pods) {
    if (filter.node !== undefined && pod.spec?.nodeName !== filter.node) continue;
    if (filter.service && !selects(filter.service, pod)) continue;
    const ports = servicePorts(filter, pod);
    const one = podMappings(pod);
    mappings.push(...one.mappings.filter((m) => !ports || ports.has(`${m.podPort}/${m.protocol}`)));
    problems.push(...one.problems);
  }
  mappings.sort(compareRows);
  problems.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.pod.localeCompare(b.pod) || a.message.localeCompare(b.message));
  return { mappings, problems };
}
