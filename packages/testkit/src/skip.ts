/**
 * The one way a test is skipped in this repository: with a reason. `describeUnless(reason, …)`
 * defines the suite normally when `reason` is undefined, else skips it and records why. Under
 * `scripts/test-all.sh` (env `NPL_SKIP_LOG`) the record goes to a file that the run's summary joins
 * with Jest's results, printing one line per skipped suite with its reason; under CI (CI=true) a
 * skip counts as a failure. Run by hand (plain Jest), the reason is printed as a warning.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';

/** Why a test cannot run on this machine, or undefined when it can. */
export type SkipReason = string | undefined;

/** The environment variable naming the file skip records are appended to (JSON lines). */
export const SKIP_LOG_ENV = 'NPL_SKIP_LOG';

/** One skipped suite or test: the test file, the title given to describe/it, and why. */
export interface SkipRecord {
  readonly file: string;
  readonly title: string;
  readonly reason: string;
}

function record(title: string, reason: string): void {
  const file = expect.getState().testPath ?? '';
  const log = process.env[SKIP_LOG_ENV];
  if (log) appendFileSync(log, `${JSON.stringify({ file, title, reason } satisfies SkipRecord)}\n`);
  else console.warn(`SKIPPED "${title}": ${reason}`);
}

/** `describe(title, body)`, or a skipped suite whose reason is recorded when `reason` is set. */
export function describeUnless(reason: SkipReason, title: string, body: () => void): void {
  if (reason === undefined) {
    describe(title, body);
    return;
  }
  record(title, reason);
  describe.skip(title, body);
}

/** `it(title, fn, timeout)`, or a skipped test whose reason is recorded when `reason` is set. */
export function itUnless(reason: SkipReason, title: string, fn: () => Promise<void> | void, timeout?: number): void {
  if (reason === undefined) {
    it(title, fn, timeout);
    return;
  }
  record(title, reason);
  it.skip(title, fn, timeout);
}

/** 'needs root (…)' unless this process runs as root. */
export function rootSkipReason(why: string): SkipReason {
  return process.getuid?.() === 0 ? undefined : `needs root (${why}); run the tests as root`;
}

/**
 * The first reason among: not root, or a command missing (`cmd --version`, or `-V` for `ip`, must
 * run). Undefined when all are there.
 */
export function commandsSkipReason(why: string, commands: readonly string[]): SkipReason {
  const notRoot = rootSkipReason(why);
  if (notRoot) return notRoot;
  for (const cmd of commands) {
    try {
      execFileSync(cmd, [cmd === 'ip' ? '-V' : '--version'], { stdio: 'ignore' });
    } catch {
      return `needs the command ${cmd} (${why}); scripts/bootstrap.sh installs it`;
    }
  }
  return undefined;
}
