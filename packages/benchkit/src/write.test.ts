import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchResultError } from './validate.js';
import { writeResult } from './write.js';
import { sampleResult } from './testing/fixture.js';

function withTmp(body: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'benchkit-write-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('writeResult', () => {
  it('writes docs/benchmarks/results/<id>.json under the root, validated, as 2-space JSON with a final newline', () => {
    withTmp((root) => {
      const file = writeResult({ ...sampleResult(), extra: 1 } as ReturnType<typeof sampleResult>, { root });
      expect(file).toBe(path.join(root, 'docs', 'benchmarks', 'results', 'agent.sample.json'));
      const text = readFileSync(file, 'utf8');
      expect(text).toBe(`${JSON.stringify(sampleResult(), null, 2)}\n`);
    });
  });

  it('writes to opts.file instead when given, and nothing under the root', () => {
    withTmp((dir) => {
      const file = path.join(dir, 'trial', 'churn.json');
      expect(writeResult(sampleResult(), { root: dir, file })).toBe(file);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(sampleResult());
      expect(existsSync(path.join(dir, 'docs'))).toBe(false);
    });
  });

  it('writes nothing when the result is invalid', () => {
    withTmp((root) => {
      expect(() => writeResult(sampleResult({ figures: [] }), { root })).toThrow(BenchResultError);
      expect(existsSync(path.join(root, 'docs'))).toBe(false);
    });
  });
});
