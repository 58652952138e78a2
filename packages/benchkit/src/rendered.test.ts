/**
 * docs/benchmarks.md and its charts are generated: the committed files must equal a fresh render of
 * the committed results (run `pnpm bench:render` after changing a result, a note or the renderer).
 */
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { docPaths, repoRoot } from './paths.js';
import { readInputs, renderFiles, staleFiles } from './render.js';

describe('committed docs/benchmarks.md', () => {
  const p = docPaths(repoRoot(path.dirname(fileURLToPath(import.meta.url))));

  it('every committed result is valid', () => {
    expect(() => readInputs(p)).not.toThrow();
  });

  it('equals a fresh render of the committed results (run `pnpm bench:render`)', () => {
    expect(staleFiles(p, renderFiles(readInputs(p)))).toEqual([]);
  });
});
