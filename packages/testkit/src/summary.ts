/**
 * The closing line of `scripts/test-all.sh`, computed from Jest's JSON results, the skip records of
 * `describeUnless`/`itUnless`, and the static checks (build, typecheck, lint, dist): pure, no I/O.
 *
 * - passed: Jest tests that passed plus checks that passed;
 * - failed: Jest tests that failed, test files that could not run, checks that failed, a Jest run
 *   with no test or no results, a Jest exit code that says failure when no test failed;
 * - skipped: Jest tests skipped, pending or todo, plus checks skipped. Under CI every skip is a
 *   failure instead (CI runs as root with everything installed, so nothing has a reason to skip).
 */
import path from 'node:path';
import type { SkipRecord } from './skip.js';

/** The part of Jest's `--json` output read here. */
export interface JestAssertion {
  readonly ancestorTitles: readonly string[];
  readonly title: string;
  readonly status: string;
}

export interface JestFileResult {
  readonly name: string;
  readonly status?: string;
  readonly message?: string;
  readonly assertionResults: readonly JestAssertion[];
}

export interface JestResults {
  readonly numTotalTests: number;
  readonly numRuntimeErrorTestSuites: number;
  readonly testResults: readonly JestFileResult[];
}

export type CheckStatus = 'passed' | 'failed' | 'skipped';

/** One static check of the run (build, typecheck, lint, dist): counted as one test. */
export interface Check {
  readonly name: string;
  readonly status: CheckStatus;
  readonly reason?: string;
}

export interface SummaryInput {
  /** Jest's results; undefined when Jest wrote none (it crashed or never ran). */
  readonly jest: JestResults | undefined;
  readonly jestExitCode: number;
  readonly skips: readonly SkipRecord[];
  readonly checks: readonly Check[];
  readonly ci: boolean;
  /** Test file paths are printed relative to this directory. */
  readonly rootDir: string;
}

export interface Summary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** Lines to print before `line`: every skip with its reason, and every failure not shown by Jest. */
  readonly notes: readonly string[];
  /** `N passed, N failed, N skipped`: the last line of the run. */
  readonly line: string;
  /** 0 exactly when nothing failed. */
  readonly exitCode: 0 | 1;
}

const SKIPPED_STATUSES = new Set(['pending', 'skipped', 'todo', 'disabled']);

export const NO_REASON = 'no reason recorded: skip through describeUnless/itUnless from @npl/testkit';

/** Whether the environment says CI: `CI` set to anything but '', '0' or 'false'. */
export function isCi(env: Readonly<Record<string, string | undefined>>): boolean {
  const v = env.CI?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

/** The recorded reason for a skipped Jest test: by file, then by its own or an enclosing title. */
export function reasonFor(file: string, a: JestAssertion, skips: readonly SkipRecord[]): { title: string; reason: string } {
  if (a.status === 'todo') return { title: a.title, reason: 'it.todo: not written yet' };
  const titles = [...a.ancestorTitles, a.title];
  const inFile = skips.filter((s) => s.file === file || s.file === '');
  const hit = inFile.find((s) => s.title === a.title) ?? inFile.find((s) => titles.includes(s.title));
  return hit ? { title: hit.title, reason: hit.reason } : { title: titles.join(' › '), reason: NO_REASON };
}

interface SkipGroup {
  readonly file: string;
  readonly title: string;
  readonly reason: string;
  count: number;
}

interface JestCount {
  passed: number;
  failed: number;
  skipped: SkipGroup[];
  notes: string[];
}

function countJest(input: SummaryInput): JestCount {
  const c: JestCount = { passed: 0, failed: 0, skipped: [], notes: [] };
  const { jest } = input;
  if (!jest) {
    c.failed += 1;
    c.notes.push('Jest wrote no results (it crashed or did not start; see above)');
    return c;
  }
  for (const file of jest.testResults) countFile(c, file, input);
  c.failed += jest.numRuntimeErrorTestSuites;
  if (jest.numTotalTests === 0) {
    c.failed += 1;
    c.notes.push('Jest ran no test');
  }
  if (c.failed === 0 && input.jestExitCode !== 0) {
    c.failed += 1;
    c.notes.push(`Jest exited with code ${input.jestExitCode} although no test failed (a test file set process.exitCode or crashed the runner; see above)`);
  }
  return c;
}

function countFile(c: JestCount, file: JestFileResult, input: SummaryInput): void {
  const rel = path.relative(input.rootDir, file.name) || file.name;
  if (file.assertionResults.length === 0 && file.status === 'failed') {
    c.notes.push(`test file failed to run: ${rel}: ${(file.message ?? '').trim().split('\n')[0] ?? ''}`);
  }
  for (const a of file.assertionResults) {
    if (a.status === 'passed') c.passed += 1;
    else if (a.status === 'failed') c.failed += 1;
    else if (SKIPPED_STATUSES.has(a.status)) addSkip(c.skipped, rel, reasonFor(file.name, a, input.skips));
  }
}

function addSkip(groups: SkipGroup[], file: string, r: { title: string; reason: string }): void {
  const g = groups.find((x) => x.file === file && x.title === r.title && x.reason === r.reason);
  if (g) g.count += 1;
  else groups.push({ file, ...r, count: 1 });
}

const tests = (n: number): string => (n === 1 ? '1 test' : `${n} tests`);

/** Counts, notes and the closing line of a run. */
export function summarize(input: SummaryInput): Summary {
  const j = countJest(input);
  const checks = { passed: 0, failed: 0, skipped: 0 };
  const notes = [...j.notes];
  for (const ch of input.checks) {
    checks[ch.status] += 1;
    if (ch.status !== 'passed') notes.push(`check ${ch.name} ${ch.status}${ch.reason ? `: ${ch.reason}` : ''}`);
  }
  const skipLines = j.skipped.map((g) => `${tests(g.count)} in ${g.file} › ${g.title}: ${g.reason}`);
  const skipCount = j.skipped.reduce((n, g) => n + g.count, 0) + checks.skipped;
  let failed = j.failed + checks.failed;
  let skipped = skipCount;
  if (input.ci && skipCount > 0) {
    notes.push(...skipLines.map((l) => `FAILED (skipped, and CI=true allows no skip): ${l}`));
    if (checks.skipped > 0) notes.push(`FAILED (CI=true allows no skip): ${checks.skipped} check(s) skipped, see above`);
    failed += skipCount;
    skipped = 0;
  } else {
    notes.push(...skipLines.map((l) => `skipped ${l}`));
  }
  const passed = j.passed + checks.passed;
  return {
    passed,
    failed,
    skipped,
    notes: notes.map((n) => `[test-all] ${n}`),
    line: `${passed} passed, ${failed} failed, ${skipped} skipped`,
    exitCode: failed === 0 ? 0 : 1,
  };
}
