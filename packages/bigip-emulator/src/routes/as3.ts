import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AS3_INFO } from '../as3/service.js';
import type { EmulatorContext } from '../context.js';
import { sendJson, singleQuery } from './http-util.js';

const BASE = '/mgmt/shared/appsvcs';

function tenantList(request: FastifyRequest): string[] | undefined {
  const raw = (request.params as { tenants?: string }).tenants;
  if (raw === undefined || raw === '') return undefined;
  return decodeURIComponent(raw).split(',').map((t) => t.trim()).filter((t) => t !== '');
}

/** AS3: `/info`, `/declare[/<tenants>]` (GET, POST, DELETE), `/task[/<id>]`, `/settings`. */
export function registerAs3Routes(app: FastifyInstance, ctx: EmulatorContext): void {
  app.get(`${BASE}/info`, (_request, reply) => sendJson(reply, 200, AS3_INFO));
  app.get(`${BASE}/settings`, (_request, reply) => sendJson(reply, 200, { burstHandlingEnabled: false }));

  const getDeclaration = (request: FastifyRequest, reply: FastifyReply) => {
    const tenants = tenantList(request);
    const declaration = ctx.as3.declaration(tenants?.[0]);
    return declaration === undefined ? sendJson(reply, 204) : sendJson(reply, 200, declaration);
  };
  app.get(`${BASE}/declare`, getDeclaration);
  app.get(`${BASE}/declare/:tenants`, getDeclaration);

  const post = async (request: FastifyRequest, reply: FastifyReply) => {
    const async = singleQuery(request).async === 'true';
    const result = await ctx.as3.declare(request.body, tenantList(request), async);
    return sendJson(reply, result.status, result.body);
  };
  app.post(`${BASE}/declare`, post);
  app.post(`${BASE}/declare/:tenants`, post);

  const remove = async (request: FastifyRequest, reply: FastifyReply) => {
    const result = await ctx.as3.remove(tenantList(request));
    return sendJson(reply, result.status, result.body);
  };
  app.delete(`${BASE}/declare`, remove);
  app.delete(`${BASE}/declare/:tenants`, remove);

  app.get(`${BASE}/task`, (_request, reply) => sendJson(reply, 200, ctx.as3.taskList()));
  app.get(`${BASE}/task/:id`, (request, reply) => {
    const result = ctx.as3.task((request.params as { id: string }).id);
    return sendJson(reply, result.status, result.body);
  });
}
