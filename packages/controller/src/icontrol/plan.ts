/**
 * The iControl plan: desired pools against the live partition, the smallest ordered list of
 * operations that makes BIG-IP match. Pure. Only objects marked as ours are deleted; a pool or
 * virtual of the desired name that is not ours is adopted (updated and marked).
 */
import { memberName } from '../ip.js';
import type { DesiredMember, DesiredPool, DesiredState, DesiredVirtual } from '../model.js';
import type { LiveMember, LivePool, LiveState, LiveVirtual } from './live.js';

export interface PoolSettings {
  /** `none` removes a monitor. */
  readonly monitor: string;
  readonly loadBalancingMode: string;
}

export type Operation =
  | { readonly op: 'createNode'; readonly address: string }
  | { readonly op: 'createPool'; readonly pool: string; readonly settings: PoolSettings; readonly members: readonly DesiredMember[] }
  | { readonly op: 'updatePool'; readonly pool: string; readonly settings: Partial<PoolSettings>; readonly adopt: boolean }
  | { readonly op: 'addMember'; readonly pool: string; readonly member: DesiredMember }
  | { readonly op: 'setMember'; readonly pool: string; readonly member: string; readonly memberPartition: string; readonly enabled: boolean }
  | { readonly op: 'removeMember'; readonly pool: string; readonly member: string; readonly memberPartition: string }
  | { readonly op: 'deleteVirtual'; readonly virtual: string }
  | { readonly op: 'createVirtual'; readonly virtual: DesiredVirtual; readonly pool: string }
  | { readonly op: 'updateVirtual'; readonly virtual: DesiredVirtual; readonly pool: string; readonly adopt: boolean }
  | { readonly op: 'deletePool'; readonly pool: string }
  | { readonly op: 'deleteNode'; readonly node: string };

export type OperationKind = Operation['op'];

/** Execution order: creations before the members and virtuals that need them, deletions last. */
export const OPERATION_ORDER: readonly OperationKind[] = [
  'createNode', 'createPool', 'updatePool', 'addMember', 'setMember', 'removeMember',
  'deleteVirtual', 'createVirtual', 'updateVirtual', 'deletePool', 'deleteNode',
];

export interface IcontrolPlan {
  readonly partition: string;
  /** Applied in one transaction, in this order. */
  readonly operations: readonly Operation[];
  /** Unreferenced nodes we created, deleted after the transaction (a refusal is tolerated). */
  readonly nodeDeletions: readonly Operation[];
}

function settingsOf(pool: DesiredPool): PoolSettings {
  return { monitor: pool.monitor ?? 'none', loadBalancingMode: pool.loadBalancingMode ?? 'round-robin' };
}

function settingsChanges(desired: PoolSettings, live: LivePool): Partial<PoolSettings> {
  const monitorNow = live.monitor === '' || live.monitor === 'default' ? 'none' : live.monitor;
  return {
    ...(desired.monitor !== monitorNow ? { monitor: desired.monitor } : {}),
    ...(desired.loadBalancingMode !== live.loadBalancingMode ? { loadBalancingMode: desired.loadBalancingMode } : {}),
  };
}

function memberKey(address: string, port: number): string {
  return `${address} ${port}`;
}

function memberOps(pool: DesiredPool, live: LivePool): Operation[] {
  const ops: Operation[] = [];
  const liveByKey = new Map(live.members.map((m) => [memberKey(m.address, m.port), m]));
  const wanted = new Set<string>();
  for (const member of pool.members) {
    const key = memberKey(member.address, member.port);
    wanted.add(key);
    const current = liveByKey.get(key);
    if (!current) ops.push({ op: 'addMember', pool: pool.name, member });
    else if (current.enabled !== member.enabled) ops.push({ op: 'setMember', pool: pool.name, member: current.name, memberPartition: current.partition, enabled: member.enabled });
  }
  for (const m of live.members) {
    if (!wanted.has(memberKey(m.address, m.port))) ops.push({ op: 'removeMember', pool: pool.name, member: m.name, memberPartition: m.partition });
  }
  return ops;
}

function poolOps(pool: DesiredPool, live: LivePool | undefined): Operation[] {
  const settings = settingsOf(pool);
  if (!live) return [{ op: 'createPool', pool: pool.name, settings, members: pool.members }];
  const changes = settingsChanges(settings, live);
  const update: Operation[] = Object.keys(changes).length > 0 || !live.owned ? [{ op: 'updatePool', pool: pool.name, settings: changes, adopt: !live.owned }] : [];
  return [...update, ...memberOps(pool, live)];
}

function virtualOps(partition: string, pool: DesiredPool, live: LiveVirtual | undefined): Operation[] {
  const virtual = pool.virtual;
  if (!virtual) return [];
  if (!live) return [{ op: 'createVirtual', virtual, pool: pool.name }];
  const same = live.owned && live.address === virtual.address && live.port === virtual.port
    && live.pool === `/${partition}/${pool.name}` && live.protocol === virtual.protocol;
  return same ? [] : [{ op: 'updateVirtual', virtual, pool: pool.name, adopt: !live.owned }];
}

/** Nodes to create: desired member addresses no node on the device has yet. */
function nodeCreations(desired: DesiredState, live: LiveState): Operation[] {
  const existing = new Set(live.nodes.map((n) => n.address));
  const needed = new Set(desired.pools.flatMap((p) => p.members.map((m) => m.address)));
  return [...needed].filter((a) => !existing.has(a)).sort().map((address) => ({ op: 'createNode', address }));
}

/** Our nodes in the partition that no pool member will reference once the plan is applied. */
function nodeDeletions(desired: DesiredState, live: LiveState): Operation[] {
  const desiredNames = new Set(desired.pools.map((p) => p.name));
  const referenced = new Set<string>();
  for (const pool of desired.pools) for (const m of pool.members) referenced.add(m.address);
  for (const pool of live.pools) {
    if (desiredNames.has(pool.name) || pool.owned) continue;
    for (const m of pool.members) referenced.add(m.address);
  }
  return live.nodes
    .filter((n) => n.owned && n.partition === live.partition && !referenced.has(n.address))
    .map((n) => ({ op: 'deleteNode', node: n.name }));
}

function byOrder(a: Operation, b: Operation): number {
  return OPERATION_ORDER.indexOf(a.op) - OPERATION_ORDER.indexOf(b.op);
}

/** The operations that turn `live` into `desired`; empty when they already agree. */
export function planIcontrol(desired: DesiredState, live: LiveState): IcontrolPlan {
  const livePools = new Map(live.pools.map((p) => [p.name, p]));
  const liveVirtuals = new Map(live.virtuals.map((v) => [v.name, v]));
  const ops: Operation[] = [...nodeCreations(desired, live)];
  const wantedVirtuals = new Set<string>();
  for (const pool of desired.pools) {
    ops.push(...poolOps(pool, livePools.get(pool.name)));
    if (pool.virtual) {
      wantedVirtuals.add(pool.virtual.name);
      ops.push(...virtualOps(live.partition, pool, liveVirtuals.get(pool.virtual.name)));
    }
  }
  const desiredPools = new Set(desired.pools.map((p) => p.name));
  for (const v of live.virtuals) if (v.owned && !wantedVirtuals.has(v.name)) ops.push({ op: 'deleteVirtual', virtual: v.name });
  for (const p of live.pools) if (p.owned && !desiredPools.has(p.name)) ops.push({ op: 'deletePool', pool: p.name });
  return { partition: live.partition, operations: ops.sort(byOrder), nodeDeletions: nodeDeletions(desired, live) };
}

function memberText(m: DesiredMember): string {
  return `${memberName(m.address, m.port)}${m.enabled ? '' : ' disabled'}`;
}

type Formatters = { [K in OperationKind]: (o: Extract<Operation, { op: K }>) => string };

const FORMAT: Formatters = {
  createNode: (o) => `createNode ${o.address}`,
  createPool: (o) => `createPool ${o.pool} monitor=${o.settings.monitor} lb=${o.settings.loadBalancingMode} [${o.members.map(memberText).join(', ')}]`,
  updatePool: (o) => `updatePool ${o.pool}${o.adopt ? ' adopt' : ''}${Object.entries(o.settings).map(([k, v]) => ` ${k}=${v}`).join('')}`,
  addMember: (o) => `addMember ${o.pool} ${memberText(o.member)}`,
  setMember: (o) => `setMember ${o.pool} ${o.member} ${o.enabled ? 'enabled' : 'disabled'}`,
  removeMember: (o) => `removeMember ${o.pool} ${o.member}`,
  deleteVirtual: (o) => `deleteVirtual ${o.virtual}`,
  createVirtual: (o) => `createVirtual ${o.virtual.name} ${memberName(o.virtual.address, o.virtual.port)}/${o.virtual.protocol} -> ${o.pool}`,
  updateVirtual: (o) => `updateVirtual ${o.virtual.name}${o.adopt ? ' adopt' : ''} ${memberName(o.virtual.address, o.virtual.port)}/${o.virtual.protocol} -> ${o.pool}`,
  deletePool: (o) => `deletePool ${o.pool}`,
  deleteNode: (o) => `deleteNode ${o.node}`,
};

function operationText(o: Operation): string {
  return (FORMAT[o.op] as (x: Operation) => string)(o);
}

/** One line per operation, transaction first, then node deletions. */
export function dumpPlan(plan: IcontrolPlan): string {
  return [...plan.operations, ...plan.nodeDeletions].map(operationText).join('\n');
}

/** A member as `LiveMember` would read it back, for fakes. */
export function asLiveMember(m: DesiredMember, partition: string): LiveMember {
  return { name: memberName(m.address, m.port), partition, address: m.address, port: m.port, enabled: m.enabled };
}
