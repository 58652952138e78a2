import { describe, expect, it } from '@jest/globals';
import { BenchResultError, validateHeader, validateResult } from './validate.js';
import { sampleResult } from './testing/fixture.js';

const FILE = 'docs/benchmarks/results/agent.sample.json';

function errorOf(value: unknown, validate: (v: unknown) => unknown = (v) => validateResult(v, FILE)): BenchResultError {
  try {
    validate(value);
  } catch (err) {
    if (err instanceof BenchResultError) return err;
    throw err;
  }
  throw new Error('expected a BenchResultError');
}

const json = (x: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(x)) as Record<string, unknown>;

describe('validateResult', () => {
  it('accepts a valid result and returns the same data', () => {
    const r = sampleResult({ charts: [{ id: 'agent-sample', title: 't', x: { label: 'mappings', log: true }, y: { label: 'p50', unit: 'µs' }, series: [{ name: 'nft', points: [[1, 40], [30000, 41]] }] }], tables: [{ columns: ['a', 'b'], rows: [['x', 1]] }], notes: 'n' });
    expect(validateResult(json(r), FILE)).toEqual(r);
  });

  it('drops fields the format does not know', () => {
    const v = validateResult({ ...json(sampleResult()), extra: 1 }, FILE);
    expect(v).not.toHaveProperty('extra');
  });

  it.each<[string, (r: Record<string, unknown>) => void, string, string]>([
    ['wrong schema', (r) => (r.schema = 2), 'schema', 'expected 1, got 2'],
    ['id not <package>.<bench>', (r) => (r.id = 'Agent_Sample'), 'id', 'kebab case'],
    ['missing title', (r) => delete r.title, 'title', 'expected a non-empty string, got nothing'],
    ['date not ISO', (r) => (r.date = 'yesterday'), 'date', 'ISO 8601'],
    ['negative duration', (r) => (r.durationSeconds = -1), 'durationSeconds', 'a number >= 0'],
    ['machine field', (r) => ((r.machine as Record<string, unknown>).cpus = '2'), 'machine.cpus', 'a finite number, got "2"'],
    ['no figures', (r) => (r.figures = []), 'figures', 'at least 1'],
    ['median as a string with a unit', (r) => ((r.figures as Record<string, unknown>[])[1]!.median = '2 s'), 'figures[1].median', 'a finite number'],
    ['empty runs', (r) => ((r.figures as Record<string, unknown>[])[0]!.runs = []), 'figures[0].runs', 'at least 1'],
    ['bad goal op', (r) => (((r.figures as Record<string, unknown>[])[0]!.goal as Record<string, unknown>).op = '=<'), 'figures[0].goal.op', 'one of <, <=, >, >=, =='],
    ['ratio without baseline', (r) => ((r.figures as Record<string, unknown>[])[1]!.ratio = 2), 'figures[1].ratio', 'baseline measured in the same run'],
    ['table row of the wrong width', (r) => (r.tables = [{ columns: ['a', 'b'], rows: [['x']] }]), 'tables[0].rows[0]', '2 cells'],
    ['chart id with a dot', (r) => (r.charts = [{ id: 'a.b', title: 't', x: { label: 'x' }, y: { label: 'y' }, series: [{ name: 's', points: [[1, 1]] }] }]), 'charts[0].id', 'kebab-case'],
    ['zero on a log axis', (r) => (r.charts = [{ id: 'c', title: 't', x: { label: 'x', log: true }, y: { label: 'y' }, series: [{ name: 's', points: [[0, 1]] }] }]), 'charts[0].series[0].points[0][0]', 'positive x on a log axis'],
    ['a chart without any point', (r) => (r.charts = [{ id: 'c', title: 't', x: { label: 'x' }, y: { label: 'y' }, series: [{ name: 's', points: [] }] }]), 'charts[0].series', 'at least one point'],
    ['point not a pair', (r) => (r.charts = [{ id: 'c', title: 't', x: { label: 'x' }, y: { label: 'y' }, series: [{ name: 's', points: [[1, 2, 3]] }] }]), 'charts[0].series[0].points[0]', 'a pair'],
  ])('rejects %s, naming the file and the field', (_name, mutate, field, expected) => {
    const r = json(sampleResult());
    mutate(r);
    const err = errorOf(r);
    expect(err.file).toBe(FILE);
    expect(err.field).toBe(field);
    expect(err.message).toContain(`${FILE}: ${field}: `);
    expect(err.message).toContain(expected);
  });

  it('rejects a non-object', () => {
    expect(errorOf([]).message).toBe(`${FILE}: (top level): expected an object, got []`);
  });
});

describe('validateHeader', () => {
  const { id, title, section, command, description } = sampleResult();

  it('accepts the static part of a result and returns only it', () => {
    expect(validateHeader({ id, title, order: 3, section, command, description, figures: 'not yet' })).toEqual({ id, title, order: 3, section, command, description });
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['id not <package>.<bench>', { id: 'sample', title, section, command, description }, 'id', 'kebab case'],
    ['empty title', { id, title: ' ', section, command, description }, 'title', 'a non-empty string'],
    ['order not a number', { id, title, order: '3', section, command, description }, 'order', 'a finite number'],
    ['missing section', { id, title, command, description }, 'section', 'got nothing'],
    ['missing command', { id, title, section, description }, 'command', 'got nothing'],
    ['missing description', { id, title, section, command }, 'description', 'got nothing'],
  ])('rejects %s, naming the result file it would write and the field', (_name, value, field, expected) => {
    const err = errorOf(value, (v) => validateHeader(v));
    expect(err.file).toBe(`docs/benchmarks/results/${String(value.id)}.json`);
    expect(err.field).toBe(field);
    expect(err.message).toContain(expected);
  });

  it('names the file it is given', () => {
    expect(errorOf({ id, title }, (v) => validateHeader(v, '/tmp/x.json')).message).toBe('/tmp/x.json: section: expected a non-empty string, got nothing');
  });

  it('rejects what validateResult rejects in the same fields', () => {
    const value = { ...json(sampleResult()), title: '' };
    expect(errorOf(value, (v) => validateHeader(v)).message).toBe(errorOf(value).message);
  });
});
