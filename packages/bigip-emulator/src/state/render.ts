import { formatAddressPort, fullPathOf, restName } from './names.js';
import type { MemberRecord, NodeRecord, PartitionRecord, PoolRecord, VirtualRecord } from './types.js';

/** The TMOS version reported in `selfLink`s and by `/mgmt/tm/sys/version`. */
export const TMOS_VERSION = '17.1.0';

export function selfLink(path: string): string {
  return `https://localhost${path}?ver=${TMOS_VERSION}`;
}

export function collection(kind: string, path: string, items: unknown[]): Record<string, unknown> {
  return { kind, selfLink: selfLink(path), items };
}

/** How a pool's monitor reads back: BIG-IP appends a space to the monitor rule. */
function monitorRule(monitor: string): string {
  return `${monitor} `;
}

export function renderMember(pool: PoolRecord, m: MemberRecord): Record<string, unknown> {
  const poolPath = `/mgmt/tm/ltm/pool/${restName(pool)}`;
  const monitored = pool.monitor !== undefined;
  const session = m.session === 'user-enabled' && monitored ? 'monitor-enabled' : m.session;
  const state = m.state === 'user-down' ? 'user-down' : 'unchecked';
  return {
    kind: 'tm:ltm:pool:members:membersstate',
    name: m.name,
    partition: m.partition,
    fullPath: `/${m.partition}/${m.name}`,
    generation: m.generation,
    selfLink: selfLink(`${poolPath}/members/~${m.partition}~${m.name}`),
    address: m.address,
    connectionLimit: m.connectionLimit,
    ...(m.description !== undefined ? { description: m.description } : {}),
    dynamicRatio: 1,
    ephemeral: 'false',
    fqdn: { autopopulate: 'disabled' },
    inheritProfile: 'enabled',
    logging: 'disabled',
    monitor: 'default',
    priorityGroup: m.priorityGroup,
    rateLimit: 'disabled',
    ratio: m.ratio,
    session,
    state,
    nameReference: { link: selfLink(`/mgmt/tm/ltm/node/~${m.partition}~${m.name}`) },
  };
}

export function renderMembers(pool: PoolRecord): Record<string, unknown> {
  return collection('tm:ltm:pool:members:memberscollectionstate', `/mgmt/tm/ltm/pool/${restName(pool)}/members`,
    pool.members.map((m) => renderMember(pool, m)));
}

export function renderPool(pool: PoolRecord, expand: boolean): Record<string, unknown> {
  const path = `/mgmt/tm/ltm/pool/${restName(pool)}`;
  const membersReference: Record<string, unknown> = { link: selfLink(`${path}/members`), isSubcollection: true };
  if (expand) membersReference.items = pool.members.map((m) => renderMember(pool, m));
  return {
    kind: 'tm:ltm:pool:poolstate',
    name: pool.name,
    partition: pool.partition,
    ...(pool.subPath !== undefined ? { subPath: pool.subPath } : {}),
    fullPath: fullPathOf(pool),
    generation: pool.generation,
    selfLink: selfLink(path),
    allowNat: pool.allowNat,
    allowSnat: pool.allowSnat,
    ...(pool.description !== undefined ? { description: pool.description } : {}),
    ignorePersistedWeight: 'disabled',
    ipTosToClient: 'pass-through',
    ipTosToServer: 'pass-through',
    linkQosToClient: 'pass-through',
    linkQosToServer: 'pass-through',
    loadBalancingMode: pool.loadBalancingMode,
    minActiveMembers: pool.minActiveMembers,
    minUpMembers: 0,
    minUpMembersAction: 'failover',
    minUpMembersChecking: 'disabled',
    ...(pool.monitor !== undefined ? { monitor: monitorRule(pool.monitor) } : {}),
    queueDepthLimit: 0,
    queueOnConnectionLimit: 'disabled',
    queueTimeLimit: 0,
    reselectTries: pool.reselectTries,
    serviceDownAction: pool.serviceDownAction,
    slowRampTime: pool.slowRampTime,
    membersReference,
  };
}

export function renderNode(node: NodeRecord): Record<string, unknown> {
  const ip = node.address.split('%')[0] ?? node.address;
  return {
    kind: 'tm:ltm:node:nodestate',
    name: node.name,
    partition: node.partition,
    fullPath: `/${node.partition}/${node.name}`,
    generation: node.generation,
    selfLink: selfLink(`/mgmt/tm/ltm/node/~${node.partition}~${node.name}`),
    address: node.address,
    connectionLimit: node.connectionLimit,
    ...(node.description !== undefined ? { description: node.description } : {}),
    dynamicRatio: 1,
    ephemeral: 'false',
    fqdn: { addressFamily: ip.includes(':') ? 'ipv6' : 'ipv4', autopopulate: 'disabled', downInterval: 5, interval: '3600' },
    logging: 'disabled',
    monitor: node.monitor ?? 'default',
    rateLimit: 'disabled',
    ratio: node.ratio,
    session: node.session,
    state: node.state === 'user-down' ? 'user-down' : 'unchecked',
  };
}

export function renderVirtual(v: VirtualRecord): Record<string, unknown> {
  const path = `/mgmt/tm/ltm/virtual/${restName(v)}`;
  const d = v.destination;
  return {
    kind: 'tm:ltm:virtual:virtualstate',
    name: v.name,
    partition: v.partition,
    ...(v.subPath !== undefined ? { subPath: v.subPath } : {}),
    fullPath: fullPathOf(v),
    generation: v.generation,
    selfLink: selfLink(path),
    addressStatus: 'yes',
    autoLasthop: 'default',
    cmpEnabled: 'yes',
    connectionLimit: 0,
    ...(v.description !== undefined ? { description: v.description } : {}),
    destination: `/${d.partition}/${formatAddressPort(d.address, d.port)}`,
    ...(v.enabled ? { enabled: true } : { disabled: true }),
    ipProtocol: v.ipProtocol,
    mask: v.mask,
    ...(v.pool !== undefined ? { pool: v.pool, poolReference: { link: selfLink(`/mgmt/tm/ltm/pool/${v.pool.replaceAll('/', '~')}`) } } : {}),
    rateLimit: 'disabled',
    source: v.source,
    sourceAddressTranslation: { type: v.snat },
    sourcePort: 'preserve',
    translateAddress: 'enabled',
    translatePort: 'enabled',
    profilesReference: { link: selfLink(`${path}/profiles`), isSubcollection: true },
  };
}

export function renderPartition(p: PartitionRecord): Record<string, unknown> {
  return {
    kind: 'tm:auth:partition:partitionstate',
    name: p.name,
    fullPath: p.name,
    generation: p.generation,
    selfLink: selfLink(`/mgmt/tm/auth/partition/${p.name}`),
    defaultRouteDomain: p.defaultRouteDomain,
    ...(p.description !== undefined ? { description: p.description } : {}),
  };
}
