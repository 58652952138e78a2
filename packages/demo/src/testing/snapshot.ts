/**
 * Reads the plain output of `pnpm demo --for` back into facts (tests only; never in dist/). The
 * format is renderSnapshot's: every line `[   t.ts] <fact>`, a snapshot starting with `--- t=…s
 * <complete|settling> ---` (the last one `final`).
 */

export interface SnapshotPod {
  readonly name: string;
  readonly node: string;
  readonly podIP: string;
  /** `nodeIP:nodePort->podPort/protocol` entries. */
  readonly nodePorts: readonly string[];
  readonly status: string;
  readonly answered: number;
}

export interface SnapshotMember {
  readonly name: string;
  readonly session: string;
  readonly state: string;
  readonly pod: string;
}

export interface Snapshot {
  readonly t: number;
  readonly final: boolean;
  readonly complete: boolean;
  readonly desired?: number;
  readonly live?: number;
  readonly pods: SnapshotPod[];
  readonly pool?: { readonly path: string; readonly members: number; readonly matchesPods: boolean };
  readonly members: SnapshotMember[];
  readonly virtual?: string;
  readonly requests?: { readonly ok: number; readonly failed: number; readonly byPod: Record<string, number> };
  /** `scale to …` lines as printed. */
  readonly scales: string[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const HEADER = /^--- t=([\d.]+)s (final )?(complete|settling) ---$/;

function applyFact(s: Mutable<Snapshot>, fact: string): void {
  let m: RegExpExecArray | null;
  if ((m = /^deployment \S+ desired (\S+) live (\d+)$/.exec(fact))) {
    if (m[1] !== '-') s.desired = Number(m[1]);
    s.live = Number(m[2]);
  } else if ((m = /^pod (\S+) node (\S+) podIP (\S+) nodePort (\S+) (\S+) answered (\d+)$/.exec(fact))) {
    s.pods.push({ name: m[1]!, node: m[2]!, podIP: m[3]!, nodePorts: m[4] === '-' ? [] : m[4]!.split(','), status: m[5]!, answered: Number(m[6]) });
  } else if ((m = /^pool (\S+) members (\d+) (matches-pods|differs-from-pods)$/.exec(fact))) {
    s.pool = { path: m[1]!, members: Number(m[2]), matchesPods: m[3] === 'matches-pods' };
  } else if ((m = /^member (\S+) session (\S+) state (\S+) pod (\S+)$/.exec(fact))) {
    s.members.push({ name: m[1]!, session: m[2]!, state: m[3]!, pod: m[4]! });
  } else if ((m = /^virtual (\S+) \S+ pool \S+ enabled$/.exec(fact))) {
    s.virtual = m[1]!;
  } else if ((m = /^requests ok (\d+) failed (\d+)(?: by-pod ((?:\S+=\d+ ?)+))?/.exec(fact))) {
    const byPod = Object.fromEntries((m[3] ?? '').trim().split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.lastIndexOf('=')), Number(kv.slice(kv.lastIndexOf('=') + 1))]));
    s.requests = { ok: Number(m[1]), failed: Number(m[2]), byPod };
  } else if (fact.startsWith('scale to ')) {
    s.scales.push(fact);
  }
}

/** Every snapshot in `text`, in order; other lines are ignored. */
export function parseSnapshots(text: string): Snapshot[] {
  const out: Mutable<Snapshot>[] = [];
  for (const line of text.split('\n')) {
    const fact = /^\[\s*[\d.]+s\] (.*)$/.exec(line)?.[1];
    if (fact === undefined) continue;
    const h = HEADER.exec(fact);
    if (h) out.push({ t: Number(h[1]), final: h[2] !== undefined, complete: h[3] === 'complete', pods: [], members: [], scales: [] });
    else if (out.length) applyFact(out.at(-1)!, fact);
  }
  return out;
}

/** Seconds from a `scale to` line: `{podsS, poolS, answeringS}`; undefined where it says "not yet". */
export function scaleTimes(line: string): { podsS?: number; poolS?: number; answeringS?: number } {
  const num = (re: RegExp): number | undefined => {
    const v = re.exec(line)?.[1];
    return v === undefined ? undefined : Number(v);
  };
  const out: { podsS?: number; poolS?: number; answeringS?: number } = {};
  const pods = num(/pods with node ports after ([\d.]+) s/);
  const pool = num(/pool members after ([\d.]+) s/);
  const answering = num(/every pod answering after ([\d.]+) s/);
  if (pods !== undefined) out.podsS = pods;
  if (pool !== undefined) out.poolS = pool;
  if (answering !== undefined) out.answeringS = answering;
  return out;
}
