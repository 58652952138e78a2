/**
 * Validation of a benchmark result read from JSON. Pure. A bad result is rejected with an error
 * that names the file, the field (a path such as `figures[2].goal.op`) and what was expected.
 */
import type { Axis, BenchResult, Chart, Figure, GoalOp, Machine, ResultHeader, Table } from './types.js';

/** A result file that does not follow the format; `file` and `field` say where. */
export class BenchResultError extends Error {
  readonly file: string;
  readonly field: string;
  constructor(file: string, field: string, expected: string, got: unknown) {
    super(`${file}: ${field || '(top level)'}: expected ${expected}, got ${describe(got)}`);
    this.name = 'BenchResultError';
    this.file = file;
    this.field = field;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

const ID = /^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)+$/;
const CHART_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const OPS = new Set(['<', '<=', '>', '>=', '==']);

type Obj = Record<string, unknown>;

class Checker {
  private readonly file: string;
  constructor(file: string) {
    this.file = file;
  }

  fail(field: string, expected: string, got: unknown): never {
    throw new BenchResultError(this.file, field, expected, got);
  }

  obj(v: unknown, field: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, 'an object', v);
    return v as Obj;
  }

  str(v: unknown, field: string, nonEmpty = true): string {
    if (typeof v !== 'string' || (nonEmpty && v.trim() === '')) this.fail(field, nonEmpty ? 'a non-empty string' : 'a string', v);
    return v;
  }

  num(v: unknown, field: string, min?: number): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, 'a finite number', v);
    if (min !== undefined && v < min) this.fail(field, `a number >= ${min}`, v);
    return v;
  }

  optional<T>(o: Obj, key: string, field: string, check: (v: unknown, field: string) => T): T | undefined {
    return o[key] === undefined ? undefined : check(o[key], `${field}${key}`);
  }

  arr(v: unknown, field: string, minLength = 0): unknown[] {
    if (!Array.isArray(v)) this.fail(field, 'an array', v);
    if (v.length < minLength) this.fail(field, `an array of at least ${minLength} element(s)`, v);
    return v;
  }

  bool(v: unknown, field: string): boolean {
    if (typeof v !== 'boolean') this.fail(field, 'true or false', v);
    return v;
  }

  numbers(v: unknown, field: string, minLength = 0): number[] {
    return this.arr(v, field, minLength).map((x, i) => this.num(x, `${field}[${i}]`));
  }
}

function machine(c: Checker, v: unknown): Machine {
  const o = c.obj(v, 'machine');
  return {
    cpus: c.num(o.cpus, 'machine.cpus', 1),
    cpuModel: c.str(o.cpuModel, 'machine.cpuModel'),
    memGiB: c.num(o.memGiB, 'machine.memGiB', 0),
    kernel: c.str(o.kernel, 'machine.kernel'),
    node: c.str(o.node, 'machine.node'),
    loadavgStart: c.num(o.loadavgStart, 'machine.loadavgStart', 0),
    loadavgEnd: c.num(o.loadavgEnd, 'machine.loadavgEnd', 0),
  };
}

function figure(c: Checker, v: unknown, f: string): Figure {
  const o = c.obj(v, f);
  const goal = c.optional(o, 'goal', `${f}.`, (g, gf) => {
    const go = c.obj(g, gf);
    if (typeof go.op !== 'string' || !OPS.has(go.op)) c.fail(`${gf}.op`, 'one of <, <=, >, >=, ==', go.op);
    const text = c.optional(go, 'text', `${gf}.`, (t, tf) => c.str(t, tf));
    return { op: go.op as GoalOp, value: c.num(go.value, `${gf}.value`), ...(text === undefined ? {} : { text }) };
  });
  const baseline = c.optional(o, 'baseline', `${f}.`, (b, bf) => {
    const bo = c.obj(b, bf);
    const runs = c.optional(bo, 'runs', `${bf}.`, (r, rf) => c.numbers(r, rf));
    return { name: c.str(bo.name, `${bf}.name`), median: c.num(bo.median, `${bf}.median`), ...(runs === undefined ? {} : { runs }) };
  });
  const ratio = c.optional(o, 'ratio', `${f}.`, (r, rf) => c.num(r, rf));
  if (ratio !== undefined && baseline === undefined) c.fail(`${f}.ratio`, 'no ratio without a baseline measured in the same run', ratio);
  const lowerIsBetter = c.optional(o, 'lowerIsBetter', `${f}.`, (b, bf) => c.bool(b, bf));
  return {
    name: c.str(o.name, `${f}.name`),
    unit: c.str(o.unit, `${f}.unit`, false),
    median: c.num(o.median, `${f}.median`),
    runs: c.numbers(o.runs, `${f}.runs`, 1),
    ...(goal === undefined ? {} : { goal }),
    ...(baseline === undefined ? {} : { baseline }),
    ...(ratio === undefined ? {} : { ratio }),
    ...(lowerIsBetter === undefined ? {} : { lowerIsBetter }),
  };
}

function table(c: Checker, v: unknown, f: string): Table {
  const o = c.obj(v, f);
  const columns = c.arr(o.columns, `${f}.columns`, 1).map((x, i) => c.str(x, `${f}.columns[${i}]`, false));
  const rows = c.arr(o.rows, `${f}.rows`).map((r, i) => {
    const cells = c.arr(r, `${f}.rows[${i}]`);
    if (cells.length !== columns.length) c.fail(`${f}.rows[${i}]`, `${columns.length} cells (one per column)`, r);
    return cells.map((x, j) => (x === null ? null : typeof x === 'number' ? c.num(x, `${f}.rows[${i}][${j}]`) : c.str(x, `${f}.rows[${i}][${j}]`, false)));
  });
  const title = c.optional(o, 'title', `${f}.`, (t, tf) => c.str(t, tf));
  return { ...(title === undefined ? {} : { title }), columns, rows };
}

function axis(c: Checker, v: unknown, f: string): Axis {
  const o = c.obj(v, f);
  const unit = c.optional(o, 'unit', `${f}.`, (u, uf) => c.str(u, uf, false));
  const log = c.optional(o, 'log', `${f}.`, (b, bf) => c.bool(b, bf));
  const min = c.optional(o, 'min', `${f}.`, (m, mf) => c.num(m, mf));
  return { label: c.str(o.label, `${f}.label`), ...(unit === undefined ? {} : { unit }), ...(log === undefined ? {} : { log }), ...(min === undefined ? {} : { min }) };
}

function chart(c: Checker, v: unknown, f: string): Chart {
  const o = c.obj(v, f);
  const id = c.str(o.id, `${f}.id`);
  if (!CHART_ID.test(id)) c.fail(`${f}.id`, 'a kebab-case file name such as "agent-latency"', id);
  const x = axis(c, o.x, `${f}.x`);
  const y = axis(c, o.y, `${f}.y`);
  const series = c.arr(o.series, `${f}.series`, 1).map((s, i) => {
    const sf = `${f}.series[${i}]`;
    const so = c.obj(s, sf);
    const points = c.arr(so.points, `${sf}.points`).map((p, j) => {
      const pf = `${sf}.points[${j}]`;
      const xy = c.numbers(p, pf, 2);
      if (xy.length !== 2) c.fail(pf, 'a pair [x, y]', p);
      if (x.log && xy[0]! <= 0) c.fail(`${pf}[0]`, 'a positive x on a log axis', xy[0]);
      if (y.log && xy[1]! <= 0) c.fail(`${pf}[1]`, 'a positive y on a log axis', xy[1]);
      return [xy[0]!, xy[1]!] as const;
    });
    return { name: c.str(so.name, `${sf}.name`), points };
  });
  if (series.every((s) => s.points.length === 0)) c.fail(`${f}.series`, 'at least one point in some series', o.series);
  return { id, title: c.str(o.title, `${f}.title`), x, y, series };
}

function header(c: Checker, o: Obj): ResultHeader {
  const id = c.str(o.id, 'id');
  if (!ID.test(id)) c.fail('id', '"<package>.<bench>" in kebab case, e.g. "agent.service-rollout"', id);
  const title = c.str(o.title, 'title');
  const order = c.optional(o, 'order', '', (n, f) => c.num(n, f));
  return {
    id,
    title,
    ...(order === undefined ? {} : { order }),
    section: c.str(o.section, 'section'),
    command: c.str(o.command, 'command'),
    description: c.str(o.description, 'description'),
  };
}

/**
 * `value` (parsed JSON) as a BenchResult, or a BenchResultError naming `file` and the first bad
 * field. Unknown extra fields are kept out (the format grows only by optional fields).
 */
export function validateResult(value: unknown, file: string): BenchResult {
  const c = new Checker(file);
  const o = c.obj(value, '');
  if (o.schema !== 1) c.fail('schema', '1', o.schema);
  const { description, ...h } = header(c, o);
  const date = c.str(o.date, 'date');
  if (!/^\d{4}-\d{2}-\d{2}T/.test(date) || Number.isNaN(Date.parse(date))) c.fail('date', 'an ISO 8601 date-time', date);
  const tables = c.optional(o, 'tables', '', (t, f) => c.arr(t, f).map((x, i) => table(c, x, `${f}[${i}]`)));
  const charts = c.optional(o, 'charts', '', (t, f) => c.arr(t, f).map((x, i) => chart(c, x, `${f}[${i}]`)));
  const notes = c.optional(o, 'notes', '', (n, f) => c.str(n, f, false));
  return {
    schema: 1,
    ...h,
    date,
    durationSeconds: c.num(o.durationSeconds, 'durationSeconds', 0),
    machine: machine(c, o.machine),
    description,
    figures: c.arr(o.figures, 'figures', 1).map((x, i) => figure(c, x, `figures[${i}]`)),
    ...(tables === undefined ? {} : { tables }),
    ...(charts === undefined ? {} : { charts }),
    ...(notes === undefined ? {} : { notes }),
  };
}

/**
 * The part of a result a benchmark knows before it measures (id, title, order, section, command,
 * description), checked as `validateResult` checks it. Call it at the start of a run, so a long
 * benchmark with a bad title fails at once rather than after it has measured. `file` names the
 * result in the error; default `docs/benchmarks/results/<id>.json`. Throws BenchResultError.
 */
export function validateHeader(value: unknown, file = `docs/benchmarks/results/${String((value as Obj | null)?.id)}.json`): ResultHeader {
  const c = new Checker(file);
  return header(c, c.obj(value, ''));
}
