/** Where results, notes, charts and the document live in the repository. */
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface DocPaths {
  readonly root: string;
  /** docs/benchmarks.md */
  readonly document: string;
  /** docs/benchmarks/: the charts (<chart-id>.svg) */
  readonly dir: string;
  /** docs/benchmarks/results/<id>.json */
  readonly results: string;
  /** docs/benchmarks/notes/<id>.md (per result) and intro.md (top of the document) */
  readonly notes: string;
}

/** The repository root: the nearest directory at or above `from` with a pnpm-workspace.yaml. */
export function repoRoot(from = process.cwd()): string {
  let dir = path.resolve(from);
  for (;;) {
    if (existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no pnpm-workspace.yaml at or above ${from}: cannot find the repository root`);
    dir = up;
  }
}

export function docPaths(root: string): DocPaths {
  const dir = path.join(root, 'docs', 'benchmarks');
  return { root, document: path.join(root, 'docs', 'benchmarks.md'), dir, results: path.join(dir, 'results'), notes: path.join(dir, 'notes') };
}
