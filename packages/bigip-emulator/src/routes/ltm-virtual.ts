import { F5RestError } from '../errors.js';
import { parseObjectPath } from '../state/names.js';
import { readVirtual } from '../state/input.js';
import { collection, renderVirtual } from '../state/render.js';
import { methodNotAllowed, nameAndPartition, notRegistered, ok, partitionFilter } from './tm-common.js';
import type { TmContext, TmRequest, TmResponse } from './tm-types.js';

/** `/mgmt/tm/ltm/virtual[/<virtual>]`. */
export function handleVirtual(ctx: TmContext, req: TmRequest, rest: string[]): TmResponse {
  const [virtualName, ...extra] = rest;
  if (extra.length > 0) throw notRegistered(req);
  if (virtualName === undefined) {
    if (req.method === 'GET') {
      return ok(collection('tm:ltm:virtual:virtualcollectionstate', '/mgmt/tm/ltm/virtual', ctx.config.listVirtuals(partitionFilter(req)).map(renderVirtual)));
    }
    if (req.method !== 'POST') throw methodNotAllowed(req);
    const body = readVirtual(req.body);
    if (typeof body.destination !== 'string') {
      throw new F5RestError(400, '01070734:3: Configuration error: a virtual server needs a "destination" (/partition/addr:port).');
    }
    const { pool, ...props } = body;
    const created = ctx.config.createVirtual({ ...props, ...nameAndPartition(body, 'virtual server'), destination: body.destination, ...(pool ? { pool } : {}) });
    return ok(renderVirtual(created));
  }
  const ref = parseObjectPath(virtualName);
  switch (req.method) {
    case 'GET':
      return ok(renderVirtual(ctx.config.getVirtual(ref)));
    case 'PATCH':
    case 'PUT': {
      const { name: _n, partition: _p, subPath: _s, ...patch } = readVirtual(req.body);
      return ok(renderVirtual(ctx.config.modifyVirtual(ref, patch)));
    }
    case 'DELETE':
      ctx.config.deleteVirtual(ref);
      return ok();
    default:
      throw methodNotAllowed(req);
  }
}
