import { describe, expect, it } from '@jest/globals';
import { misplacedInSrc, shippedTestCode } from './dist-check.js';

describe('shippedTestCode', () => {
  it('accepts a clean dist/', () => {
    expect(shippedTestCode(['index.js', 'index.d.ts', 'dataplane/nftables.js', 'dataplane/nftables.js.map', 'benchmark-free.js'])).toEqual([]);
  });

  it('names test files, test helpers, e2e tests and benchmarks', () => {
    expect(
      shippedTestCode([
        'agent.test.js',
        'dataplane/nftables.kernel.test.d.ts.map',
        'testing/fake-dataplane.js',
        'e2e/harness.js',
        'bench/run.js',
        'bench.js',
      ]),
    ).toEqual([
      { file: 'agent.test.js', why: 'a test file' },
      { file: 'dataplane/nftables.kernel.test.d.ts.map', why: 'a test file' },
      { file: 'testing/fake-dataplane.js', why: 'a test helper (testing/)' },
      { file: 'e2e/harness.js', why: 'an end-to-end test (e2e/)' },
      { file: 'bench/run.js', why: 'a benchmark (bench/)' },
    ]);
  });
});

describe('misplacedInSrc', () => {
  it('names e2e and bench code under src/, and nothing outside it', () => {
    expect(
      misplacedInSrc(['src/agent.ts', 'src/e2e/harness.ts', 'src/x.e2e.test.ts', 'src/bench/run.ts', 'e2e/npl.e2e.test.ts', 'bench/run.ts', 'src/testing/index.ts']).map(
        (p) => p.file,
      ),
    ).toEqual(['src/e2e/harness.ts', 'src/x.e2e.test.ts', 'src/bench/run.ts']);
  });
});
