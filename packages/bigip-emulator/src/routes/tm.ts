import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorContext } from '../context.js';
import { F5RestError, isF5RestError } from '../errors.js';
import { asBody } from '../state/input.js';
import { collection } from '../state/render.js';
import { dispatchTm, executeTm } from './tm-dispatch.js';
import { isWrite } from './tm-common.js';
import type { TmContext, TmRequest } from './tm-types.js';
import { segmentsAfter, sendJson, singleQuery } from './http-util.js';

const COORDINATION_HEADER = 'x-f5-rest-coordination-id';

function tmContext(ctx: EmulatorContext): TmContext {
  return { config: ctx.config, assertWritable: () => ctx.faults.assertWritable() };
}

function toTmRequest(request: FastifyRequest): TmRequest {
  return { method: request.method, segments: segmentsAfter(request, '/mgmt/tm/'), query: singleQuery(request), body: request.body };
}

function param(request: FastifyRequest, name: string): string {
  return (request.params as Record<string, string>)[name] ?? '';
}

function handleTm(ctx: EmulatorContext, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const tmRequest = toTmRequest(request);
  const coordination = request.headers[COORDINATION_HEADER];
  if (typeof coordination === 'string' && coordination !== '' && isWrite(request.method)) {
    asBody(request.body);
    const record = ctx.transactions.get(coordination);
    const command = ctx.transactions.enqueue(coordination, tmRequest);
    return sendJson(reply, 200, ctx.transactions.renderCommand(record, command));
  }
  const response = dispatchTm(tmContext(ctx), tmRequest);
  return sendJson(reply, response.status, response.body);
}

function commit(ctx: EmulatorContext, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const id = param(request, 'id');
  const body = asBody(request.body);
  const record = ctx.transactions.get(id);
  if (body.state === undefined) {
    if (typeof body.timeoutSeconds === 'number' && Number.isInteger(body.timeoutSeconds) && body.timeoutSeconds > 0) record.timeoutSeconds = body.timeoutSeconds;
    return sendJson(reply, 200, ctx.transactions.render(record));
  }
  if (body.state !== 'VALIDATING') throw new F5RestError(400, `Invalid transaction state ${JSON.stringify(body.state)}: only "VALIDATING" commits a transaction.`, { apiError: 1 });
  const tm = tmContext(ctx);
  try {
    ctx.faults.assertWritable();
    ctx.transactions.commit(id, ctx.config, (req) => { executeTm(tm, req); }, body.validateOnly === true);
  } catch (err) {
    if (!isF5RestError(err)) throw err;
    if (record.state === 'STARTED') throw err;
    throw new F5RestError(400, `transaction failed:${err.message}`);
  }
  return sendJson(reply, 200, ctx.transactions.render(record));
}

function registerTransactionRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const t = ctx.transactions;
  app.post('/mgmt/tm/transaction', (request, reply) => {
    const body = asBody(request.body);
    const timeout = typeof body.timeoutSeconds === 'number' && Number.isInteger(body.timeoutSeconds) && body.timeoutSeconds > 0 ? body.timeoutSeconds : undefined;
    return sendJson(reply, 200, t.render(t.create(timeout)));
  });
  app.get('/mgmt/tm/transaction', (_request, reply) => sendJson(reply, 200, collection('tm:transactioncollectionstate', '/mgmt/tm/transaction', t.list().map((r) => t.render(r)))));
  app.get('/mgmt/tm/transaction/:id', (request, reply) => sendJson(reply, 200, t.render(t.get(param(request, 'id')))));
  app.patch('/mgmt/tm/transaction/:id', (request, reply) => commit(ctx, request, reply));
  app.delete('/mgmt/tm/transaction/:id', (request, reply) => {
    t.delete(param(request, 'id'));
    return sendJson(reply, 200);
  });
  app.get('/mgmt/tm/transaction/:id/commands', (request, reply) => {
    const record = t.get(param(request, 'id'));
    return sendJson(reply, 200, collection('tm:transaction:commandscollectionstate', `/mgmt/tm/transaction/${record.transId}/commands`, record.commands.map((c) => t.renderCommand(record, c))));
  });
  app.get('/mgmt/tm/transaction/:id/commands/:commandId', (request, reply) => {
    const record = t.get(param(request, 'id'));
    const command = record.commands.find((c) => String(c.commandId) === param(request, 'commandId'));
    if (!command) throw new F5RestError(404, `Command ${param(request, 'commandId')} not found in transaction ${record.transId}.`, { apiError: 1 });
    return sendJson(reply, 200, t.renderCommand(record, command));
  });
  app.delete('/mgmt/tm/transaction/:id/commands/:commandId', (request, reply) => {
    t.removeCommand(param(request, 'id'), param(request, 'commandId'));
    return sendJson(reply, 200);
  });
}

/** Everything below `/mgmt/tm/`: transactions, and the LTM/partition objects (queued when coordinated). */
export function registerTmRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  registerTransactionRoutes(app, ctx);
  app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/mgmt/tm/*', handler: (request, reply) => handleTm(ctx, request, reply) });
}
