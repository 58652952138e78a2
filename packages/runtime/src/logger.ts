/**
 * pino JSON logs with credentials redacted at any depth. One logger per process; a child per reconcile.
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

/**
 * Keys whose values never reach a log line, at any depth of a logged object or array (matched
 * case-insensitively on the whole key or its end, so `accessToken`, `X-F5-Auth-Token`,
 * `client-key-data` and `Authorization` are covered; `tokenBucket` or `secretName` are not).
 */
export const SENSITIVE_KEY = /(?:password|passwd|token|secret|authorization|cookie|key-data|keydata|credentials)$/i;

const CENSOR = '[REDACTED]';
const MAX_DEPTH = 10;

/**
 * A copy of `value` with every SENSITIVE_KEY value replaced by `[REDACTED]`, through nested plain
 * objects and arrays (the input is not modified; cycles and depth beyond 10 are cut as
 * `[Circular]`/`[Truncated]`). Errors and other class instances are kept as they are, for the
 * serializers (the agent logs `err.message`, never a response object).
 */
export function redactDeep(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const isPlain = Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null;
  if (!isPlain) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  const out = Array.isArray(value)
    ? value.map((v) => redactDeep(v, depth + 1, seen))
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SENSITIVE_KEY.test(k) ? CENSOR : redactDeep(v, depth + 1, seen)]));
  seen.delete(value);
  return out;
}

export interface LoggerOptions {
  readonly name: string;
  readonly level?: LevelWithSilent;
  /** Where lines go; stdout by default. Tests pass a stream to read them. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const logger = pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redactDeep(obj) as Record<string, unknown>,
      },
    },
    options.destination,
  );
  // pino skips the bindings formatter for children; redact their bindings here (children inherit this).
  const protoChild = Object.getPrototypeOf(logger) as { child: (this: Logger, b: object, o?: object) => Logger };
  (logger as unknown as { child: (b: object, o?: object) => Logger }).child = function redactingChild(this: Logger, bindings: object, opts?: object) {
    return protoChild.child.call(this, redactDeep(bindings) as object, opts);
  };
  return logger;
}

export type { Logger } from 'pino';
