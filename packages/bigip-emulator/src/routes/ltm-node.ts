import { parseObjectPath } from '../state/names.js';
import { readNode } from '../state/input.js';
import { collection, renderNode } from '../state/render.js';
import { methodNotAllowed, nameAndPartition, notRegistered, ok, partitionFilter } from './tm-common.js';
import type { TmContext, TmRequest, TmResponse } from './tm-types.js';

/** `/mgmt/tm/ltm/node[/<node>]`. */
export function handleNode(ctx: TmContext, req: TmRequest, rest: string[]): TmResponse {
  const [nodeName, ...extra] = rest;
  if (extra.length > 0) throw notRegistered(req);
  if (nodeName === undefined) {
    if (req.method === 'GET') {
      return ok(collection('tm:ltm:node:nodecollectionstate', '/mgmt/tm/ltm/node', ctx.config.listNodes(partitionFilter(req)).map(renderNode)));
    }
    if (req.method !== 'POST') throw methodNotAllowed(req);
    const body = readNode(req.body);
    const { name, partition } = nameAndPartition(body, 'node');
    return ok(renderNode(ctx.config.createNode({ ...body, name, partition })));
  }
  const ref = parseObjectPath(nodeName);
  switch (req.method) {
    case 'GET':
      return ok(renderNode(ctx.config.getNode(ref)));
    case 'PATCH':
    case 'PUT': {
      const { name: _n, partition: _p, address: _a, ...patch } = readNode(req.body);
      return ok(renderNode(ctx.config.modifyNode(ref, patch)));
    }
    case 'DELETE':
      ctx.config.deleteNode(ref);
      return ok();
    default:
      throw methodNotAllowed(req);
  }
}
