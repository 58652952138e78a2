/**
 * The iControl REST backend: observe the partition, plan, apply the plan in one transaction, then
 * delete the nodes we created that nothing references any more. When the transaction fails on a
 * conflict or a vanished object (someone changed BIG-IP meanwhile), the operations are applied one
 * by one with 409 on create taken as "update" and 404 on delete as "done".
 */
import type { Logger } from 'pino';
import type { Backend, SyncReport } from '../backend/types.js';
import type { BigipClient } from '../bigip/client.js';
import { classOf, isBigipError } from '../bigip/classify.js';
import { ControllerError } from '../errors.js';
import { memberName } from '../ip.js';
import type { DesiredMember, DesiredState, DesiredVirtual } from '../model.js';
import { OWNER_MARK } from './live.js';
import { observeIcontrol } from './observe.js';
import type { IcontrolPlan, Operation } from './plan.js';
import { dumpPlan, planIcontrol } from './plan.js';

const COORDINATION_HEADER = 'X-F5-REST-Coordination-Id';

interface Call {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
}

/** `~partition~name` as iControl URLs spell a path. */
function ref(partition: string, name: string): string {
  return `~${partition}~${encodeURIComponent(name)}`;
}

function session(enabled: boolean): string {
  return enabled ? 'user-enabled' : 'user-disabled';
}

function memberBody(m: DesiredMember, partition: string): Record<string, unknown> {
  return { name: memberName(m.address, m.port), partition, address: m.address, session: session(m.enabled) };
}

function virtualBody(partition: string, v: DesiredVirtual, pool: string): Record<string, unknown> {
  return {
    destination: `/${partition}/${memberName(v.address, v.port)}`, pool: `/${partition}/${pool}`, ipProtocol: v.protocol,
    sourceAddressTranslation: { type: 'automap' }, description: OWNER_MARK,
  };
}

const POOL = '/mgmt/tm/ltm/pool';

type CallBuilders = { [K in Operation['op']]: (o: Extract<Operation, { op: K }>, p: string) => Call };

/** The REST call of each operation. */
const CALLS: CallBuilders = {
  createNode: (o, p) => ({ method: 'POST', path: '/mgmt/tm/ltm/node', body: { name: o.address, partition: p, address: o.address, description: OWNER_MARK } }),
  createPool: (o, p) => ({
    method: 'POST', path: POOL,
    body: {
      name: o.pool, partition: p, description: OWNER_MARK, loadBalancingMode: o.settings.loadBalancingMode,
      ...(o.settings.monitor !== 'none' ? { monitor: o.settings.monitor } : {}), members: o.members.map((m) => memberBody(m, p)),
    },
  }),
  updatePool: (o, p) => ({ method: 'PATCH', path: `${POOL}/${ref(p, o.pool)}`, body: { ...o.settings, ...(o.adopt ? { description: OWNER_MARK } : {}) } }),
  addMember: (o, p) => ({ method: 'POST', path: `${POOL}/${ref(p, o.pool)}/members`, body: memberBody(o.member, p) }),
  setMember: (o, p) => ({ method: 'PATCH', path: `${POOL}/${ref(p, o.pool)}/members/${ref(o.memberPartition || p, o.member)}`, body: { session: session(o.enabled) } }),
  removeMember: (o, p) => ({ method: 'DELETE', path: `${POOL}/${ref(p, o.pool)}/members/${ref(o.memberPartition || p, o.member)}` }),
  deleteVirtual: (o, p) => ({ method: 'DELETE', path: `/mgmt/tm/ltm/virtual/${ref(p, o.virtual)}` }),
  createVirtual: (o, p) => ({ method: 'POST', path: '/mgmt/tm/ltm/virtual', body: { name: o.virtual.name, partition: p, ...virtualBody(p, o.virtual, o.pool) } }),
  updateVirtual: (o, p) => ({ method: 'PATCH', path: `/mgmt/tm/ltm/virtual/${ref(p, o.virtual.name)}`, body: virtualBody(p, o.virtual, o.pool) }),
  deletePool: (o, p) => ({ method: 'DELETE', path: `${POOL}/${ref(p, o.pool)}` }),
  deleteNode: (o, p) => ({ method: 'DELETE', path: `/mgmt/tm/ltm/node/${ref(p, o.node)}` }),
};

export function callOf(o: Operation, partition: string): Call {
  return (CALLS[o.op] as (x: Operation, p: string) => Call)(o, partition);
}

/** What a create that met 409 becomes: the same object's update. */
function updateAfterConflict(o: Operation, p: string): Call | undefined {
  switch (o.op) {
    case 'createPool': {
      const create = callOf(o, p).body as Record<string, unknown>;
      const { name: _n, partition: _p, ...rest } = create;
      return { method: 'PATCH', path: `${POOL}/${ref(p, o.pool)}`, body: rest };
    }
    case 'addMember':
      return { method: 'PATCH', path: `${POOL}/${ref(p, o.pool)}/members/${ref(p, memberName(o.member.address, o.member.port))}`, body: { session: session(o.member.enabled) } };
    case 'createVirtual':
      return { method: 'PATCH', path: `/mgmt/tm/ltm/virtual/${ref(p, o.virtual.name)}`, body: virtualBody(p, o.virtual, o.pool) };
    default:
      return undefined;
  }
}

export interface IcontrolBackendOptions {
  readonly client: BigipClient;
  readonly partition: string;
  readonly logger?: Logger;
}

export class IcontrolBackend implements Backend {
  readonly kind = 'icontrol' as const;
  private readonly options: IcontrolBackendOptions;

  constructor(options: IcontrolBackendOptions) {
    this.options = options;
  }

  /** The plan that `sync` would apply now (for `render` and tests). */
  async plan(desired: DesiredState): Promise<IcontrolPlan> {
    return planIcontrol(desired, await observeIcontrol(this.options.client, this.options.partition));
  }

  async sync(desired: DesiredState): Promise<SyncReport> {
    const plan = await this.plan(desired);
    let resyncNeeded = false;
    if (plan.operations.length > 0) resyncNeeded = await this.applyOperations(plan.operations);
    const deleted = await this.deleteNodes(plan.nodeDeletions);
    const changes = dumpPlan(plan).split('\n').filter((l) => l !== '');
    return { writes: plan.operations.length + deleted, changes, resyncNeeded };
  }

  /**
   * One operation alone (one request is atomic by itself; a transaction would add two writes), else
   * one transaction; on conflict/notFound, one by one. Returns true when a re-sync is due.
   */
  private async applyOperations(ops: readonly Operation[]): Promise<boolean> {
    if (ops.length === 1) return this.applyOne(ops[0]!);
    try {
      await this.transaction(ops);
      return false;
    } catch (err) {
      const c = classOf(err);
      if (c !== 'conflict' && c !== 'notFound') throw err;
      this.options.logger?.info({ err: (err as Error).message }, 'Transaction refused because BIG-IP changed meanwhile; applying operations one by one');
      for (const o of ops) await this.applyOne(o);
      return true;
    }
  }

  private async transaction(ops: readonly Operation[]): Promise<void> {
    const { client, partition } = this.options;
    const started = await client.request('POST', '/mgmt/tm/transaction', {});
    const transId = (started.body as { transId?: unknown } | undefined)?.transId;
    if (typeof transId !== 'number' && typeof transId !== 'string') {
      throw new ControllerError('CTL_BIGIP_RESPONSE_INVALID', 'BIG-IP POST /mgmt/tm/transaction: the answer has no transId');
    }
    const id = String(transId);
    const headers = { [COORDINATION_HEADER]: id };
    try {
      for (const o of ops) {
        const call = callOf(o, partition);
        await client.request(call.method, call.path, call.body, { headers });
      }
    } catch (err) {
      // Best effort: an abandoned transaction would otherwise linger until BIG-IP expires it.
      await client.request('DELETE', `/mgmt/tm/transaction/${id}`).catch(() => undefined);
      throw err;
    }
    await client.request('PATCH', `/mgmt/tm/transaction/${id}`, { state: 'VALIDATING' });
  }

  /** Applies `o` alone; a 409 on a create becomes an update, a 404 on a delete is done. Returns true when BIG-IP had changed meanwhile. */
  private async applyOne(o: Operation): Promise<boolean> {
    const { client, partition } = this.options;
    const call = callOf(o, partition);
    try {
      await client.request(call.method, call.path, call.body);
      return false;
    } catch (err) {
      const c = classOf(err);
      if (c === 'notFound' && call.method !== 'POST') return true;
      const update = c === 'conflict' ? updateAfterConflict(o, partition) : undefined;
      if (c === 'conflict' && o.op === 'createNode') return true;
      if (!update) throw err;
      await client.request(update.method, update.path, update.body);
      return true;
    }
  }

  /** Deletes nodes one by one; "still referenced" (01070110) and "not found" are fine. */
  private async deleteNodes(ops: readonly Operation[]): Promise<number> {
    let deleted = 0;
    for (const o of ops) {
      const call = callOf(o, this.options.partition);
      try {
        await this.options.client.request(call.method, call.path);
        deleted++;
      } catch (err) {
        if (isBigipError(err, 'notFound') || (isBigipError(err) && err.details.f5Message.includes('01070110'))) continue;
        throw err;
      }
    }
    return deleted;
  }
}
