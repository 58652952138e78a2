/**
 * The probe and metrics endpoint of a deployable: `/healthz` (the process serves), `/readyz` (every
 * readiness check passes; the body names the failing ones), `/metrics` (Prometheus text).
 */
import type { FastifyInstance } from 'fastify';
import { fastify } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from './metrics.js';

export interface ReadinessCheck {
  readonly name: string;
  /** Undefined when ready, else why not (shown in the /readyz body). */
  check(): string | undefined;
}

export interface HealthServerOptions {
  readonly registry: Registry;
  readonly checks: readonly ReadinessCheck[];
  readonly logger?: Logger;
}

export function createHealthServer(options: HealthServerOptions): FastifyInstance {
  const app = fastify({ logger: false });
  app.get('/healthz', (_req, reply) => reply.type('text/plain').send('ok\n'));
  app.get('/readyz', (_req, reply) => {
    const failing = options.checks
      .map((c) => ({ name: c.name, reason: c.check() }))
      .filter((c): c is { name: string; reason: string } => c.reason !== undefined);
    const body = options.checks
      .map((c) => {
        const f = failing.find((x) => x.name === c.name);
        return f ? `[-] ${c.name}: ${f.reason}` : `[+] ${c.name} ok`;
      })
      .join('\n');
    return reply
      .code(failing.length ? 503 : 200)
      .type('text/plain')
      .send(`${body}\n${failing.length ? 'readyz check failed' : 'readyz check passed'}\n`);
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
