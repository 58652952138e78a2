/**
 * The probe and metrics endpoint of a deployable: `/healthz` (the process serves and every liveness
 * check passes, e.g. the leader's Lease is renewed), `/readyz` (every readiness check passes), both
 * naming the failing checks in their body when they answer 503, and `/metrics` (Prometheus text).
 */
import type { FastifyInstance } from 'fastify';
import { fastify } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { Registry } from './metrics.js';

/** A named probe check: `check()` returns undefined when it passes, else why not (shown in the body). */
export interface HealthCheck {
  readonly name: string;
  check(): string | undefined;
}

/** A check of `/readyz`. */
export type ReadinessCheck = HealthCheck;

export interface HealthServerOptions {
  readonly registry: Registry;
  /** Readiness checks (`/readyz`). */
  readonly checks: readonly HealthCheck[];
  /** Liveness checks (`/healthz`); with none, `/healthz` answers `ok` while the process serves. */
  readonly liveness?: readonly HealthCheck[];
  readonly logger?: Logger;
}

function probe(checks: readonly HealthCheck[], what: string): { code: number; body: string } {
  const results = checks.map((c) => ({ name: c.name, reason: c.check() }));
  const failed = results.some((r) => r.reason !== undefined);
  const lines = results.map((r) => (r.reason === undefined ? `[+] ${r.name} ok` : `[-] ${r.name}: ${r.reason}`));
  return { code: failed ? 503 : 200, body: `${lines.join('\n')}\n${what} check ${failed ? 'failed' : 'passed'}\n` };
}

export function createHealthServer(options: HealthServerOptions): FastifyInstance {
  const app = fastify({ logger: false });
  const liveness = options.liveness ?? [];
  app.get('/healthz', (_req, reply) => {
    if (liveness.length === 0) return reply.type('text/plain').send('ok\n');
    const { code, body } = probe(liveness, 'healthz');
    return reply.code(code).type('text/plain').send(body);
  });
  app.get('/readyz', (_req, reply) => {
    const { code, body } = probe(options.checks, 'readyz');
    return reply.code(code).type('text/plain').send(body);
  });
  app.get('/metrics', (_req, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(options.registry.render()),
  );
  return app;
}

/** Parse `host:port` (`[v6]:port`, `:port` for all addresses). Throws a message naming `field`. */
export function parseListenAddress(text: string, field: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new Error(`${field} ${JSON.stringify(text)}: expected host:port, [ipv6]:port or :port with a port of 0-65535`);
  }
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/**
 * A run of consecutive failures of one thing (a watch, a dataplane): when it began and when it last
 * failed; a success ends it. Health checks compare its length with a limit, so readiness drops while
 * the failure lasts and comes back with the first success: nothing latches.
 */
export class FailureStreak {
  private since: number | undefined;
  private last: number | undefined;
  private lastError: string | undefined;

  private readonly clock: Pick<Clock, 'now'>;

  constructor(clock: Pick<Clock, 'now'>) {
    this.clock = clock;
  }

  /** Records a failure now; starts the streak unless one runs. */
  fail(err?: unknown): void {
    const now = this.clock.now();
    this.since ??= now;
    this.last = now;
    if (err !== undefined) this.lastError = err instanceof Error ? err.message : JSON.stringify(err);
  }

  /** Ends the streak. */
  succeed(): void {
    this.since = undefined;
    this.lastError = undefined;
  }

  /** How long failures have gone on without a success, ms; 0 when the last outcome was a success. */
  failingForMs(): number {
    return this.since === undefined ? 0 : this.clock.now() - this.since;
  }

  /** When the last failure happened (any streak), undefined if none ever did. */
  lastFailureAt(): number | undefined {
    return this.last;
  }

  /** The message of the streak's last failure, when one was given. */
  error(): string | undefined {
    return this.lastError;
  }
}

/**
 * A check that fails while `streak` has lasted at least `limitMs` (e.g. a watch that cannot be
 * re-established for 60 s), naming `what` and the last error; passes again at the next success.
 */
export function streakCheck(name: string, what: string, streak: FailureStreak, limitMs: number): HealthCheck {
  return {
    name,
    check() {
      const ms = streak.failingForMs();
      if (ms === 0 || ms < limitMs) return undefined;
      const err = streak.error();
      return `${what} failing for ${Math.round(ms / 1000)} s (limit ${Math.round(limitMs / 1000)} s)${err ? `: ${err}` : ''}`;
    },
  };
}
