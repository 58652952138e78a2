/**
 * Desired state: Services, Pods and EndpointSlices in, BIG-IP pools out. Pure and deterministic:
 * the same objects in any order give the same pools, members in the same order, so an unchanged
 * cluster never causes a write.
 */
import type { V1Endpoint, V1EndpointSlice, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { IPFamily } from './ip.js';
import { canonicalAddress, compareAddresses, familyOf } from './ip.js';
import type { DesiredMember, DesiredPool, DesiredState, DesiredVirtual, IgnoredService, ServiceRef } from './model.js';
import { poolName, virtualName } from './names.js';
import type { CompleteNplEntry } from './npl.js';
import { NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY, isCompleteNplEntry, parseNplAnnotation } from './npl.js';
import type { Read, VirtualSpec } from './service-annotations.js';
import {
  LB_MODE_ANNOTATION, MONITOR_ANNOTATION, POOL_NAME_ANNOTATION, VIRTUAL_ANNOTATION,
  readLoadBalancingMode, readMonitor, readPoolName, readVirtual,
} from './service-annotations.js';

export interface ClusterSnapshot {
  readonly services: readonly V1Service[];
  readonly pods: readonly V1Pod[];
  readonly endpointSlices: readonly V1EndpointSlice[];
}

export interface DesiredOptions {
  /** BIG-IP partition (AS3 tenant) holding the pools. */
  readonly partition: string;
  /** Watched namespaces; undefined watches all. */
  readonly namespaces?: ReadonlySet<string>;
}

/** The label EndpointSlices carry to name their Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

type Protocol = 'tcp' | 'udp';

interface ServiceSettings {
  readonly poolName?: string;
  readonly monitor?: string;
  readonly loadBalancingMode?: string;
  readonly virtual?: VirtualSpec;
}

interface PodView {
  readonly pod: V1Pod;
  readonly entries: readonly CompleteNplEntry[];
}

/** Indexes built once per computation. */
interface Index {
  /** Pods by `namespace` then by each `label=value` they carry. */
  readonly podsByLabel: ReadonlyMap<string, ReadonlyMap<string, PodView[]>>;
  /** `ns/service` -> pod name -> enabled. */
  readonly readiness: ReadonlyMap<string, ReadonlyMap<string, boolean>>;
}

function refOf(svc: V1Service): ServiceRef {
  const ref = { namespace: svc.metadata?.namespace ?? 'default', name: svc.metadata?.name ?? '' };
  return svc.metadata?.uid ? { ...ref, uid: svc.metadata.uid } : ref;
}

function keyOf(ref: { namespace: string; name: string }): string {
  return `${ref.namespace}/${ref.name}`;
}

/**
 * Parsed annotations by pod object: informers replace an object on every update, so an unchanged
 * pod is parsed once however many syncs read it.
 */
const parsedEntries = new WeakMap<V1Pod, { raw: string; entries: CompleteNplEntry[] }>();

/** The pod's complete annotation entries; a pod whose annotation cannot be read contributes none. */
function podEntries(pod: V1Pod): CompleteNplEntry[] {
  const raw = pod.metadata?.annotations?.[NPL_ANNOTATION_KEY];
  if (raw === undefined) return [];
  const cached = parsedEntries.get(pod);
  if (cached?.raw === raw) return cached.entries;
  let entries: CompleteNplEntry[];
  try {
    entries = parseNplAnnotation(raw).filter(isCompleteNplEntry);
  } catch {
    entries = [];
  }
  parsedEntries.set(pod, { raw, entries });
  return entries;
}

function indexPods(pods: readonly V1Pod[]): Map<string, Map<string, PodView[]>> {
  const byNamespace = new Map<string, Map<string, PodView[]>>();
  for (const pod of pods) {
    const ns = pod.metadata?.namespace ?? 'default';
    const byLabel = byNamespace.get(ns) ?? new Map<string, PodView[]>();
    byNamespace.set(ns, byLabel);
    const view = { pod, entries: podEntries(pod) };
    for (const [k, v] of Object.entries(pod.metadata?.labels ?? {})) {
      const key = `${k}=${v}`;
      const list = byLabel.get(key) ?? [];
      list.push(view);
      byLabel.set(key, list);
    }
  }
  return byNamespace;
}

/** Pods of `namespace` whose labels include every pair of the (non-empty) selector. */
function selectedPods(index: Index, namespace: string, selector: Readonly<Record<string, string>>): PodView[] {
  const [first, ...rest] = Object.entries(selector);
  if (!first) return [];
  const candidates = index.podsByLabel.get(namespace)?.get(`${first[0]}=${first[1]}`) ?? [];
  return rest.length === 0 ? candidates : candidates.filter((v) => selects(Object.fromEntries(rest), v.pod));
}

function addEndpoint(pods: Map<string, boolean>, endpoint: V1Endpoint): void {
  const ref = endpoint.targetRef;
  if (ref?.kind !== 'Pod' || ref.name === undefined) return;
  const serving = endpoint.conditions?.ready !== false && endpoint.conditions?.terminating !== true;
  pods.set(ref.name, (pods.get(ref.name) ?? true) && serving);
}

/** An endpoint serves only when ready (unset means ready) and not terminating (unset means not). */
function indexReadiness(slices: readonly V1EndpointSlice[]): Map<string, Map<string, boolean>> {
  const byService = new Map<string, Map<string, boolean>>();
  for (const slice of slices) {
    const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (service === undefined) continue;
    const key = `${slice.metadata?.namespace ?? 'default'}/${service}`;
    const pods = byService.get(key) ?? new Map<string, boolean>();
    for (const endpoint of slice.endpoints ?? []) addEndpoint(pods, endpoint);
    byService.set(key, pods);
  }
  return byService;
}

/** Why an opted-in Service cannot have pools, or undefined. */
function serviceProblem(svc: V1Service): string | undefined {
  const type = svc.spec?.type ?? 'ClusterIP';
  if (type !== 'ClusterIP' && type !== 'LoadBalancer') return `type ${type} is not supported: NodePortLocal needs ClusterIP or LoadBalancer`;
  if (Object.keys(svc.spec?.selector ?? {}).length === 0) return 'the Service has no selector';
  if (!(svc.spec?.ports ?? []).some((p) => protocolOf(p) !== undefined)) return 'the Service has no TCP or UDP port';
  return undefined;
}

function protocolOf(port: V1ServicePort): Protocol | undefined {
  const p = (port.protocol ?? 'TCP').toLowerCase();
  return p === 'tcp' || p === 'udp' ? p : undefined;
}

function readSettings(svc: V1Service): Read<ServiceSettings> {
  const a = svc.metadata?.annotations ?? {};
  const ports = (svc.spec?.ports ?? []).length;
  const reads = [
    readPoolName(a[POOL_NAME_ANNOTATION]),
    readMonitor(a[MONITOR_ANNOTATION]),
    readLoadBalancingMode(a[LB_MODE_ANNOTATION]),
    readVirtual(a[VIRTUAL_ANNOTATION], ports),
  ] as const;
  for (const r of reads) if (!r.ok) return r;
  const [name, monitor, lb, virtual] = reads.map((r) => (r.ok ? r.value : undefined)) as [
    string | undefined, string | undefined, string | undefined, VirtualSpec | undefined,
  ];
  return {
    ok: true,
    value: { ...defined('poolName', name), ...defined('monitor', monitor), ...defined('loadBalancingMode', lb), ...defined('virtual', virtual) },
  };
}

function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The Service's families: `spec.ipFamilies`, else those of its cluster IPs, else IPv4. */
export function serviceFamilies(svc: V1Service): IPFamily[] {
  const declared = (svc.spec?.ipFamilies ?? []).filter((f): f is IPFamily => f === 'IPv4' || f === 'IPv6');
  if (declared.length > 0) return declared;
  const ips = [...(svc.spec?.clusterIPs ?? []), svc.spec?.clusterIP ?? ''];
  const fromIps = [...new Set(ips.map(familyOf).filter((f): f is IPFamily => f !== undefined))];
  return fromIps.length > 0 ? fromIps : ['IPv4'];
}

function selects(selector: Readonly<Record<string, string>>, pod: V1Pod): boolean {
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * The pod port a Service port sends to: a number as is (the Service port when unset), a name through
 * the pod's container ports of the same protocol (the first match, as Kubernetes' endpoints do).
 */
export function resolveTargetPort(port: V1ServicePort, pod: V1Pod): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = (port.protocol ?? 'TCP').toUpperCase();
  const ports = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  return ports.find((cp) => cp.name === target && (cp.protocol ?? 'TCP').toUpperCase() === protocol)?.containerPort;
}

function podEnabled(view: PodView, readiness: ReadonlyMap<string, boolean> | undefined): boolean {
  if (view.pod.metadata?.deletionTimestamp) return false;
  return readiness?.get(view.pod.metadata?.name ?? '') ?? true;
}

interface PortContext {
  readonly port: V1ServicePort;
  readonly protocol: Protocol;
  readonly families: readonly IPFamily[];
}

function membersOf(ctx: PortContext, pods: readonly PodView[], readiness: ReadonlyMap<string, boolean> | undefined): DesiredMember[] {
  const byKey = new Map<string, DesiredMember>();
  for (const view of pods) {
    const podPort = resolveTargetPort(ctx.port, view.pod);
    if (podPort === undefined) continue;
    const enabled = podEnabled(view, readiness);
    for (const e of view.entries) {
      if (e.podPort !== podPort || e.protocol !== ctx.protocol || !ctx.families.includes(e.ipFamily)) continue;
      const address = canonicalAddress(e.nodeIP);
      if (address === undefined || familyOf(address) !== e.ipFamily) continue;
      const key = `${address} ${e.nodePort}`;
      const seen = byKey.get(key);
      byKey.set(key, { address, port: e.nodePort, enabled: enabled || (seen?.enabled ?? false) });
    }
  }
  return [...byKey.values()].sort((a, b) => compareAddresses(a.address, b.address) || a.port - b.port);
}

function virtualOf(spec: VirtualSpec | undefined, port: V1ServicePort, protocol: Protocol): DesiredVirtual | undefined {
  if (spec === undefined) return undefined;
  const vport = spec.port ?? port.port;
  return { name: virtualName(spec.address, vport), address: spec.address, port: vport, protocol };
}

function poolsOf(svc: V1Service, settings: ServiceSettings, index: Index): DesiredPool[] {
  const service = refOf(svc);
  const ports = svc.spec?.ports ?? [];
  const families = serviceFamilies(svc);
  const selector = svc.spec?.selector ?? {};
  const pods = selectedPods(index, service.namespace, selector);
  const readiness = index.readiness.get(keyOf(service));
  const pools: DesiredPool[] = [];
  for (const port of ports) {
    const protocol = protocolOf(port);
    if (protocol === undefined) continue;
    const name = settings.poolName === undefined
      ? poolName(service.namespace, service.name, port.port)
      : ports.length > 1 ? `${settings.poolName}_${port.port}` : settings.poolName;
    const virtual = virtualOf(settings.virtual, port, protocol);
    pools.push({
      name, service, servicePort: port.port, protocol, families,
      members: membersOf({ port, protocol, families }, pods, readiness),
      ...defined('monitor', settings.monitor),
      ...defined('loadBalancingMode', settings.loadBalancingMode),
      ...defined('virtual', virtual),
    });
  }
  return pools;
}

/** Opt-in state: `true` opted in, `false` not, or a problem for a value other than "true"/"false". */
function optIn(svc: V1Service): boolean | string {
  const value = svc.metadata?.annotations?.[NPL_ENABLED_ANNOTATION_KEY];
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  return `annotation ${NPL_ENABLED_ANNOTATION_KEY} is ${JSON.stringify(value)}: only "true" enables NodePortLocal`;
}

function compareServices(a: V1Service, b: V1Service): number {
  const ka = keyOf(refOf(a));
  const kb = keyOf(refOf(b));
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Checks one Service; returns its pools or why it is ignored. */
function evaluate(svc: V1Service, index: Index, taken: ReadonlyMap<string, string>): DesiredPool[] | string {
  const problem = serviceProblem(svc);
  if (problem !== undefined) return problem;
  const settings = readSettings(svc);
  if (!settings.ok) return settings.problem;
  const pools = poolsOf(svc, settings.value, index);
  const clash = pools.find((p) => taken.has(p.name) || (p.virtual && taken.has(p.virtual.name)));
  if (clash) {
    const name = taken.has(clash.name) ? clash.name : (clash.virtual?.name ?? '');
    return `BIG-IP name ${name} is already used by Service ${taken.get(name) ?? ''}`;
  }
  return pools;
}

/**
 * The pools the watched, opted-in Services need. Services are taken in namespace/name order, so
 * when two want the same pool or virtual name the first keeps it and the second is ignored.
 */
export function desiredState(snapshot: ClusterSnapshot, options: DesiredOptions): DesiredState {
  const index: Index = { podsByLabel: indexPods(snapshot.pods), readiness: indexReadiness(snapshot.endpointSlices) };
  const taken = new Map<string, string>();
  const pools: DesiredPool[] = [];
  const ignored: IgnoredService[] = [];
  const watched = snapshot.services.filter((s) => options.namespaces?.has(s.metadata?.namespace ?? 'default') ?? true);
  for (const svc of [...watched].sort(compareServices)) {
    const opted = optIn(svc);
    if (opted === false) continue;
    const result = opted === true ? evaluate(svc, index, taken) : opted;
    if (typeof result === 'string') {
      ignored.push({ service: refOf(svc), reason: result });
      continue;
    }
    for (const pool of result) {
      taken.set(pool.name, keyOf(pool.service));
      if (pool.virtual) taken.set(pool.virtual.name, keyOf(pool.service));
      pools.push(pool);
    }
  }
  pools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { partition: options.partition, pools, ignored };
}
