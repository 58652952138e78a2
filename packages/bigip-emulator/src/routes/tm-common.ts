import { F5RestError } from '../errors.js';
import type { TmRequest, TmResponse } from './tm-types.js';

export function ok(body?: unknown): TmResponse {
  return body === undefined ? { status: 200 } : { status: 200, body };
}

/** The partition of `$filter=partition+eq+<P>`, undefined without a filter; other filters are refused. */
export function partitionFilter(req: TmRequest): string | undefined {
  const filter = req.query.$filter;
  if (filter === undefined) return undefined;
  const match = /^partition\s+eq\s+(\S+)$/.exec(filter.trim());
  if (!match) throw new F5RestError(400, `Query parameter $filter (${filter}) is not supported: only "partition eq <name>" is.`, { apiError: 1 });
  return match[1];
}

export function expandSubcollections(req: TmRequest): boolean {
  return req.query.expandSubcollections === 'true';
}

export function methodNotAllowed(req: TmRequest): F5RestError {
  return new F5RestError(405, `Method ${req.method} is not allowed on /mgmt/tm/${req.segments.join('/')}.`, { apiError: 1 });
}

export function notRegistered(req: TmRequest): F5RestError {
  return new F5RestError(404, `Public URI path not registered: /tm/${req.segments.join('/')}`, { apiError: 1 });
}

export function isWrite(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD';
}

/** `name` and `partition` of a create body; a `name` of `/P/name` carries its partition. */
export function nameAndPartition(body: { name?: string; partition?: string; subPath?: string }, kind: string): { name: string; partition: string; subPath?: string } {
  if (typeof body.name !== 'string' || body.name === '') {
    throw new F5RestError(400, `01070734:3: Configuration error: a ${kind} needs a "name".`);
  }
  if (body.name.startsWith('/')) {
    const parts = body.name.slice(1).split('/');
    const name = parts.pop() as string;
    const [partition, ...folders] = parts;
    if (partition === undefined) return { name, partition: body.partition ?? 'Common' };
    return folders.length ? { name, partition, subPath: folders.join('/') } : { name, partition };
  }
  const partition = body.partition ?? 'Common';
  return body.subPath ? { name: body.name, partition, subPath: body.subPath } : { name: body.name, partition };
}
