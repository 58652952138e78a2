import type { FastifyInstance } from 'fastify';
import type { EmulatorContext } from '../context.js';
import { asBody } from '../state/input.js';
import { sendJson, singleQuery } from './http-util.js';

/** Resets the whole device: configuration, AS3, tokens, transactions, faults and the request log. */
export function resetEmulator(ctx: EmulatorContext): void {
  ctx.config.reset();
  ctx.as3.reset();
  ctx.tokens.expireAll();
  ctx.transactions.clear();
  ctx.faults.clear();
  ctx.requestLog.clear();
}

/**
 * The test control API under `/emulator/` (no auth, never faulted, not in the request log):
 * faults, token expiry, request log, state dump and reset.
 */
export function registerControlRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  app.get('/emulator/faults', (_request, reply) => sendJson(reply, 200, ctx.faults.current));
  app.put('/emulator/faults', (request, reply) => {
    try {
      return sendJson(reply, 200, ctx.faults.set(asBody(request.body)));
    } catch (err) {
      if (err instanceof RangeError) return sendJson(reply, 400, { code: 400, message: err.message });
      throw err;
    }
  });
  app.delete('/emulator/faults', (_request, reply) => {
    ctx.faults.clear();
    return sendJson(reply, 200, ctx.faults.current);
  });
  app.post('/emulator/tokens/expire', (_request, reply) => {
    ctx.tokens.expireAll();
    return sendJson(reply, 200, { tokens: ctx.tokens.count() });
  });
  app.get('/emulator/requests', (request, reply) => {
    const { method, path } = singleQuery(request);
    const items = ctx.requestLog.entries().filter((e) => (method === undefined || e.method === method.toUpperCase()) && (path === undefined || e.path === path));
    return sendJson(reply, 200, { count: items.length, items });
  });
  app.delete('/emulator/requests', (_request, reply) => {
    ctx.requestLog.clear();
    return sendJson(reply, 200, { count: 0, items: [] });
  });
  app.get('/emulator/state', (_request, reply) => sendJson(reply, 200, {
    dump: ctx.config.dump(), generation: ctx.config.generation, as3: ctx.as3.declaration() ?? null,
    tokens: ctx.tokens.count(), transactions: ctx.transactions.list().map((t) => ctx.transactions.render(t)), listeners: ctx.traffic.status(),
  }));
  app.post('/emulator/reset', (_request, reply) => {
    resetEmulator(ctx);
    return sendJson(reply, 200, { reset: true });
  });
}
