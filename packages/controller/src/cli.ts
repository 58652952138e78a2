#!/usr/bin/env node
/**
 * `npl-controller [options]` runs the controller; `npl-controller render -f FILE... [options]`
 * prints the desired BIG-IP state of the objects in FILEs. Exit codes: 0 done, 1 runtime failure,
 * 2 invalid configuration or input.
 */
import { readFileSync } from 'node:fs';
import { createLogger, exitOnLeadershipLost } from '@npl/runtime';
import { isControllerError } from './errors.js';
import { HELP, parseControllerConfig } from './config.js';
import { startController } from './controller.js';
import { parseRenderArgs, RENDER_HELP } from './render-args.js';
import { readObjects, render } from './render.js';

function fail(message: string, code: number): never {
  process.stderr.write(`npl-controller: ${message}\n`);
  process.exit(code);
}

function runRender(argv: string[]): void {
  const args = parseRenderArgs(argv, process.env);
  if (args.help) {
    process.stdout.write(RENDER_HELP);
    return;
  }
  const sources = args.files.map((file) => ({ name: file, text: file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8') }));
  process.stdout.write(render(readObjects(sources), args.options));
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'render') {
    try {
      runRender(argv.slice(1));
    } catch (err) {
      fail((err as Error).message, isControllerError(err) || (err as NodeJS.ErrnoException).code === 'ENOENT' ? 2 : 1);
    }
    return;
  }
  let parsed;
  try {
    parsed = parseControllerConfig(argv, process.env);
  } catch (err) {
    if (isControllerError(err)) fail(err.message, 2);
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return;
  }
  const logger = createLogger({ name: 'npl-controller', level: parsed.config.logLevel });
  const controller = await startController(parsed.config, logger, { onLeadershipLost: exitOnLeadershipLost(logger) });
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'Signal received, stopping (BIG-IP objects stay)');
    controller.stop().then(
      () => process.exit(0),
      (err: unknown) => fail(`stop failed: ${(err as Error).message}`, 1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main(process.argv.slice(2)).catch((err: unknown) => fail((err as Error).stack ?? String(err), 1));
