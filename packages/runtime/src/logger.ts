/**
 * pino JSON logs with credentials redacted. One logger per process; a child per reconcile.
 */
import type { DestinationStream, Logger, LevelWithSilent } from 'pino';
import { pino } from 'pino';

/** Paths whose values never reach a log line (tokens, passwords, auth headers, Secret data). */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers["x-f5-auth-token"]',
  '*.headers.authorization',
  '*.headers["x-f5-auth-token"]',
  'req.headers.authorization',
  'req.headers["x-f5-auth-token"]',
  'data',
  '*.data',
];

export interface LoggerOptions {
  readonly name: string;
  readonly level?: LevelWithSilent;
  /** Where lines go; stdout by default. Tests pass a stream to read them. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}

export type { Logger } from 'pino';
