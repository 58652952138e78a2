/**
 * What the demo shows, as plain data: the app's pods with their NodePortLocal mappings, the BIG-IP
 * pool with its members, the virtual server, the requests sent through it and the progress of each
 * scale. Every function here is pure: the side-effect modules (kube.ts, bigip.ts, traffic.ts) feed
 * observations in, the renderer reads the result. Times are milliseconds on one clock (the caller's).
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { isCompleteNplEntry, NPL_ANNOTATION_KEY, parseNplAnnotation } from '@npl/core/annotation';

/** One NodePortLocal entry of a pod: `nodeIP:nodePort` forwards to the pod's `podPort`. */
export interface Mapping {
  readonly podPort: number;
  readonly nodeIP: string;
  readonly nodePort: number;
  readonly protocol: string;
}

export interface PodView {
  readonly name: string;
  readonly node?: string;
  readonly podIP?: string;
  readonly phase: string;
  readonly ready: boolean;
  /** Deletion requested (deletionTimestamp set). */
  readonly terminating: boolean;
  /** Complete entries of the pod's NPL annotation, by node port. */
  readonly mappings: readonly Mapping[];
  /** The annotation could not be read (shown, never thrown). */
  readonly annotationError?: string;
}

/** A pool member as the BIG-IP reports it (`addr:port`, session and state). */
export interface MemberView {
  readonly name: string;
  readonly session: string;
  readonly state: string;
}

export interface PoolView {
  readonly fullPath: string;
  readonly members: readonly MemberView[];
}

export interface VirtualView {
  readonly fullPath: string;
  /** `addr:port`, partition prefix removed. */
  readonly destination: string;
  readonly pool?: string;
  readonly enabled: boolean;
}

/** The outcome of one request through the virtual server. */
export type RequestOutcome = { readonly at: number; readonly pod: string } | { readonly at: number; readonly error: string };

export interface RequestTally {
  readonly ok: number;
  readonly failed: number;
  /** Answers per pod name since the start (pods gone since keep their count). */
  readonly byPod: Readonly<Record<string, number>>;
  /** Outcomes of the last RECENT_MS, oldest first. */
  readonly recent: readonly RequestOutcome[];
  readonly lastError?: string;
}

/** One scale of the Deployment and when the display first showed each part of it. */
export interface ScaleProgress {
  readonly replicas: number;
  readonly requestedAt: number;
  /** Exactly `replicas` live pods, each with a node port. */
  readonly podsAt?: number;
  /** The pool's members are exactly those pods' node ports. */
  readonly poolAt?: number;
  /** Each of those pods answered a request through the virtual server since the scale. */
  readonly answeredAt?: number;
}

export interface DemoState {
  readonly app: string;
  readonly namespace: string;
  /** The Deployment's spec.replicas, once seen. */
  readonly desiredReplicas?: number;
  readonly pods: readonly PodView[];
  /** Undefined until the pool exists. */
  readonly pool?: PoolView;
  readonly poolName: string;
  readonly virtual?: VirtualView;
  /** `addr:port` the requests go to. */
  readonly virtualAddress: string;
  readonly requests: RequestTally;
  readonly scales: readonly ScaleProgress[];
  /** Last error of a BIG-IP read, shown until a read succeeds. */
  readonly bigipError?: string;
}

/** How long answers count as recent (the "last 5 s" column and the per-scale answering check). */
export const RECENT_MS = 5_000;

export function initialState(app: string, namespace: string, virtualAddress: string, servicePort: number): DemoState {
  return {
    app,
    namespace,
    pods: [],
    // The controller's pool name for Service <app> port <port> in <namespace> (CIS's rule).
    poolName: `${app}_${servicePort}_${namespace}`,
    virtualAddress,
    requests: { ok: 0, failed: 0, byPod: {}, recent: [] },
    scales: [],
  };
}

function readMappings(pod: V1Pod): { mappings: Mapping[]; error?: string } {
  const text = pod.metadata?.annotations?.[NPL_ANNOTATION_KEY];
  if (text === undefined) return { mappings: [] };
  try {
    const mappings = parseNplAnnotation(text)
      .filter(isCompleteNplEntry)
      .map(({ podPort, nodeIP, nodePort, protocol }) => ({ podPort, nodeIP, nodePort, protocol }))
      .sort((a, b) => a.nodePort - b.nodePort);
    return { mappings };
  } catch (err) {
    return { mappings: [], error: err instanceof Error ? err.message : String(err) };
  }
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The display's view of a pod object. */
export function podView(pod: V1Pod): PodView {
  const { mappings, error } = readMappings(pod);
  const node = pod.spec?.nodeName;
  const podIP = pod.status?.podIP;
  return {
    name: pod.metadata?.name ?? '?',
    ...(node ? { node } : {}),
    ...(podIP ? { podIP } : {}),
    phase: pod.status?.phase ?? 'Pending',
    ready: isReady(pod),
    terminating: Boolean(pod.metadata?.deletionTimestamp),
    mappings,
    ...(error !== undefined ? { annotationError: error } : {}),
  };
}

/** Adds or replaces a pod (by name); pods stay sorted by name. */
export function withPod(state: DemoState, pod: PodView): DemoState {
  const pods = [...state.pods.filter((p) => p.name !== pod.name), pod].sort((a, b) => a.name.localeCompare(b.name));
  return { ...state, pods };
}

export function withoutPod(state: DemoState, name: string): DemoState {
  return { ...state, pods: state.pods.filter((p) => p.name !== name) };
}

export function withDeployment(state: DemoState, deployment: V1Deployment | undefined): DemoState {
  const replicas = deployment?.spec?.replicas;
  if (replicas === undefined) {
    const { desiredReplicas: _gone, ...rest } = state;
    return rest;
  }
  return { ...state, desiredReplicas: replicas };
}

/** The BIG-IP side as read now: the pool (undefined when absent) and the virtual server for our address. */
export function withBigip(state: DemoState, pool: PoolView | undefined, virtual: VirtualView | undefined): DemoState {
  const { pool: _p, virtual: _v, bigipError: _e, ...rest } = state;
  return { ...rest, ...(pool ? { pool } : {}), ...(virtual ? { virtual } : {}) };
}

/** A failed BIG-IP read: the last view stays, the error is shown. */
export function withBigipError(state: DemoState, message: string): DemoState {
  return { ...state, bigipError: message };
}

export function recordRequest(state: DemoState, outcome: RequestOutcome): DemoState {
  const r = state.requests;
  const recent = [...r.recent.filter((o) => o.at > outcome.at - RECENT_MS), outcome];
  const requests: RequestTally =
    'pod' in outcome
      ? { ...r, ok: r.ok + 1, byPod: { ...r.byPod, [outcome.pod]: (r.byPod[outcome.pod] ?? 0) + 1 }, recent }
      : { ...r, failed: r.failed + 1, recent, lastError: outcome.error };
  return { ...state, requests };
}

/** Pods that count: not being deleted and not finished. */
export function livePods(state: DemoState): PodView[] {
  return state.pods.filter((p) => !p.terminating && p.phase !== 'Succeeded' && p.phase !== 'Failed');
}

/** `nodeIP:nodePort` of a mapping, as BIG-IP names an IPv4 member (IPv6: `addr.port`). */
export function memberName(m: Mapping): string {
  return m.nodeIP.includes(':') ? `${m.nodeIP}.${m.nodePort}` : `${m.nodeIP}:${m.nodePort}`;
}

/** The pod whose mapping a member is, if any. */
export function memberOwner(state: DemoState, member: string): string | undefined {
  return state.pods.find((p) => p.mappings.some((m) => memberName(m) === member))?.name;
}

/** Members the live pods' mappings call for, sorted. */
export function expectedMembers(state: DemoState): string[] {
  return livePods(state)
    .flatMap((p) => p.mappings.map(memberName))
    .sort();
}

/** True when the pool's members are exactly the live pods' node ports. */
export function poolMatchesPods(state: DemoState): boolean {
  if (!state.pool) return false;
  const got = state.pool.members.map((m) => m.name).sort();
  return JSON.stringify(got) === JSON.stringify(expectedMembers(state));
}

function answeredSince(state: DemoState, since: number): Set<string> {
  return new Set(state.requests.recent.flatMap((o) => ('pod' in o && o.at >= since ? [o.pod] : [])));
}

function podsMapped(state: DemoState, replicas: number): boolean {
  const live = livePods(state);
  return live.length === replicas && live.every((p) => p.mappings.length > 0);
}

/**
 * The whole picture holds: the Deployment's replicas are live pods, each with a node port, the
 * pool's members are exactly those node ports, and each pod answered a recent request.
 */
export function isComplete(state: DemoState): boolean {
  if (state.desiredReplicas === undefined || !podsMapped(state, state.desiredReplicas)) return false;
  if (!poolMatchesPods(state)) return false;
  const answered = answeredSince(state, -Infinity);
  return livePods(state).every((p) => answered.has(p.name));
}

/** Starts measuring a scale requested at `at`. */
export function withScale(state: DemoState, replicas: number, at: number): DemoState {
  return { ...state, scales: [...state.scales, { replicas, requestedAt: at }] };
}

function progress(state: DemoState, s: ScaleProgress, now: number): ScaleProgress {
  if (s.answeredAt !== undefined) return s;
  const podsAt = s.podsAt ?? (podsMapped(state, s.replicas) ? now : undefined);
  const poolAt = s.poolAt ?? (podsAt !== undefined && poolMatchesPods(state) ? now : undefined);
  const answered = answeredSince(state, s.requestedAt);
  const answeredAt = poolAt !== undefined && livePods(state).every((p) => answered.has(p.name)) ? now : undefined;
  return { ...s, ...(podsAt !== undefined ? { podsAt } : {}), ...(poolAt !== undefined ? { poolAt } : {}), ...(answeredAt !== undefined ? { answeredAt } : {}) };
}

/**
 * Marks what of each open scale the state shows at `now` (call it when a frame is shown, so the
 * times measure the display). Only the latest scale can progress: a newer one supersedes older ones.
 */
export function observeScales(state: DemoState, now: number): DemoState {
  const last = state.scales.at(-1);
  if (!last) return state;
  const next = progress(state, last, now);
  if (next === last) return state;
  return { ...state, scales: [...state.scales.slice(0, -1), next] };
}
