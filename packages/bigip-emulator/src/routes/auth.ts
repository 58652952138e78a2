import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Credentials, EmulatorContext } from '../context.js';
import { F5RestError } from '../errors.js';
import { asBody } from '../state/input.js';
import { sendJson } from './http-util.js';

let operationId = 1000;

/** The 401 body BIG-IP sends (`kind: ":resterrorresponse"`). */
export function unauthorized(request: FastifyRequest, message: string): { status: number; body: Record<string, unknown> } {
  operationId += 1;
  return { status: 401, body: { code: 401, message, referer: request.ip, restOperationId: operationId, errorStack: [], kind: ':resterrorresponse' } };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function credentialsMatch(expected: Credentials, username: unknown, password: unknown): boolean {
  return typeof username === 'string' && typeof password === 'string' && same(username, expected.username) && same(password, expected.password);
}

function basicCredentials(header: string): { username: string; password: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Authenticates a `/mgmt` request by `X-F5-Auth-Token` (checked first) or HTTP Basic; returns the
 * user name, or the 401 to answer.
 */
export function authenticate(ctx: EmulatorContext, request: FastifyRequest): { user: string } | { status: number; body: Record<string, unknown> } {
  const token = request.headers['x-f5-auth-token'];
  if (typeof token === 'string' && token !== '') {
    const record = ctx.tokens.find(token);
    return record ? { user: record.userName } : unauthorized(request, 'X-F5-Auth-Token does not exist.');
  }
  const header = request.headers.authorization;
  if (typeof header === 'string' && header !== '') {
    const basic = basicCredentials(header);
    if (basic && credentialsMatch(ctx.credentials, basic.username, basic.password)) return { user: basic.username };
    return unauthorized(request, 'Authentication failed.');
  }
  return unauthorized(request, `Authorization failed: no user authentication header or token detected. Uri:${request.url} Referrer:${request.ip} Sender:${request.ip}`);
}

async function login(ctx: EmulatorContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const body = asBody(request.body);
  const provider = body.loginProviderName ?? 'tmos';
  if (typeof body.username !== 'string' || typeof body.password !== 'string') {
    throw new F5RestError(400, 'Login request needs "username" and "password".', { apiError: 1 });
  }
  if ((provider !== 'tmos' && provider !== 'local') || !credentialsMatch(ctx.credentials, body.username, body.password)) {
    const denied = unauthorized(request, 'Authentication failed.');
    return sendJson(reply, denied.status, denied.body);
  }
  const record = ctx.tokens.issue(body.username, request.ip);
  return sendJson(reply, 200, {
    username: body.username,
    loginReference: { link: 'https://localhost/mgmt/cm/system/authn/providers/tmos/1f44a60e-11a7-3c51-a49f-82983026b41b/login' },
    loginProviderName: provider,
    token: ctx.tokens.render(record),
    generation: 0,
    lastUpdateMicros: 0,
  });
}

function tokenParam(request: FastifyRequest): string {
  return (request.params as { token: string }).token;
}

/** `POST /mgmt/shared/authn/login` and `GET|PATCH|DELETE /mgmt/shared/authz/tokens/<token>`. */
export function registerAuthRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  app.post('/mgmt/shared/authn/login', (request, reply) => login(ctx, request, reply));
  app.get('/mgmt/shared/authz/tokens/:token', (request, reply) => {
    const record = ctx.tokens.find(tokenParam(request));
    if (!record) throw new F5RestError(404, `Token ${tokenParam(request)} does not exist.`, { apiError: 1 });
    return sendJson(reply, 200, ctx.tokens.render(record));
  });
  app.patch('/mgmt/shared/authz/tokens/:token', (request, reply) => {
    const { timeout } = asBody(request.body);
    if (timeout !== undefined && typeof timeout !== 'number') throw new F5RestError(400, `Invalid value for timeout: ${JSON.stringify(timeout)}.`, { apiError: 1 });
    return sendJson(reply, 200, ctx.tokens.render(ctx.tokens.extend(tokenParam(request), timeout)));
  });
  app.delete('/mgmt/shared/authz/tokens/:token', (request, reply) => sendJson(reply, 200, ctx.tokens.render(ctx.tokens.revoke(tokenParam(request)))));
}
