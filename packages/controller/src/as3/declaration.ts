/**
 * The AS3 declaration for the desired state: one tenant (the partition) with the `Shared`
 * application, as CIS lays it out (spec §2.7–2.8), valid against F5's AS3 3.56 schema. Pure; the
 * same desired state always gives the same JSON (key order included), so tenants compare as text.
 */
import type { DesiredMember, DesiredPool, DesiredState } from '../model.js';

/** The AS3 schema version declared (CIS pins 3.52.0; every AS3 >= 3.52 accepts it). */
export const AS3_SCHEMA_VERSION = '3.52.0';
/** The pool `remark` marking pools this controller declared. */
export const AS3_REMARK_PREFIX = 'npl-controller';

export type Json = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | Json;

function member(m: DesiredMember): Json {
  return {
    addressDiscovery: 'static',
    serverAddresses: [m.address],
    servicePort: m.port,
    shareNodes: true,
    ...(m.enabled ? {} : { adminState: 'disable' }),
  };
}

function pool(p: DesiredPool): Json {
  return {
    class: 'Pool',
    remark: `${AS3_REMARK_PREFIX} ${p.service.namespace}/${p.service.name}:${p.servicePort}`.slice(0, 64),
    loadBalancingMode: p.loadBalancingMode ?? 'round-robin',
    ...(p.monitor ? { monitors: [{ bigip: p.monitor }], minimumMonitors: 1 } : {}),
    members: p.members.map(member),
  };
}

function virtual(p: DesiredPool): [string, Json] | undefined {
  const v = p.virtual;
  if (!v) return undefined;
  return [v.name, {
    class: v.protocol === 'udp' ? 'Service_UDP' : 'Service_TCP',
    remark: `${AS3_REMARK_PREFIX} ${p.service.namespace}/${p.service.name}`.slice(0, 64),
    virtualAddresses: [v.address],
    virtualPort: v.port,
    pool: p.name,
    snat: 'auto',
  }];
}

/** The tenant object for the partition; with no pools, an empty `Shared` (flush, not delete, as CIS). */
export function buildTenant(state: DesiredState): Json {
  const shared: Json = { class: 'Application', template: 'shared' };
  for (const p of state.pools) {
    shared[p.name] = pool(p);
    const vs = virtual(p);
    if (vs) shared[vs[0]] = vs[1];
  }
  return { class: 'Tenant', Shared: shared };
}

export interface DeclarationOptions {
  /** `controls.userAgent`, e.g. `npl-controller/0.1.0`. */
  readonly userAgent?: string;
}

/** A full AS3 request (`class: AS3`, action deploy) for the given tenants, `selective` mode. */
export function buildDeclaration(tenants: Readonly<Record<string, Json>>, options: DeclarationOptions = {}): Json {
  return {
    class: 'AS3',
    action: 'deploy',
    persist: true,
    declaration: {
      class: 'ADC',
      schemaVersion: AS3_SCHEMA_VERSION,
      id: 'npl-controller',
      label: 'npl-controller',
      remark: 'Pools of NodePortLocal Services',
      updateMode: 'selective',
      ...(options.userAgent ? { controls: { class: 'Controls', userAgent: options.userAgent } } : {}),
      ...tenants,
    },
  };
}

/** The declaration of one desired state (its partition as the only tenant). */
export function declarationFor(state: DesiredState, options: DeclarationOptions = {}): Json {
  return buildDeclaration({ [state.partition]: buildTenant(state) }, options);
}
