/**
 * The probe and metrics endpoint of a deployable: `/healthz` (the process serves and every liveness
 * check passes, e.g. the leader's Lease is renewed), `/readyz` (every readiness check passes), both
 * naming the failing checks in their body when they answer 503, and `/metrics` (Prometheus text).
 */
import type { FastifyInstance } from 'fastify';
import { fastify } from 'fastify';
import type { Logger } from 'pino';
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
