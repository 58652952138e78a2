/**
 * Prints the notes and the closing line of `scripts/test-all.sh` and exits 0 exactly when nothing
 * failed. Run by Node directly (type stripping, no build):
 *
 *   node packages/testkit/src/summarize.ts --jest <json> --jest-exit <code> --skips <jsonl> --checks <tsv>
 *
 * The checks file has one line per check: name, status (passed|failed|skipped), reason, tab-separated.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { SkipRecord } from './skip.ts';
import type { Check, CheckStatus, JestResults } from './summary.ts';
import { isCi, summarize } from './summary.ts';

function readLines(file: string | undefined): string[] {
  if (!file || !existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

function parseCheck(line: string): Check {
  const [name = '', status = '', reason] = line.split('\t');
  if (status !== 'passed' && status !== 'failed' && status !== 'skipped') {
    return { name, status: 'failed', reason: `unreadable check status ${JSON.stringify(status)}` };
  }
  return { name, status: status satisfies CheckStatus, ...(reason ? { reason } : {}) };
}

function readJest(file: string | undefined): JestResults | undefined {
  if (!file || !existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JestResults;
  } catch {
    return undefined;
  }
}

const { values } = parseArgs({
  options: {
    jest: { type: 'string' },
    'jest-exit': { type: 'string', default: '0' },
    skips: { type: 'string' },
    checks: { type: 'string' },
    root: { type: 'string', default: process.cwd() },
  },
});

const summary = summarize({
  jest: readJest(values.jest),
  jestExitCode: Number(values['jest-exit']),
  skips: readLines(values.skips).map((l) => JSON.parse(l) as SkipRecord),
  checks: readLines(values.checks).map(parseCheck),
  ci: isCi(process.env),
  rootDir: values.root,
});
for (const note of summary.notes) process.stdout.write(`${note}\n`);
process.stdout.write(`${summary.line}\n`);
process.exitCode = summary.exitCode;
