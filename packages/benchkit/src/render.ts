/**
 * The render step: every docs/benchmarks/results/*.json (validated), the notes and the intro →
 * docs/benchmarks.md and one docs/benchmarks/<chart-id>.svg per chart. `renderFiles` is pure
 * over what `readInputs` read, so the committed files can be compared with a fresh render.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DocPaths } from './paths.js';
import { renderDocument } from './markdown.js';
import { renderLineChart } from './svg.js';
import type { BenchResult } from './types.js';
import { BenchResultError, validateResult } from './validate.js';

export interface Inputs {
  readonly results: readonly BenchResult[];
  readonly intro?: string;
  readonly notes: Readonly<Record<string, string>>;
}

function readJson(file: string, shown: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (err) {
    throw new BenchResultError(shown, '', 'valid JSON', (err as Error).message);
  }
}

/** Read and validate every result (sorted by file name), the per-result notes and the intro. */
export function readInputs(p: DocPaths): Inputs {
  const files = existsSync(p.results) ? readdirSync(p.results).filter((f) => f.endsWith('.json')).sort() : [];
  const rel = (f: string): string => path.relative(p.root, f);
  const results = files.map((f) => {
    const file = path.join(p.results, f);
    const r = validateResult(readJson(file, rel(file)), rel(file));
    if (`${r.id}.json` !== f) throw new BenchResultError(rel(file), 'id', `"${f.slice(0, -5)}" (the file's name)`, r.id);
    return r;
  });
  const notes: Record<string, string> = {};
  if (existsSync(p.notes)) {
    for (const f of readdirSync(p.notes).filter((n) => n.endsWith('.md')).sort()) notes[f.slice(0, -3)] = readFileSync(path.join(p.notes, f), 'utf8');
  }
  const ids = new Set(results.map((r) => r.id));
  const orphan = Object.keys(notes).filter((id) => !ids.has(id));
  if (orphan.length) process.stderr.write(`notes without a result (not rendered until it exists): ${orphan.map((id) => `notes/${id}.md`).join(', ')}\n`);
  const introFile = path.join(p.dir, 'intro.md');
  return { results, notes, ...(existsSync(introFile) ? { intro: readFileSync(introFile, 'utf8') } : {}) };
}

/** Repository-relative path → content of every file the render produces. Throws on a chart id used twice. */
export function renderFiles(inputs: Inputs): Map<string, string> {
  const out = new Map<string, string>();
  out.set('docs/benchmarks.md', renderDocument(inputs));
  const owner = new Map<string, string>();
  for (const r of inputs.results) {
    for (const [i, c] of (r.charts ?? []).entries()) {
      const other = owner.get(c.id);
      if (other) throw new BenchResultError(`docs/benchmarks/results/${r.id}.json`, `charts[${i}].id`, `a chart id not already used by ${other}`, c.id);
      owner.set(c.id, r.id);
      out.set(`docs/benchmarks/${c.id}.svg`, renderLineChart(c));
    }
  }
  return out;
}

/**
 * Write the rendered files and remove the SVGs in docs/benchmarks/ that no chart draws any more (the
 * renderer owns that directory's SVGs); returns the repository-relative paths written and removed.
 */
export function writeRendered(p: DocPaths, files: ReadonlyMap<string, string>): { written: string[]; removed: string[] } {
  mkdirSync(p.dir, { recursive: true });
  for (const [rel, content] of files) writeFileSync(path.join(p.root, rel), content);
  const removed = readdirSync(p.dir)
    .filter((n) => n.endsWith('.svg') && !files.has(`docs/benchmarks/${n}`))
    .map((n) => {
      rmSync(path.join(p.dir, n));
      return `docs/benchmarks/${n}`;
    });
  return { written: [...files.keys()], removed };
}

/** Rendered files whose committed copy is missing or differs, and SVGs under docs/benchmarks/ no chart produces. */
export function staleFiles(p: DocPaths, files: ReadonlyMap<string, string>): string[] {
  const stale: string[] = [];
  for (const [rel, content] of files) {
    const file = path.join(p.root, rel);
    if (!existsSync(file) || readFileSync(file, 'utf8') !== content) stale.push(rel);
  }
  if (existsSync(p.dir)) {
    for (const f of readdirSync(p.dir).filter((n) => n.endsWith('.svg'))) if (!files.has(`docs/benchmarks/${f}`)) stale.push(`docs/benchmarks/${f} (no chart draws it)`);
  }
  return stale;
}
