#!/usr/bin/env node
/**
 * `pnpm demo` (scripts/demo.sh runs this after the set-up): see options.ts for the flags and
 * README.md for what it shows. Exit codes: 0 done (q, Ctrl-C, SIGTERM or `--for` elapsed, teardown
 * complete), 1 failure (an error, or teardown incomplete), 2 bad usage.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DemoRun, prepareLogsDir, refuseIfRunning } from './demo.js';
import { liveDisplay, plainDisplay } from './display.js';
import { DemoError } from './errors.js';
import { parseOptions, USAGE, type DemoOptions } from './options.js';
import { watchKeys } from './keys.js';

const now = (): number => performance.now();

async function main(argv: string[]): Promise<number> {
  let opts: DemoOptions;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('pnpm demo needs root: it starts a local cluster of network namespaces (run it as root, e.g. sudo -E pnpm demo)\n');
    return 1;
  }
  // Before anything is touched (its logs directory included): a running demo of that name stays intact.
  await refuseIfRunning(opts.name);
  const live = opts.forSeconds === undefined && !opts.plain && process.stdout.isTTY;
  const logsDir = await prepareLogsDir(process.env.NPL_DEMO_LOGS_DIR ?? path.join(tmpdir(), 'npl-demo-logs'), opts.name);
  const run = new DemoRun(opts, {
    out: process.stdout,
    now,
    logsDir,
    makeDisplay: () => (live ? liveDisplay(process.stdout, { minIntervalMs: 250, now }) : plainDisplay(process.stdout)),
  });
  const keys = process.stdin.isTTY
    ? watchKeys(process.stdin, { quit: () => run.stop('quit (key)'), up: () => run.scaleBy(1), down: () => run.scaleBy(-1) })
    : undefined;
  // Handlers stay installed: a second Ctrl-C during the teardown must not kill it half-way.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => run.stop(signal));
  process.on('uncaughtException', (err) => run.fail(err));
  process.on('unhandledRejection', (err) => run.fail(err));
  try {
    const ending = await run.run();
    return ending.code;
  } finally {
    keys?.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}${err instanceof DemoError ? ` (${err.code})` : ''}\n`);
    process.exit(1);
  },
);
