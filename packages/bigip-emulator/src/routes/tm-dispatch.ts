import { isF5RestError } from '../errors.js';
import { TMOS_VERSION, selfLink } from '../state/render.js';
import { handlePartition } from './auth-partition.js';
import { handleNode } from './ltm-node.js';
import { handlePool } from './ltm-pool.js';
import { handleVirtual } from './ltm-virtual.js';
import { isWrite, methodNotAllowed, notRegistered, ok } from './tm-common.js';
import type { TmContext, TmHandler, TmRequest, TmResponse } from './tm-types.js';

const HANDLERS: Record<string, TmHandler> = {
  'auth/partition': handlePartition,
  'ltm/pool': handlePool,
  'ltm/node': handleNode,
  'ltm/virtual': handleVirtual,
};

function sysVersion(req: TmRequest): TmResponse {
  if (req.method !== 'GET') throw methodNotAllowed(req);
  const entry = { nestedStats: { entries: { Product: { description: 'BIG-IP' }, Version: { description: TMOS_VERSION }, Build: { description: '0.0.3' } } } };
  return ok({ kind: 'tm:sys:version:versionstats', selfLink: selfLink('/mgmt/tm/sys/version'), entries: { [selfLink('/mgmt/tm/sys/version/0')]: entry } });
}

/** Executes one `/mgmt/tm/...` call against the configuration; throws `F5RestError` on refusal. */
export function executeTm(ctx: TmContext, req: TmRequest): TmResponse {
  const [area, kind, ...rest] = req.segments;
  if (area === 'sys' && kind === 'version' && rest.length === 0) return sysVersion(req);
  const handler = HANDLERS[`${area}/${kind}`];
  if (!handler) throw notRegistered(req);
  if (isWrite(req.method)) ctx.assertWritable();
  return handler(ctx, req, rest);
}

/** `executeTm` with refusals turned into their F5 error responses. */
export function dispatchTm(ctx: TmContext, req: TmRequest): TmResponse {
  try {
    return executeTm(ctx, req);
  } catch (err) {
    if (isF5RestError(err)) return { status: err.status, body: err.toBody() };
    throw err;
  }
}
