import type { LtmConfig } from '../state/config.js';
import { formatAddressPort, fullPathOf } from '../state/names.js';
import type { MemberInput, PoolInput, VirtualInput } from '../state/types.js';
import { APPLICATION_PROPERTIES, SERVICE_CLASSES, TENANT_PROPERTIES } from './classes.js';
import type { Json } from './validate.js';

/** The LTM objects one AS3 tenant describes. */
export interface TenantObjects {
  tenant: string;
  defaultRouteDomain: number;
  /** Application names: each becomes a folder `/<tenant>/<app>`. */
  folders: string[];
  pools: PoolInput[];
  virtuals: VirtualInput[];
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function applications(tenantDecl: Json): Array<[string, Json]> {
  return Object.entries(tenantDecl).filter((e): e is [string, Json] => !TENANT_PROPERTIES.has(e[0]) && isObject(e[1]));
}

/** A tenant with no Application (`{"class":"Tenant"}`) asks for the tenant to be removed. */
export function isTenantRemoval(tenantDecl: Json): boolean {
  return applications(tenantDecl).length === 0;
}

function monitorPath(ref: unknown, tenant: string, app: string): string {
  if (typeof ref === 'string') return ref.startsWith('/') ? ref : `/Common/${ref}`;
  const r = ref as { use?: string; bigip?: string };
  if (r.bigip !== undefined) return r.bigip;
  const use = r.use ?? '';
  return use.startsWith('/') ? use : `/${tenant}/${app}/${use}`;
}

function memberSession(member: Json): Pick<MemberInput, 'session' | 'state'> {
  if (member.enable === false || member.adminState === 'offline') return { session: 'user-disabled', state: 'user-down' };
  if (member.adminState === 'disable') return { session: 'user-disabled', state: 'user-up' };
  return { session: 'user-enabled', state: 'user-up' };
}

function withRouteDomain(address: string, routeDomain: number): string {
  return routeDomain > 0 && !address.includes('%') ? `${address}%${routeDomain}` : address;
}

function poolMembers(pool: Json, tenant: string, routeDomain: number): MemberInput[] {
  const members = Array.isArray(pool.members) ? (pool.members as Json[]) : [];
  return members.flatMap((m) => {
    const addresses = (m.serverAddresses ?? (m.servers as Json[] | undefined)?.map((s) => s.address) ?? []) as string[];
    const partition = m.shareNodes === true ? 'Common' : tenant;
    const rd = typeof m.routeDomain === 'number' ? m.routeDomain : routeDomain;
    return addresses.map((address) => ({
      name: formatAddressPort(withRouteDomain(address, rd), m.servicePort as number),
      partition,
      ...memberSession(m),
      ...(typeof m.ratio === 'number' && m.ratio > 0 ? { ratio: m.ratio } : {}),
      ...(typeof m.priorityGroup === 'number' ? { priorityGroup: m.priorityGroup } : {}),
      ...(typeof m.connectionLimit === 'number' ? { connectionLimit: m.connectionLimit } : {}),
    }));
  });
}

function toPool(tenant: string, app: string, name: string, pool: Json, routeDomain: number): PoolInput {
  const monitors = Array.isArray(pool.monitors) ? pool.monitors.map((m) => monitorPath(m, tenant, app)) : [];
  const min = pool.minimumMonitors;
  const monitor = monitors.length === 0 ? undefined
    : typeof min === 'number' && min < monitors.length ? `min ${min} of { ${monitors.join(' ')} }` : monitors.join(' and ');
  return {
    partition: tenant, subPath: app, name,
    loadBalancingMode: (pool.loadBalancingMode as string | undefined) ?? 'round-robin',
    ...(monitor !== undefined ? { monitor } : {}),
    ...(typeof pool.slowRampTime === 'number' ? { slowRampTime: pool.slowRampTime } : {}),
    ...(typeof pool.reselectTries === 'number' ? { reselectTries: pool.reselectTries } : {}),
    ...(typeof pool.serviceDownAction === 'string' ? { serviceDownAction: pool.serviceDownAction } : {}),
    ...(typeof pool.minimumMembersActive === 'number' ? { minActiveMembers: pool.minimumMembersActive } : {}),
    ...(typeof pool.remark === 'string' ? { description: pool.remark } : {}),
    members: poolMembers(pool, tenant, routeDomain),
  };
}

function poolPath(ref: unknown, tenant: string, app: string): string | undefined {
  if (ref === undefined) return undefined;
  const r = ref as { use?: string; bigip?: string };
  if (typeof r === 'object' && r.bigip !== undefined) return r.bigip;
  const name = typeof ref === 'string' ? ref : (r.use ?? '');
  return name.startsWith('/') ? name : `/${tenant}/${app}/${name}`;
}

function toVirtuals(tenant: string, app: string, name: string, service: Json, routeDomain: number): VirtualInput[] {
  const spec = SERVICE_CLASSES[service.class as string] ?? { protocol: 'tcp' };
  const port = (service.virtualPort as number | undefined) ?? spec.defaultPort ?? 0;
  const addresses = (service.virtualAddresses as unknown[]).map((a) => String(Array.isArray(a) ? a[0] : a));
  const pool = poolPath(service.pool, tenant, app);
  const snat = service.snat === 'none' ? 'none' : 'automap';
  // AS3 names the extra virtuals of a multi-address service <name>-1-, <name>-2-, ...
  return addresses.map((address, i) => ({
    partition: tenant, subPath: app, name: i === 0 ? name : `${name}-${i}-`,
    destination: `/${tenant}/${formatAddressPort(withRouteDomain(address.split('/')[0] ?? address, routeDomain), port)}`,
    ipProtocol: (service.layer4 as VirtualInput['ipProtocol'] | undefined) ?? spec.protocol,
    snat,
    ...(pool !== undefined ? { pool } : {}),
    ...(service.enable === false ? { enabled: false } : {}),
    ...(typeof service.remark === 'string' ? { description: service.remark } : {}),
  }));
}

/** The LTM objects of a (validated) tenant declaration. */
export function tenantObjects(tenant: string, decl: Json): TenantObjects {
  const routeDomain = typeof decl.defaultRouteDomain === 'number' ? decl.defaultRouteDomain : 0;
  const result: TenantObjects = { tenant, defaultRouteDomain: routeDomain, folders: [], pools: [], virtuals: [] };
  for (const [app, appDecl] of applications(decl)) {
    result.folders.push(app);
    for (const [name, item] of Object.entries(appDecl)) {
      if (APPLICATION_PROPERTIES.has(name) || !isObject(item)) continue;
      if (item.class === 'Pool') result.pools.push(toPool(tenant, app, name, item, routeDomain));
      else if (typeof item.class === 'string' && item.class in SERVICE_CLASSES) result.virtuals.push(...toVirtuals(tenant, app, name, item, routeDomain));
    }
  }
  return result;
}

/** Removes the tenant's application objects (virtuals, pools, folders) and its unreferenced nodes. */
function clearTenant(config: LtmConfig, tenant: string): void {
  const inFolder = (r: { partition: string; subPath?: string }) => r.partition === tenant && r.subPath !== undefined;
  for (const v of config.listVirtuals(tenant).filter(inFolder)) config.deleteVirtual(v);
  for (const p of config.listPools(tenant).filter(inFolder)) config.deletePool(p);
  for (const n of config.listNodes(tenant)) if (config.poolsReferencingNode(n).length === 0) config.deleteNode(n);
}

/** Replaces the tenant's LTM objects by `objects`, all-or-nothing (throws F5RestError on refusal). */
export function applyTenant(config: LtmConfig, objects: TenantObjects): void {
  config.mutate(() => {
    const { tenant } = objects;
    if (!config.listPartitions().some((p) => p.name === tenant)) config.createPartition({ name: tenant, defaultRouteDomain: objects.defaultRouteDomain });
    clearTenant(config, tenant);
    for (const folder of config.getPartition(tenant).folders.filter((f) => !objects.folders.includes(f))) config.deleteFolder(tenant, folder);
    for (const folder of objects.folders) config.ensureFolder(tenant, folder);
    for (const pool of objects.pools) config.createPool(pool);
    for (const virtual of objects.virtuals) config.createVirtual(virtual);
  });
}

/** Removes the tenant's objects and folders, and the partition itself when nothing else is left in it. */
export function removeTenant(config: LtmConfig, tenant: string): void {
  config.mutate(() => {
    if (!config.listPartitions().some((p) => p.name === tenant)) return;
    clearTenant(config, tenant);
    for (const folder of config.getPartition(tenant).folders) config.deleteFolder(tenant, folder);
    if (tenant !== 'Common' && !config.partitionHasObjects(tenant)) config.deletePartition(tenant);
  });
}

/** A canonical text of the tenant's application objects, to tell "no change" from a change. */
export function projectTenant(config: LtmConfig, tenant: string): string {
  const strip = <T extends { generation: number }>(o: T) => ({ ...o, generation: 0 });
  const inFolder = (r: { subPath?: string }) => r.subPath !== undefined;
  const pools = config.listPools(tenant).filter(inFolder).map((p) => ({ ...strip(p), members: p.members.map(strip) }));
  const virtuals = config.listVirtuals(tenant).filter(inFolder).map(strip);
  const byPath = (a: { partition: string; subPath?: string; name: string }, b: typeof a) => fullPathOf(a).localeCompare(fullPathOf(b));
  const folders = config.listPartitions().find((p) => p.name === tenant)?.folders ?? [];
  return JSON.stringify({ folders: [...folders].sort(), pools: pools.sort(byPath), virtuals: virtuals.sort(byPath) });
}
