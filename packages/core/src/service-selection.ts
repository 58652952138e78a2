/**
 * Which Pod ports need a mapping, and for which IP families (§2.2 steps 1-3, §2.3, §2.4, §2.5 of the
 * contract; Antrea's getTargetPortsForServicesOfPod and enqueueSvcUpdate).
 */
import type { V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { NPL_ENABLED_ANNOTATION_KEY } from './annotation.js';
import { IPFamilySet, serviceIPFamilySet } from './ip-families.js';
import type { PodKey, Protocol } from './types.js';

/**
 * Why a Service, or one port of it, contributes no mapping to a Pod:
 * `not-enabled` (annotation not exactly "true"; usually not worth logging), `type-nodeport`,
 * `type-externalname`, `other-namespace`, `no-selector`, `selector-mismatch`, `no-ip-families`
 * (empty `spec.ipFamilies`), and per port `sctp-port`, `unsupported-protocol` (neither TCP, UDP nor
 * SCTP) and `unresolved-named-port` (no container of the Pod declares that name with that protocol).
 */
export type IgnoreReason =
  | 'not-enabled'
  | 'type-nodeport'
  | 'type-externalname'
  | 'other-namespace'
  | 'no-selector'
  | 'selector-mismatch'
  | 'no-ip-families'
  | 'sctp-port'
  | 'unsupported-protocol'
  | 'unresolved-named-port';

export interface IgnoredService {
  /** `namespace/name` of the Service. */
  readonly service: string;
  readonly reason: IgnoreReason;
  /** For per-port reasons: `<targetPort>:<protocol>` as the Service states it, e.g. `http:tcp`, `80:sctp`. */
  readonly port?: string;
}

/** One Pod port that needs a mapping per family in `families`. */
export interface TargetPort {
  readonly podPort: number;
  readonly protocol: Protocol;
  readonly families: IPFamilySet;
  /** Owning Services as `namespace/name`, sorted, de-duplicated. */
  readonly services: readonly string[];
}

export interface TargetPortSelection {
  /** Pod phase Succeeded or Failed: nothing is selected and all of its mappings must go. */
  readonly terminated: boolean;
  /** Sorted by podPort, then protocol (tcp before udp). */
  readonly targets: readonly TargetPort[];
  /**
   * `<containerPort>:<protocol>` -> hostPort for every `spec.containers[].ports[]` entry with
   * hostPort > 0 (init containers not consulted, later entries win); empty when there are no targets.
   * A target with a hostPort uses it as node port, without rule or reservation.
   */
  readonly hostPorts: ReadonlyMap<string, number>;
  /** Every Service or Service port that contributed nothing, in input order. */
  readonly ignored: readonly IgnoredService[];
}

const TERMINAL_PHASES: ReadonlySet<string> = new Set(['Succeeded', 'Failed']);
const DEFAULT_PROTOCOL = 'TCP';
const NUMERIC_RE = /^\d+$/;

/** `<port>:<lower-case protocol>`, Antrea's BuildPortProto; the protocol defaults to TCP as the API server does. */
export function portProtoKey(port: number | string, protocol: string | undefined): string {
  return `${port}:${(protocol || DEFAULT_PROTOCOL).toLowerCase()}`;
}

/** `namespace/name` of a Pod, the work-queue key. */
export function podKey(pod: V1Pod): PodKey {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** `namespace/name` of a Service. */
export function serviceKey(svc: V1Service): string {
  return `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
}

/** True when the Pod phase is Succeeded or Failed (Kubernetes' IsPodTerminated). */
export function isPodTerminated(pod: V1Pod): boolean {
  return TERMINAL_PHASES.has(pod.status?.phase ?? '');
}

function typeReason(svc: V1Service): IgnoreReason | undefined {
  if (svc.spec?.type === 'NodePort') return 'type-nodeport';
  if (svc.spec?.type === 'ExternalName') return 'type-externalname';
  return undefined;
}

/**
 * True when the Service opts in (annotation exactly "true", case-sensitive) and may carry mappings
 * (type not NodePort or ExternalName; absent type = ClusterIP). Says nothing about its selector.
 */
export function isNplEnabledService(svc: V1Service): boolean {
  return svc.metadata?.annotations?.[NPL_ENABLED_ANNOTATION_KEY] === 'true' && typeReason(svc) === undefined;
}

function selectorReason(svc: V1Service, pod: V1Pod): IgnoreReason | undefined {
  if ((svc.metadata?.namespace ?? '') !== (pod.metadata?.namespace ?? '')) return 'other-namespace';
  const selector = Object.entries(svc.spec?.selector ?? {});
  if (selector.length === 0) return 'no-selector';
  const labels = pod.metadata?.labels ?? {};
  const matches = selector.every(([key, value]) => Object.hasOwn(labels, key) && labels[key] === value);
  return matches ? undefined : 'selector-mismatch';
}

/**
 * True when the Service is in the Pod's namespace and has a non-empty selector whose every key/value
 * the Pod's labels hold (Antrea's matchSvcSelectorPodLabels; a Service without selector selects nothing).
 */
export function serviceSelectsPod(svc: V1Service, pod: V1Pod): boolean {
  return selectorReason(svc, pod) === undefined;
}

function serviceReason(svc: V1Service, pod: V1Pod): IgnoreReason | undefined {
  if (svc.metadata?.annotations?.[NPL_ENABLED_ANNOTATION_KEY] !== 'true') return 'not-enabled';
  return typeReason(svc) ?? selectorReason(svc, pod) ?? (serviceIPFamilySet(svc).isEmpty ? 'no-ip-families' : undefined);
}

/**
 * The Pod port a Service port targets: a number, or a container port name. An absent, 0 or empty
 * targetPort means `port` (API server defaulting); an all-digit string is read as a number (the API
 * server allows no such name).
 */
export function resolveTargetPort(port: V1ServicePort): number | string {
  const target = port.targetPort;
  if (target === undefined || target === 0 || target === '') return port.port;
  if (typeof target === 'string' && NUMERIC_RE.test(target)) return Number(target);
  return target;
}

interface Accumulated {
  podPort: number;
  protocol: Protocol;
  families: IPFamilySet;
  services: Set<string>;
}

interface NamedTarget {
  families: IPFamilySet;
  services: Set<string>;
  refs: IgnoredService[];
  resolved: boolean;
}

interface Collector {
  readonly numeric: Map<string, Accumulated>;
  readonly named: Map<string, NamedTarget>;
  readonly ignored: IgnoredService[];
}

function portReason(protocol: string): IgnoreReason | undefined {
  if (protocol === 'sctp') return 'sctp-port';
  if (protocol !== 'tcp' && protocol !== 'udp') return 'unsupported-protocol';
  return undefined;
}

function addNumeric(numeric: Map<string, Accumulated>, key: string, from: Omit<Accumulated, 'podPort' | 'protocol'>): void {
  const [port = '', protocol = ''] = key.split(':');
  const existing = numeric.get(key) ?? { podPort: Number(port), protocol: protocol as Protocol, families: IPFamilySet.EMPTY, services: new Set() };
  existing.families = existing.families.union(from.families);
  for (const service of from.services) existing.services.add(service);
  numeric.set(key, existing);
}

function collectService(collector: Collector, svc: V1Service, families: IPFamilySet): void {
  const service = serviceKey(svc);
  for (const port of svc.spec?.ports ?? []) {
    const protocol = (port.protocol || DEFAULT_PROTOCOL).toLowerCase();
    const target = resolveTargetPort(port);
    const key = portProtoKey(target, protocol);
    const reason = portReason(protocol);
    if (reason) {
      collector.ignored.push({ service, reason, port: key });
    } else if (typeof target === 'number') {
      addNumeric(collector.numeric, key, { families, services: new Set([service]) });
    } else {
      const named = collector.named.get(key) ?? { families: IPFamilySet.EMPTY, services: new Set(), refs: [], resolved: false };
      named.families = named.families.union(families);
      named.services.add(service);
      named.refs.push({ service, reason: 'unresolved-named-port', port: key });
      collector.named.set(key, named);
    }
  }
}

function resolveContainerPorts(pod: V1Pod, collector: Collector): Map<string, number> {
  const hostPorts = new Map<string, number>();
  for (const container of pod.spec?.containers ?? []) {
    for (const cport of container.ports ?? []) {
      const numericKey = portProtoKey(cport.containerPort, cport.protocol);
      if ((cport.hostPort ?? 0) > 0) hostPorts.set(numericKey, cport.hostPort ?? 0);
      const named = cport.name ? collector.named.get(portProtoKey(cport.name, cport.protocol)) : undefined;
      if (named) {
        named.resolved = true;
        addNumeric(collector.numeric, numericKey, named);
      }
    }
  }
  return hostPorts;
}

function compareTargets(a: TargetPort, b: TargetPort): number {
  return a.podPort - b.podPort || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0);
}

/**
 * The Pod ports that need mappings given every Service the agent knows (pass all NPL-enabled ones;
 * others are reported as ignored). Ports of all selecting Services are merged: a `(podPort, protocol)`
 * needed by several Services is one target whose families are the union. Named targetPorts resolve
 * through `spec.containers[].ports[]` name and protocol (TCP when absent). A terminated Pod
 * (Succeeded/Failed) gets nothing. Pod IPs are not consulted here.
 */
export function selectTargetPorts(pod: V1Pod, services: readonly V1Service[]): TargetPortSelection {
  if (isPodTerminated(pod)) return { terminated: true, targets: [], hostPorts: new Map(), ignored: [] };
  const collector: Collector = { numeric: new Map(), named: new Map(), ignored: [] };
  for (const svc of services) {
    const reason = serviceReason(svc, pod);
    if (reason) collector.ignored.push({ service: serviceKey(svc), reason });
    else collectService(collector, svc, serviceIPFamilySet(svc));
  }
  const hostPorts = collector.numeric.size + collector.named.size > 0 ? resolveContainerPorts(pod, collector) : new Map<string, number>();
  for (const named of collector.named.values()) {
    if (!named.resolved) collector.ignored.push(...named.refs);
  }
  const targets = [...collector.numeric.values()]
    .map(({ podPort, protocol, families, services: owners }) => ({ podPort, protocol, families, services: [...owners].sort() }))
    .sort(compareTargets);
  return { terminated: false, targets, hostPorts: targets.length > 0 ? hostPorts : new Map(), ignored: collector.ignored };
}

function selectedPods(svc: V1Service, pods: readonly V1Pod[]): Set<PodKey> {
  return new Set(pods.filter((pod) => serviceSelectsPod(svc, pod)).map(podKey));
}

function portsSignature(svc: V1Service): string {
  const keys = (svc.spec?.ports ?? []).map((port) => portProtoKey(resolveTargetPort(port), port.protocol));
  return [...new Set(keys)].sort().join(',');
}

function mappingInputsChanged(oldSvc: V1Service, newSvc: V1Service): boolean {
  return portsSignature(oldSvc) !== portsSignature(newSvc) || !serviceIPFamilySet(oldSvc).equals(serviceIPFamilySet(newSvc));
}

function affectedByUpdate(oldSvc: V1Service, newSvc: V1Service, pods: readonly V1Pod[]): Set<PodKey> {
  const before = selectedPods(oldSvc, pods);
  const after = selectedPods(newSvc, pods);
  const affected = new Set([...before, ...after].filter((key) => before.has(key) !== after.has(key)));
  if (mappingInputsChanged(oldSvc, newSvc)) for (const key of after) affected.add(key);
  return affected;
}

/**
 * Keys of the Pods (among `pods`, the local ones with current labels) whose mappings a Service event
 * may change; sorted, de-duplicated. `oldSvc` undefined = added, `newSvc` undefined = deleted.
 * Antrea's §2.4 rules: nothing unless either side isNplEnabledService; enabled on one side only =>
 * the Pods that side selects; enabled on both => the symmetric difference of the selected Pod sets,
 * plus every Pod the new Service selects when its target ports/protocols changed. Improvement over
 * Antrea: a change of the `spec.ipFamilies` set (e.g. SingleStack -> PreferDualStack) also enqueues
 * every Pod the new Service selects; port changes that leave the (targetPort, protocol) set unchanged
 * (name, port, nodePort) enqueue nothing; an added or deleted NodePort/ExternalName Service enqueues
 * nothing (it never had mappings).
 */
export function podsAffectedByServiceChange(
  oldSvc: V1Service | undefined,
  newSvc: V1Service | undefined,
  pods: readonly V1Pod[],
): PodKey[] {
  const oldEnabled = oldSvc !== undefined && isNplEnabledService(oldSvc);
  const newEnabled = newSvc !== undefined && isNplEnabledService(newSvc);
  let affected: Set<PodKey>;
  if (oldEnabled && newEnabled) affected = affectedByUpdate(oldSvc, newSvc, pods);
  else if (oldEnabled) affected = selectedPods(oldSvc, pods);
  else if (newEnabled) affected = selectedPods(newSvc, pods);
  else affected = new Set();
  return [...affected].sort();
}
