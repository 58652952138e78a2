#!/usr/bin/env node
/** Entry point of `bigip-emulator`: parses flags (cli-options.ts), starts the server, handles signals. */
import { HELP, parseCli } from './cli-options.js';
import type { CliResult } from './cli-options.js';
import { createLogger } from './logger.js';
import { startEmulator } from './server.js';

async function main(): Promise<void> {
  let cli: CliResult;
  try {
    cli = await parseCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bigip-emulator: ${(err as Error).message}\n\n${HELP}\n`);
    process.exitCode = 2;
    return;
  }
  if (cli.help || !cli.options) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const logger = createLogger({ level: cli.logLevel ?? 'info' });
  const emulator = await startEmulator({ ...cli.options, logger });
  process.stdout.write(`BIGIP_URL=${emulator.url}\n`);
  if (emulator.caFile) process.stdout.write(`BIGIP_CA_FILE=${emulator.caFile}\n`);
  logger.info({ url: emulator.url, caFile: emulator.caFile }, 'bigip emulator listening');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'bigip emulator stopping');
    emulator.close().then(() => { process.exitCode = 0; }, (err: unknown) => {
      logger.error({ err }, 'bigip emulator did not stop cleanly');
      process.exitCode = 1;
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`bigip-emulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
