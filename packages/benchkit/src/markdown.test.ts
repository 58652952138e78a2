import { describe, expect, it } from '@jest/globals';
import { formatNumber, withUnit } from './format.js';
import { figureRow, GENERATED_MARK, machineLine, renderDocument, sections } from './markdown.js';
import { sampleResult } from './testing/fixture.js';

/** The rows of the first Markdown table after `heading`, as cells. */
function tableAfter(doc: string, heading: string): string[][] {
  const lines = doc.split('\n');
  let i = lines.indexOf(heading);
  expect(i).toBeGreaterThanOrEqual(0);
  while (!lines[i]!.startsWith('|')) i++;
  const rows: string[][] = [];
  for (; lines[i]?.startsWith('|'); i++) rows.push(lines[i]!.slice(2, -2).split(' | '));
  return rows;
}

describe('formatNumber', () => {
  it.each([
    [30000, '30,000'],
    [11006, '11,006'],
    [455.04, '455'],
    [41.37, '41.4'],
    [8.384, '8.38'],
    [0.04251, '0.0425'],
    [0, '0'],
    [-1234.5, '-1,235'],
  ])('%d → %s', (x, s) => expect(formatNumber(x)).toBe(s));
  it('a whole number among fractions keeps their digits', () => {
    expect(figureRow({ name: 'f', unit: 's', median: 18.3, runs: [18.3, 19, 13.4] })[2]).toBe('18.3 / 19.0 / 13.4');
    expect(figureRow({ name: 'f', unit: 'count', median: 0, runs: [0, 0, 1] })[2]).toBe('0 / 0 / 1');
  });
  it('units: count is bare, others spaced', () => {
    expect(withUnit(3, 'count')).toBe('3');
    expect(withUnit(8.384, 's')).toBe('8.38 s');
  });
});

describe('renderDocument', () => {
  const a = sampleResult();
  const b = sampleResult({ id: 'cluster.up', title: 'Cluster up', section: 'Local cluster', order: 10, figures: [{ name: 'warm up', unit: 's', median: 16, runs: [16], goal: { op: '<', value: 15, text: 'under 15 s' } }] });
  const doc = renderDocument({ results: [a, b], intro: 'Intro text.\n', notes: { 'agent.sample': 'Notes from a file.' } });

  it('says at its top that it is generated and how', () => {
    const head = doc.split('\n').slice(0, 10).join('\n');
    expect(head).toContain(GENERATED_MARK);
    expect(head).toContain('pnpm bench');
    expect(head).toContain('docs/benchmarks/results/<id>.json');
    expect(doc.indexOf('Intro text.')).toBeGreaterThan(doc.indexOf(GENERATED_MARK));
  });

  it('orders sections by their results’ order', () => {
    expect(sections([a, b]).map(([s]) => s)).toEqual(['Local cluster', 'npl-agent']);
    expect(doc.indexOf('## Local cluster')).toBeLessThan(doc.indexOf('## npl-agent'));
  });

  it('summarises each figure: median, runs, goal, met, baseline and the computed ratio', () => {
    const rows = tableAfter(doc, '## npl-agent');
    expect(rows[0]).toEqual(['benchmark', 'figure', 'median', 'runs', 'goal', 'met', 'baseline (same run)', 'ratio']);
    expect(rows[2]).toEqual(['A sample benchmark', 'add+delete', '**0.900 ms**'.replace('0.900', '0.9'), '0.8 / 0.9 / 1.10', '< 10 ms', '✔', 'iptables-nft: 258 ms', '0.00349× (1/287)']);
    expect(rows[3]).toEqual(['', 'ports changed', '**2**', '0 / 2 / 3', '= 0', '✘', '', '']);
    expect(tableAfter(doc, '## Local cluster')[2]).toEqual(['Cluster up', 'warm up', '**16 s**', '16', 'under 15 s', '✘', '', '']);
  });

  it('uses a given ratio and summarises long run lists', () => {
    const row = figureRow({ name: 'f', unit: 'µs', median: 41, runs: Array.from({ length: 3000 }, (_, i) => 30 + (i % 20)), baseline: { name: 'iptables', median: 455 }, ratio: 0.09 });
    expect(row[2]).toBe('3,000 values, 30 – 49');
    expect(row[6]).toBe('0.09× (1/11.1)');
  });

  it('renders each result: description, tables, charts as images, notes, machine and date', () => {
    const r = sampleResult({ tables: [{ title: 'Per run', columns: ['run', 'time (s)'], rows: [[1, 8.222], ['median', 'a|b'], ['none', null]] }], charts: [{ id: 'agent-sample', title: 'Latency', x: { label: 'x' }, y: { label: 'y' }, series: [{ name: 's', points: [[1, 1]] }] }], notes: 'From the result.' });
    const d = renderDocument({ results: [r], notes: { 'agent.sample': 'From the file.' } });
    const part = d.slice(d.indexOf('### A sample benchmark'));
    const order = ['`agent.sample` · rerun: `node packages/agent/dist-bench/bench/sample.js --runs 3`', 'Measures a **sample**.', '**Per run**', '| 1 | 8.22 |', '| median | a\\|b |', '| none | – |', '![Latency](benchmarks/agent-sample.svg)', 'From the result.', 'From the file.', '_Run 2026-12-02 00:50 UTC, 12.5 s; 2 × AMD EPYC 7B13'];
    const at = order.map((s) => part.indexOf(s));
    expect(at.every((x) => x >= 0)).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
  });

  it('machine line carries the load at start and end', () => {
    expect(machineLine(a.machine)).toBe('2 × AMD EPYC 7B13, 23.5 GiB, Linux 6.18.44, Node v24.21.0, load average (1 min) 1.20 at the start, 3.46 at the end');
  });

  it('says when the load exceeded the CPU count', () => {
    expect(doc).toContain('3.46 at the end. The load was above the CPU count');
    const idle = renderDocument({ results: [sampleResult({ machine: { ...a.machine, loadavgStart: 0.5, loadavgEnd: 1.9 } })] });
    expect(idle).not.toContain('The load was above');
  });

  it('is deterministic and independent of input order', () => {
    expect(renderDocument({ results: [b, a], intro: 'Intro text.\n', notes: { 'agent.sample': 'Notes from a file.' } })).toBe(doc);
  });

  it('says when there is nothing to show', () => {
    expect(renderDocument({ results: [] })).toContain('No results yet');
  });
});
