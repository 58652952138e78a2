/**
 * Text of the demo, pure: a plain snapshot (the `--for` mode's output, one fact per line, parsed by
 * the e2e test) and the live frame (ANSI, redrawn in place). Both read only the DemoState and a
 * small context; neither writes anything.
 */
import { expectedMembers, isComplete, livePods, memberName, memberOwner, poolMatchesPods, RECENT_MS, type DemoState, type PodView, type ScaleProgress } from './model.js';

export interface RenderContext {
  /** Milliseconds since the display started (the `t=` of every line). */
  readonly elapsedMs: number;
  readonly cluster: string;
  readonly nodes: readonly { readonly name: string; readonly ip: string }[];
  readonly bigipUrl: string;
  readonly logsDir: string;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

/**
 * What counts as a change for the plain output: pods and their mappings, readiness, the pool and
 * its members, the virtual server, which pods answered recently, scale progress. Request counters
 * are not part of it (they change all the time).
 */
export function changeKey(state: DemoState): string {
  const answered = [...new Set(state.requests.recent.flatMap((o) => ('pod' in o ? [o.pod] : [])))].sort();
  return JSON.stringify([
    state.desiredReplicas,
    state.pods.map((p) => [p.name, p.node, p.phase, p.ready, p.terminating, p.mappings.map(memberName)]),
    state.pool ? [state.pool.fullPath, state.pool.members] : null,
    state.virtual ?? null,
    answered,
    state.requests.recent.some((o) => 'error' in o),
    state.scales.map((s) => [s.podsAt !== undefined, s.poolAt !== undefined, s.answeredAt !== undefined]),
    state.bigipError ?? null,
  ]);
}

function podStatus(p: PodView): string {
  if (p.terminating) return 'terminating';
  if (p.phase !== 'Running') return p.phase.toLowerCase();
  return p.ready ? 'ready' : 'not-ready';
}

function mappingsText(p: PodView): string {
  if (p.annotationError) return `annotation-invalid`;
  return p.mappings.length === 0 ? '-' : p.mappings.map((m) => `${memberName(m)}->${m.podPort}/${m.protocol}`).join(',');
}

/** One line per fact of a scale: requested, then how long until the display showed each part. */
export function scaleText(s: ScaleProgress): string {
  const after = (at: number | undefined): string => (at === undefined ? 'not yet' : `${seconds(at - s.requestedAt)} s`);
  return `scale to ${s.replicas} at t=${seconds(s.requestedAt)}s: pods with node ports after ${after(s.podsAt)}, pool members after ${after(s.poolAt)}, every pod answering after ${after(s.answeredAt)}`;
}

function recentCount(state: DemoState, pod: string): number {
  return state.requests.recent.filter((o) => 'pod' in o && o.pod === pod).length;
}

function podLine(state: DemoState, p: PodView): string {
  return `pod ${p.name} node ${p.node ?? '-'} podIP ${p.podIP ?? '-'} nodePort ${mappingsText(p)} ${podStatus(p)} answered ${state.requests.byPod[p.name] ?? 0}`;
}

function poolLines(state: DemoState): string[] {
  if (!state.pool) return [`pool /k8s/${state.poolName} absent`];
  const lines = [`pool ${state.pool.fullPath} members ${state.pool.members.length} ${poolMatchesPods(state) ? 'matches-pods' : 'differs-from-pods'}`];
  for (const m of state.pool.members) lines.push(`member ${m.name} session ${m.session} state ${m.state} pod ${memberOwner(state, m.name) ?? '-'}`);
  return lines;
}

function virtualLine(state: DemoState): string {
  const v = state.virtual;
  if (!v) return `virtual ${state.virtualAddress} absent`;
  return `virtual ${v.destination} ${v.fullPath} pool ${v.pool ?? '-'} ${v.enabled ? 'enabled' : 'disabled'}`;
}

function requestsLine(state: DemoState): string {
  const r = state.requests;
  const by = Object.entries(r.byPod).sort(([a], [b]) => a.localeCompare(b)).map(([pod, n]) => `${pod}=${n}`).join(' ');
  return `requests ok ${r.ok} failed ${r.failed}${by ? ` by-pod ${by}` : ''}${r.lastError && r.recent.some((o) => 'error' in o) ? ` last-error ${r.lastError}` : ''}`;
}

/** The plain snapshot: a header line, then one fact per line. Ends with a newline. */
export function renderSnapshot(state: DemoState, ctx: RenderContext): string {
  const live = livePods(state);
  const lines = [
    `--- t=${seconds(ctx.elapsedMs)}s ${isComplete(state) ? 'complete' : 'settling'} ---`,
    `deployment ${state.app} desired ${state.desiredReplicas ?? '-'} live ${live.length}`,
    ...state.pods.map((p) => podLine(state, p)),
    ...poolLines(state),
    virtualLine(state),
    requestsLine(state),
    ...state.scales.map(scaleText),
    ...(state.bigipError ? [`bigip-error ${state.bigipError}`] : []),
  ];
  return lines.map((l) => `[${seconds(ctx.elapsedMs).padStart(6)}s] ${l}`).join('\n') + '\n';
}

// ---- live frame ----

const ESC = '\x1b[';
const style = {
  bold: (s: string) => `${ESC}1m${s}${ESC}0m`,
  dim: (s: string) => `${ESC}2m${s}${ESC}0m`,
  green: (s: string) => `${ESC}32m${s}${ESC}0m`,
  yellow: (s: string) => `${ESC}33m${s}${ESC}0m`,
  red: (s: string) => `${ESC}31m${s}${ESC}0m`,
  cyan: (s: string) => `${ESC}36m${s}${ESC}0m`,
};

/** Pads by visible width (ANSI sequences excluded). */
function pad(s: string, width: number): string {
  // eslint-disable-next-line no-control-regex
  const visible = s.replace(/\x1b\[[0-9;]*m/g, '').length;
  return s + ' '.repeat(Math.max(1, width - visible));
}

function colouredStatus(p: PodView): string {
  const s = podStatus(p);
  if (s === 'ready') return style.green(s);
  return s === 'terminating' ? style.dim(s) : style.yellow(s);
}

function livePodLines(state: DemoState): string[] {
  const head = style.dim(pad('POD', 26) + pad('NODE', 9) + pad('POD IP', 15) + pad('NODE IP:PORT -> POD PORT', 30) + pad('STATUS', 13) + 'ANSWERED last 5s / total');
  const rows = state.pods.map((p) => {
    const map = p.mappings.length ? style.cyan(mappingsText(p)) : style.yellow(p.annotationError ? 'annotation invalid' : 'waiting for npl-agent');
    const answers = `${String(recentCount(state, p.name)).padStart(4)} / ${state.requests.byPod[p.name] ?? 0}`;
    return pad(p.name, 26) + pad(p.node ?? '-', 9) + pad(p.podIP ?? '-', 15) + pad(map, 30) + pad(colouredStatus(p), 13) + answers;
  });
  return [head, ...(rows.length ? rows : [style.dim('(no pods)')])];
}

function liveMemberLines(state: DemoState): string[] {
  if (!state.pool) return [style.yellow(`pool /k8s/${state.poolName} not on the BIG-IP yet (npl-controller creates it)`)];
  const match = poolMatchesPods(state) ? style.green('matches the pods') : style.yellow(`syncing: pods call for ${expectedMembers(state).length}`);
  const lines = [`${style.bold('pool')} ${state.pool.fullPath}  ${state.pool.members.length} member(s), ${match}`];
  lines.push(style.dim(pad('MEMBER', 24) + pad('SESSION', 16) + pad('STATE', 12) + 'POD'));
  for (const m of state.pool.members) {
    const session = m.session.endsWith('enabled') ? style.green(m.session) : style.yellow(m.session);
    lines.push(pad(m.name, 24) + pad(session, 16) + pad(m.state, 12) + (memberOwner(state, m.name) ?? style.yellow('(no pod)')));
  }
  return lines;
}

function recentAnswers(state: DemoState): string {
  // A pod by its name's last part (the Deployment's pods share the rest): short enough for a row.
  const last = state.requests.recent.slice(-16).map((o) => ('pod' in o ? o.pod.slice(o.pod.lastIndexOf('-') + 1) : style.red('x')));
  return last.length ? last.join(' ') : style.dim('(none yet)');
}

function liveRequestLines(state: DemoState): string[] {
  const r = state.requests;
  const v = state.virtual;
  const vs = v ? `${v.destination} -> ${v.pool ?? '-'} ${v.enabled ? '' : style.yellow('(disabled)')}` : style.yellow(`${state.virtualAddress} not on the BIG-IP yet`);
  const failed = r.failed ? style.red(`${r.failed} failed`) : '0 failed';
  const err = r.lastError && r.recent.some((o) => 'error' in o) ? `  ${style.red(`last error: ${r.lastError}`)}` : '';
  return [`${style.bold('virtual server')} ${vs}`, `requests ${r.ok} ok, ${failed}${err}`, `answers, newest last: ${recentAnswers(state)}`];
}

/** The live frame: whole screen text (lines end with clear-to-end-of-line), no cursor movement. */
export function renderFrame(state: DemoState, ctx: RenderContext): string {
  const status = isComplete(state) ? style.green('complete') : style.yellow('settling');
  const lines = [
    `${style.bold('NodePortLocal demo')}  cluster ${ctx.cluster}: ${ctx.nodes.map((n) => `${n.name} ${n.ip}`).join(', ')}  t=${seconds(ctx.elapsedMs)}s  ${status}`,
    style.dim(`keys: + scale up  - scale down  q quit (tears everything down)   BIG-IP ${ctx.bigipUrl}`),
    '',
    `${style.bold('deployment')} ${state.namespace}/${state.app}: ${state.desiredReplicas ?? '?'} desired, ${livePods(state).length} live`,
    ...livePodLines(state),
    '',
    ...liveMemberLines(state),
    '',
    ...liveRequestLines(state),
    '',
    ...state.scales.slice(-3).map((s) => (s.answeredAt !== undefined ? style.green(scaleText(s)) : style.yellow(scaleText(s)))),
    ...(state.bigipError ? [style.red(`BIG-IP read failed: ${state.bigipError}`)] : []),
    style.dim(`logs: ${ctx.logsDir}  (recent = last ${RECENT_MS / 1000} s)`),
  ];
  return lines.map((l) => `${l}${ESC}K`).join('\n');
}
