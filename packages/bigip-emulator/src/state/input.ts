import { invalidJson, invalidProperty, unexpectedProperty } from '../errors.js';
import type { MemberInput, MemberProps, NodeProps, PoolProps, VirtualPatch } from './types.js';

type Body = Record<string, unknown>;
type Reader = (item: string, key: string, value: unknown) => unknown;

const LB_MODES = [
  'dynamic-ratio-member', 'dynamic-ratio-node', 'fastest-app-response', 'fastest-node', 'least-connections-member',
  'least-connections-node', 'least-sessions', 'observed-member', 'observed-node', 'predictive-member', 'predictive-node',
  'ratio-least-connections-member', 'ratio-least-connections-node', 'ratio-member', 'ratio-node', 'ratio-session',
  'round-robin', 'weighted-least-connections-member', 'weighted-least-connections-node',
];

const str: Reader = (item, key, v) => {
  if (typeof v !== 'string') throw invalidProperty(item, key, v, 'a string');
  return v;
};
const int = (min: number, max: number): Reader => (item, key, v) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalidProperty(item, key, v, `an integer from ${min} to ${max}`);
  return v;
};
const oneOf = (values: string[]): Reader => (item, key, v) => {
  if (typeof v !== 'string' || !values.includes(v)) throw invalidProperty(item, key, v, `one of ${values.join(', ')}`);
  return v;
};
const flag: Reader = (item, key, v) => {
  if (typeof v !== 'boolean') throw invalidProperty(item, key, v, 'true or false');
  return v;
};
const session: Reader = (item, key, v) => (oneOf(['user-enabled', 'user-disabled', 'monitor-enabled'])(item, key, v) === 'user-disabled' ? 'user-disabled' : 'user-enabled');
const monitor: Reader = (item, key, v) => normalizeMonitor(str(item, key, v) as string);

/** Properties BIG-IP returns that we accept in a write and ignore (read-only or not emulated). */
const COMMON_IGNORED = ['kind', 'selfLink', 'generation', 'fullPath'];

/** The object body of a request, or a 400 `Found invalid JSON body` when it is not an object. */
export function asBody(body: unknown): Body {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw invalidJson();
  return body as Body;
}

function read(item: string, body: Body, readers: Record<string, Reader>, ignored: string[]): Body {
  const out: Body = {};
  for (const [key, value] of Object.entries(body)) {
    const reader = readers[key];
    if (reader) out[key] = reader(item, key, value);
    else if (!COMMON_IGNORED.includes(key) && !ignored.includes(key)) throw unexpectedProperty(item, key, value);
  }
  return out;
}

/** `http` → `/Common/http`; rules joined with ` and ` keep their order; `none` or empty → `''`. */
export function normalizeMonitor(rule: string): string {
  const trimmed = rule.trim();
  if (trimmed === '' || trimmed === 'none') return '';
  if (trimmed.startsWith('min ')) return trimmed;
  return trimmed.split(/\s+and\s+/).map((m) => (m.startsWith('/') ? m : `/Common/${m}`)).join(' and ');
}

const MEMBER_READERS: Record<string, Reader> = {
  name: str, partition: str, address: str, description: str, session, state: oneOf(['user-up', 'user-down']),
  ratio: int(1, 100), priorityGroup: int(0, 65535), connectionLimit: int(0, 2147483647),
};
const MEMBER_IGNORED = ['dynamicRatio', 'ephemeral', 'fqdn', 'inheritProfile', 'logging', 'monitor', 'rateLimit', 'nameReference'];

export function readMember(body: unknown, requireName: boolean): MemberInput {
  const item = '/ltm/pool/members';
  const out = read(item, asBody(body), MEMBER_READERS, MEMBER_IGNORED);
  if (requireName && typeof out.name !== 'string') throw invalidProperty(item, 'name', out.name, 'the member name addr:port');
  return out as unknown as MemberInput;
}

export function readMemberPatch(body: unknown): Partial<MemberProps> {
  const { name: _n, partition: _p, address: _a, ...patch } = readMember(body, false);
  return patch;
}

function readMemberList(item: string, value: unknown): MemberInput[] {
  if (!Array.isArray(value)) throw invalidProperty(item, 'members', value, 'an array of members');
  return value.map((m) => (typeof m === 'string' ? { name: m } : readMember(m, true)));
}

const POOL_READERS: Record<string, Reader> = {
  name: str, partition: str, subPath: str, description: str, loadBalancingMode: oneOf(LB_MODES), monitor,
  slowRampTime: int(0, 900), reselectTries: int(0, 65535), serviceDownAction: oneOf(['none', 'reset', 'drop', 'reselect']),
  minActiveMembers: int(0, 65535), allowNat: oneOf(['yes', 'no']), allowSnat: oneOf(['yes', 'no']),
  members: (item, _key, v) => readMemberList(item, v),
  membersReference: (item, key, v) => {
    const items = (v as { items?: unknown } | null)?.items;
    if (typeof v !== 'object' || v === null) throw invalidProperty(item, key, v, 'an object with items');
    return items === undefined ? undefined : readMemberList(item, items);
  },
};
const POOL_IGNORED = [
  'ignorePersistedWeight', 'ipTosToClient', 'ipTosToServer', 'linkQosToClient', 'linkQosToServer', 'minUpMembers',
  'minUpMembersAction', 'minUpMembersChecking', 'queueDepthLimit', 'queueOnConnectionLimit', 'queueTimeLimit',
];

export interface PoolBody extends Partial<PoolProps> {
  name?: string;
  partition?: string;
  subPath?: string;
  members?: MemberInput[];
}

export function readPool(body: unknown): PoolBody {
  const out = read('/ltm/pool', asBody(body), POOL_READERS, POOL_IGNORED);
  const { membersReference, ...rest } = out;
  if (rest.members === undefined && membersReference !== undefined) rest.members = membersReference;
  return rest;
}

const NODE_READERS: Record<string, Reader> = {
  name: str, partition: str, address: str, description: str, session, state: oneOf(['user-up', 'user-down']),
  ratio: int(1, 100), connectionLimit: int(0, 2147483647), monitor,
};
const NODE_IGNORED = ['dynamicRatio', 'ephemeral', 'fqdn', 'logging', 'rateLimit'];

export function readNode(body: unknown): Partial<NodeProps> & { name?: string; partition?: string; address?: string } {
  const out = read('/ltm/node', asBody(body), NODE_READERS, NODE_IGNORED);
  if (out.monitor === '') delete out.monitor;
  return out;
}

const VIRTUAL_READERS: Record<string, Reader> = {
  name: str, partition: str, subPath: str, destination: str, description: str, source: str, mask: str,
  pool: (item, key, v) => (v === null ? null : str(item, key, v)),
  ipProtocol: oneOf(['tcp', 'udp', 'sctp', 'any']),
  enabled: flag, disabled: flag,
  sourceAddressTranslation: (item, key, v) => {
    const type = (v as { type?: unknown } | null)?.type;
    return oneOf(['automap', 'none'])(item, `${key}.type`, type);
  },
};
const VIRTUAL_IGNORED = [
  'addressStatus', 'autoLasthop', 'cmpEnabled', 'connectionLimit', 'rateLimit', 'sourcePort', 'translateAddress',
  'translatePort', 'profilesReference', 'poolReference', 'vlansDisabled', 'vlansEnabled', 'vlans', 'profiles', 'rules',
  'persist', 'mirror', 'nat64', 'gtmScore', 'synCookieStatus', 'vsIndex', 'mobileAppTunnel', 'serviceDownImmediateAction',
];

export function readVirtual(body: unknown): VirtualPatch & { name?: string; partition?: string; subPath?: string } {
  const out = read('/ltm/virtual', asBody(body), VIRTUAL_READERS, VIRTUAL_IGNORED);
  const { enabled, disabled, sourceAddressTranslation, ...rest } = out;
  const result: Body = { ...rest };
  if (disabled === true || enabled === false) result.enabled = false;
  else if (enabled === true || disabled === false) result.enabled = true;
  if (sourceAddressTranslation !== undefined) result.snat = sourceAddressTranslation;
  return result;
}

export function readPartition(body: unknown): { name?: string; description?: string; defaultRouteDomain?: number } {
  return read('/auth/partition', asBody(body), { name: str, description: str, defaultRouteDomain: int(0, 65534) }, []);
}
