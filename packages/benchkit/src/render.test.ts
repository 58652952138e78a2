import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { docPaths } from './paths.js';
import { readInputs, renderFiles, staleFiles, writeRendered } from './render.js';
import { sampleResult } from './testing/fixture.js';
import { BenchResultError } from './validate.js';

function repo(): { root: string; done: () => void } {
  const root = mkdtempSync(path.join(tmpdir(), 'benchkit-'));
  mkdirSync(path.join(root, 'docs', 'benchmarks', 'results'), { recursive: true });
  mkdirSync(path.join(root, 'docs', 'benchmarks', 'notes'), { recursive: true });
  return { root, done: () => rmSync(root, { recursive: true, force: true }) };
}

const chart = { id: 'agent-sample', title: 'T', x: { label: 'x' }, y: { label: 'y' }, series: [{ name: 's', points: [[1, 2]] as [number, number][] }] };

describe('render files', () => {
  it('renders results, notes and intro; removes SVGs no chart draws; then nothing is stale', () => {
    const { root, done } = repo();
    try {
      const p = docPaths(root);
      writeFileSync(path.join(p.results, 'agent.sample.json'), JSON.stringify(sampleResult({ charts: [chart] })));
      writeFileSync(path.join(p.notes, 'agent.sample.md'), 'A lasting note.\n');
      writeFileSync(path.join(p.dir, 'intro.md'), 'The intro.\n');
      writeFileSync(path.join(p.dir, 'old-chart.svg'), '<svg/>');
      const files = renderFiles(readInputs(p));
      expect([...files.keys()]).toEqual(['docs/benchmarks.md', 'docs/benchmarks/agent-sample.svg']);
      expect(staleFiles(p, files)).toEqual(['docs/benchmarks.md', 'docs/benchmarks/agent-sample.svg', 'docs/benchmarks/old-chart.svg (no chart draws it)']);
      expect(writeRendered(p, files).removed).toEqual(['docs/benchmarks/old-chart.svg']);
      expect(existsSync(path.join(p.dir, 'old-chart.svg'))).toBe(false);
      const doc = readFileSync(p.document, 'utf8');
      expect(doc).toContain('The intro.');
      expect(doc).toContain('A lasting note.');
      expect(staleFiles(p, renderFiles(readInputs(p)))).toEqual([]);
      writeFileSync(p.document, `${doc}hand edit\n`);
      expect(staleFiles(p, renderFiles(readInputs(p)))).toEqual(['docs/benchmarks.md']);
    } finally {
      done();
    }
  });

  it('rejects a file whose name is not its id, and a chart id used twice', () => {
    const { root, done } = repo();
    try {
      const p = docPaths(root);
      writeFileSync(path.join(p.results, 'agent.other.json'), JSON.stringify(sampleResult()));
      expect(() => readInputs(p)).toThrow('docs/benchmarks/results/agent.other.json: id: expected "agent.other" (the file\'s name), got "agent.sample"');
      rmSync(path.join(p.results, 'agent.other.json'));
      writeFileSync(path.join(p.results, 'agent.sample.json'), JSON.stringify(sampleResult({ charts: [chart] })));
      writeFileSync(path.join(p.results, 'agent.two.json'), JSON.stringify(sampleResult({ id: 'agent.two', charts: [chart] })));
      expect(() => renderFiles(readInputs(p))).toThrow(BenchResultError);
      expect(() => renderFiles(readInputs(p))).toThrow('charts[0].id: expected a chart id not already used by agent.sample');
    } finally {
      done();
    }
  });

  it('names the file of invalid JSON', () => {
    const { root, done } = repo();
    try {
      const p = docPaths(root);
      writeFileSync(path.join(p.results, 'agent.bad.json'), '{"schema": 1,');
      expect(() => readInputs(p)).toThrow(/^docs\/benchmarks\/results\/agent\.bad\.json: \(top level\): expected valid JSON/);
    } finally {
      done();
    }
  });
});
