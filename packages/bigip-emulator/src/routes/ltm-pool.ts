import { parseObjectPath } from '../state/names.js';
import type { ObjectRef } from '../state/names.js';
import { readMember, readMemberPatch, readPool } from '../state/input.js';
import { collection, renderMember, renderMembers, renderPool } from '../state/render.js';
import { expandSubcollections, methodNotAllowed, nameAndPartition, notRegistered, ok, partitionFilter } from './tm-common.js';
import type { TmContext, TmRequest, TmResponse } from './tm-types.js';

/** `/mgmt/tm/ltm/pool[/<pool>[/members[/<member>]]]`. `rest` is what follows `ltm/pool`. */
export function handlePool(ctx: TmContext, req: TmRequest, rest: string[]): TmResponse {
  const [poolName, sub, memberName, ...extra] = rest;
  if (extra.length > 0 || (sub !== undefined && sub !== 'members')) throw notRegistered(req);
  if (poolName === undefined) return poolCollection(ctx, req);
  const ref = parseObjectPath(poolName);
  if (sub === undefined) return poolItem(ctx, req, ref);
  if (memberName === undefined) return memberCollection(ctx, req, ref);
  return memberItem(ctx, req, ref, memberName);
}

function poolCollection(ctx: TmContext, req: TmRequest): TmResponse {
  if (req.method === 'GET') {
    const pools = ctx.config.listPools(partitionFilter(req));
    const expand = expandSubcollections(req);
    return ok(collection('tm:ltm:pool:poolcollectionstate', '/mgmt/tm/ltm/pool', pools.map((p) => renderPool(p, expand))));
  }
  if (req.method !== 'POST') throw methodNotAllowed(req);
  const body = readPool(req.body);
  const pool = ctx.config.createPool({ ...body, ...nameAndPartition(body, 'pool') });
  return ok(renderPool(pool, false));
}

function poolItem(ctx: TmContext, req: TmRequest, ref: ObjectRef): TmResponse {
  switch (req.method) {
    case 'GET':
      return ok(renderPool(ctx.config.getPool(ref), expandSubcollections(req)));
    case 'PATCH':
    case 'PUT': {
      const { name: _n, partition: _p, subPath: _s, ...patch } = readPool(req.body);
      return ok(renderPool(ctx.config.modifyPool(ref, patch), false));
    }
    case 'DELETE':
      ctx.config.deletePool(ref);
      return ok();
    default:
      throw methodNotAllowed(req);
  }
}

function memberCollection(ctx: TmContext, req: TmRequest, ref: ObjectRef): TmResponse {
  if (req.method === 'GET') return ok(renderMembers(ctx.config.getPool(ref)));
  if (req.method !== 'POST') throw methodNotAllowed(req);
  const member = ctx.config.addMember(ref, readMember(req.body, true));
  return ok(renderMember(ctx.config.getPool(ref), member));
}

function memberItem(ctx: TmContext, req: TmRequest, ref: ObjectRef, memberName: string): TmResponse {
  switch (req.method) {
    case 'GET':
      return ok(renderMember(ctx.config.getPool(ref), ctx.config.getMember(ref, memberName)));
    case 'PATCH':
    case 'PUT': {
      const member = ctx.config.modifyMember(ref, memberName, readMemberPatch(req.body));
      return ok(renderMember(ctx.config.getPool(ref), member));
    }
    case 'DELETE':
      ctx.config.deleteMember(ref, memberName);
      return ok();
    default:
      throw methodNotAllowed(req);
  }
}
