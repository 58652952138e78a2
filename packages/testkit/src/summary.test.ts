import { describe, expect, it } from '@jest/globals';
import type { JestAssertion, JestResults, SummaryInput } from './summary.js';
import { isCi, NO_REASON, reasonFor, summarize } from './summary.js';

const ROOT = '/repo';
const FILE = '/repo/packages/agent/e2e/npl.e2e.test.ts';
const a = (status: string, title = 't', ancestorTitles: string[] = []): JestAssertion => ({ status, title, ancestorTitles });

function jest(files: { name?: string; status?: string; message?: string; tests: JestAssertion[] }[], runtimeErrors = 0): JestResults {
  return {
    numTotalTests: files.reduce((n, f) => n + f.tests.length, 0),
    numRuntimeErrorTestSuites: runtimeErrors,
    testResults: files.map((f) => ({ name: f.name ?? FILE, assertionResults: f.tests, ...(f.status ? { status: f.status } : {}), ...(f.message ? { message: f.message } : {}) })),
  };
}

const input = (over: Partial<SummaryInput>): SummaryInput => ({
  jest: jest([{ tests: [a('passed')] }]),
  jestExitCode: 0,
  skips: [],
  checks: [],
  ci: false,
  rootDir: ROOT,
  ...over,
});

describe('summarize: the closing line', () => {
  it('counts passed Jest tests and passed checks, and exits 0', () => {
    const s = summarize(input({ jest: jest([{ tests: [a('passed'), a('passed')] }]), checks: [{ name: 'build', status: 'passed' }] }));
    expect(s).toMatchObject({ passed: 3, failed: 0, skipped: 0, line: '3 passed, 0 failed, 0 skipped', exitCode: 0, notes: [] });
  });

  it('counts failed tests, files that could not run and failed checks, and exits 1', () => {
    const s = summarize(
      input({
        jest: jest([{ tests: [a('passed'), a('failed')] }, { name: '/repo/packages/core/src/x.test.ts', status: 'failed', message: 'SyntaxError: boom\n  at x', tests: [] }], 1),
        jestExitCode: 1,
        checks: [{ name: 'lint', status: 'failed' }],
      }),
    );
    expect(s.line).toBe('1 passed, 3 failed, 0 skipped');
    expect(s.exitCode).toBe(1);
    expect(s.notes).toEqual(['[test-all] test file failed to run: packages/core/src/x.test.ts: SyntaxError: boom', '[test-all] check lint failed']);
  });

  it('prints one line per skipped suite with its recorded reason, counts each test, and still exits 0 outside CI', () => {
    const s = summarize(
      input({
        jest: jest([{ tests: [a('pending', 'x', ['Kernel']), a('pending', 'y', ['Kernel']), a('todo', 'later'), a('passed')] }]),
        skips: [{ file: FILE, title: 'Kernel', reason: 'needs root' }],
      }),
    );
    expect(s.line).toBe('1 passed, 0 failed, 3 skipped');
    expect(s.exitCode).toBe(0);
    expect(s.notes).toEqual([
      '[test-all] skipped 2 tests in packages/agent/e2e/npl.e2e.test.ts › Kernel: needs root',
      '[test-all] skipped 1 test in packages/agent/e2e/npl.e2e.test.ts › later: it.todo: not written yet',
    ]);
  });

  it('under CI counts every skip (tests and checks) as failed, says why, and exits 1', () => {
    const s = summarize(
      input({
        ci: true,
        jest: jest([{ tests: [a('passed'), a('skipped', 'z')] }]),
        checks: [{ name: 'dist', status: 'skipped', reason: 'build failed' }, { name: 'build', status: 'failed' }],
      }),
    );
    expect(s.line).toBe('1 passed, 3 failed, 0 skipped');
    expect(s.exitCode).toBe(1);
    expect(s.notes).toContain(`[test-all] FAILED (skipped, and CI=true allows no skip): 1 test in packages/agent/e2e/npl.e2e.test.ts › z: ${NO_REASON}`);
    expect(s.notes).toContain('[test-all] check dist skipped: build failed');
  });

  it('fails a run without results, a run of no test, and a non-zero Jest exit with no failed test', () => {
    expect(summarize(input({ jest: undefined })).line).toBe('0 passed, 1 failed, 0 skipped');
    expect(summarize(input({ jest: jest([]) })).notes).toEqual(['[test-all] Jest ran no test']);
    const crashed = summarize(input({ jestExitCode: 1 }));
    expect(crashed.line).toBe('1 passed, 1 failed, 0 skipped');
    expect(crashed.notes[0]).toMatch(/Jest exited with code 1 although no test failed/);
    expect(summarize(input({ jestExitCode: 1, jest: jest([{ tests: [a('failed')] }]) })).line).toBe('0 passed, 1 failed, 0 skipped');
  });
});

describe('reasonFor', () => {
  const skips = [
    { file: FILE, title: 'suite', reason: 'suite reason' },
    { file: FILE, title: 'one test', reason: 'test reason' },
    { file: '/repo/other.test.ts', title: 'suite', reason: 'other file' },
  ];
  it('takes the test’s own record first, then an enclosing suite’s, from the same file only', () => {
    expect(reasonFor(FILE, a('pending', 'one test', ['suite']), skips)).toEqual({ title: 'one test', reason: 'test reason' });
    expect(reasonFor(FILE, a('pending', 'another', ['suite', 'inner']), skips)).toEqual({ title: 'suite', reason: 'suite reason' });
    expect(reasonFor('/repo/third.test.ts', a('pending', 'x', ['suite']), skips)).toEqual({ title: 'suite › x', reason: NO_REASON });
  });
});

describe('isCi', () => {
  it.each([
    [{ CI: 'true' }, true],
    [{ CI: '1' }, true],
    [{ CI: 'TRUE' }, true],
    [{ CI: 'false' }, false],
    [{ CI: '0' }, false],
    [{ CI: '' }, false],
    [{}, false],
  ])('%j -> %s', (env, want) => expect(isCi(env)).toBe(want));
});
