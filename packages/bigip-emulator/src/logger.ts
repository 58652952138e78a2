import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { maskTokenPath } from './request-log.js';

/** Paths pino blanks out: credentials and tokens never reach the log. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-f5-auth-token"]',
  'headers.authorization',
  'headers["x-f5-auth-token"]',
  'password',
  '*.password',
  'token',
  '*.token',
];

interface RawRequest {
  method?: string;
  url?: string;
  ip?: string;
  socket?: { remoteAddress?: string };
}

/** A pino JSON logger with secrets redacted; `destination` defaults to stderr. */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      serializers: {
        req: (req: RawRequest) => ({ method: req.method, url: maskTokenPath(req.url ?? ''), remoteAddress: req.ip ?? req.socket?.remoteAddress }),
      },
    },
    options.destination ?? pino.destination(2),
  );
}
