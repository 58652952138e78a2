import type { FastifyReply, FastifyRequest } from 'fastify';

/** The path part of the raw URL, still percent-encoded. */
export function rawPath(request: FastifyRequest): string {
  const url = request.raw.url ?? request.url;
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Decoded path segments after `prefix` (`/mgmt/tm/`), empty ones dropped. */
export function segmentsAfter(request: FastifyRequest, prefix: string): string[] {
  return rawPath(request).slice(prefix.length).split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
}

/** Query values as single strings (the first of repeated keys). */
export function singleQuery(request: FastifyRequest): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
    const first: unknown = Array.isArray(v) ? (v as unknown[])[0] : v;
    out[k] = first === undefined ? undefined : typeof first === 'string' ? first : JSON.stringify(first);
  }
  return out;
}

export function sendJson(reply: FastifyReply, status: number, body?: unknown): FastifyReply {
  reply.code(status);
  if (body === undefined) return reply.send();
  return reply.type('application/json; charset=UTF-8').send(body);
}
