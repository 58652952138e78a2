/** Writing one benchmark's result file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { docPaths, repoRoot } from './paths.js';
import type { BenchResult } from './types.js';
import { validateResult } from './validate.js';

export interface WriteOptions {
  /** Repository root; default: found from this module's location (the workspace it belongs to). */
  readonly root?: string;
  /** Write here instead of docs/benchmarks/results/<id>.json (a trial run that must not touch the record). */
  readonly file?: string;
}

/**
 * Validate `result` and write it to docs/benchmarks/results/<id>.json (or `opts.file`; 2-space JSON,
 * newline at the end), replacing the previous run's. Returns the path. Throws BenchResultError when invalid,
 * so a benchmark never records a result the renderer would reject.
 */
export function writeResult(result: BenchResult, opts: WriteOptions = {}): string {
  const root = opts.root ?? repoRoot(path.dirname(fileURLToPath(import.meta.url)));
  const file = opts.file ?? path.join(docPaths(root).results, `${result.id}.json`);
  const checked = validateResult(JSON.parse(JSON.stringify(result)) as unknown, file);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(checked, null, 2)}\n`);
  const shown = path.relative(root, file);
  process.stderr.write(`wrote ${shown.startsWith('..') ? file : shown}\n`);
  return file;
}
