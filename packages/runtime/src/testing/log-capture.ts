/**
 * A real pino logger (createLogger) whose JSON lines are parsed into `lines` as they are written, so
 * tests assert on what an operator would read: message, level label and fields, redaction applied.
 */
import { Writable } from 'node:stream';
import type { Logger } from '../logger.js';
import { createLogger, type LoggerOptions } from '../logger.js';

export interface LogCapture {
  readonly lines: Record<string, unknown>[];
  readonly logger: Logger;
}

export function captureLogs(level?: LoggerOptions['level']): LogCapture {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, logger: createLogger({ name: 't', destination, ...(level ? { level } : {}) }) };
}
