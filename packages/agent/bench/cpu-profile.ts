/**
 * Summarises a V8 `.cpuprofile` (node --cpu-prof) by self time: per module group (client-node
 * deserialization, JSON, HTTP, nft session, logging, our planner, ...) and the top functions.
 * Idle and (program) samples are left out of the shares.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileSummary {
  /** Sampled CPU time, ms, idle excluded. */
  readonly totalMs: number;
  /** [group, ms, share of total] by ms descending. */
  readonly groups: readonly [string, number, number][];
  /** [function (file:line), group, ms, share] top N by self time. */
  readonly top: readonly [string, string, number, number][];
}

/** Self-time groups by script URL (first match wins); function names decide the first few. */
const URL_GROUPS: readonly (readonly [RegExp, string])[] = [
  [/@kubernetes\/client-node\/dist\/gen\/models\//, 'client-node deserialization'],
  [/@kubernetes\/client-node/, 'client-node (other)'],
  [/undici|node:internal\/(http|net|stream|tls|dns)|node:(http|https|net|stream)\b/, 'HTTP, TLS, streams, sockets'],
  [/pino|sonic-boom|thread-stream|fast-redact|quick-format|safe-stable-stringify/, 'logging (pino)'],
  [/fastify|find-my-way|avvio/, 'health server'],
  [/execa|node:internal\/child_process/, 'child processes'],
  [/agent\/dist\/dataplane/, 'nft session (dataplane)'],
  [/agent\/dist\//, 'agent (controller, metrics)'],
  [/core\/dist\/(port-table|render-)/, 'core: port table, rule rendering'],
  [/core\/dist\//, 'core: planner, selection, annotation'],
  [/runtime\/dist\//, 'runtime: informer, queue, metrics'],
];

/** The group a function's self time counts to, from its script URL and name. */
export function groupOf(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)' || fn === '(idle)') return fn;
  if (url === '' && (fn === 'parse' || fn === 'stringify')) return 'JSON parse/stringify';
  const hit = URL_GROUPS.find(([re]) => re.test(url));
  if (hit) return hit[1];
  return url.startsWith('node:') || url === '' ? 'Node.js internals, builtins' : 'other';
}

function shortName(frame: ProfileNode['callFrame']): string {
  const file = frame.url ? frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/packages\//, '') : '(native)';
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

export function summarizeProfile(profile: CpuProfile, topN = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const groups = new Map<string, number>();
  const fns = new Map<string, { group: string; us: number }>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const group = groupOf(frame.url, frame.functionName);
    if (group === '(idle)' || group === '(program)') continue;
    groups.set(group, (groups.get(group) ?? 0) + us);
    const name = shortName(frame);
    const f = fns.get(name) ?? { group, us: 0 };
    f.us += us;
    fns.set(name, f);
  }
  const totalUs = [...groups.values()].reduce((a, b) => a + b, 0);
  const ms = (us: number): number => Math.round(us / 100) / 10;
  const share = (us: number): number => Math.round((us / totalUs) * 1000) / 10;
  return {
    totalMs: ms(totalUs),
    groups: [...groups].sort((a, b) => b[1] - a[1]).map(([g, us]) => [g, ms(us), share(us)]),
    top: [...fns]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, topN)
      .map(([name, f]) => [name, f.group, ms(f.us), share(f.us)]),
  };
}

/** The summary of the one `.cpuprofile` in `dir` (the newest when several). */
export function summarizeProfileDir(dir: string, topN = 15): ProfileSummary {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  const file = files.at(-1);
  if (!file) throw new Error(`no .cpuprofile in ${dir}: did the agent exit cleanly?`);
  return summarizeProfile(JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile, topN);
}

/** Markdown tables of a summary. */
export function profileTables(title: string, s: ProfileSummary): string {
  const lines = [`${title}: ${(s.totalMs / 1000).toFixed(2)} s sampled (idle excluded)`, '', '| group | self ms | share |', '|---|---|---|'];
  for (const [g, ms, sh] of s.groups) lines.push(`| ${g} | ${ms} | ${sh} % |`);
  lines.push('', '| function | group | self ms | share |', '|---|---|---|---|');
  for (const [f, g, ms, sh] of s.top) lines.push(`| \`${f}\` | ${g} | ${ms} | ${sh} % |`);
  return lines.join('\n');
}
