import { readPartition } from '../state/input.js';
import { collection, renderPartition } from '../state/render.js';
import { methodNotAllowed, nameAndPartition, notRegistered, ok } from './tm-common.js';
import type { TmContext, TmRequest, TmResponse } from './tm-types.js';

/** `/mgmt/tm/auth/partition[/<name>]`: partitions are the tenants of LTM objects. */
export function handlePartition(ctx: TmContext, req: TmRequest, rest: string[]): TmResponse {
  const [name, ...extra] = rest;
  if (extra.length > 0) throw notRegistered(req);
  if (name === undefined) {
    if (req.method === 'GET') return ok(collection('tm:auth:partition:partitioncollectionstate', '/mgmt/tm/auth/partition', ctx.config.listPartitions().map(renderPartition)));
    if (req.method !== 'POST') throw methodNotAllowed(req);
    const body = readPartition(req.body);
    const created = ctx.config.createPartition({ ...body, name: nameAndPartition(body, 'partition').name });
    return ok(renderPartition(created));
  }
  const partition = name.replaceAll('~', '');
  switch (req.method) {
    case 'GET':
      return ok(renderPartition(ctx.config.getPartition(partition)));
    case 'PATCH':
    case 'PUT': {
      const { name: _n, ...patch } = readPartition(req.body);
      return ok(renderPartition(ctx.config.mutate(() => Object.assign(ctx.config.getPartition(partition), patch))));
    }
    case 'DELETE':
      ctx.config.deletePartition(partition);
      return ok();
    default:
      throw methodNotAllowed(req);
  }
}
