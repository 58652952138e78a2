/**
 * Reading the partition's live state through iControl REST into the plan's LiveState.
 */
import type { BigipClient } from '../bigip/client.js';
import { ControllerError } from '../errors.js';
import { canonicalAddress } from '../ip.js';
import type { LiveMember, LiveNode, LivePool, LiveState, LiveVirtual } from './live.js';
import { OWNER_MARK } from './live.js';

type Item = Record<string, unknown>;

function items(body: unknown, what: string): Item[] {
  const list = (body as { items?: unknown } | undefined)?.items;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new ControllerError('CTL_BIGIP_RESPONSE_INVALID', `BIG-IP ${what}: "items" is not an array`);
  return list as Item[];
}

function text(item: Item, key: string): string {
  const v = item[key];
  return typeof v === 'string' ? v : '';
}

/** `addr:port` (IPv4) or `addr.port` (IPv6), with an optional `%RD`, into address and port. */
export function splitMemberName(name: string): { address: string; port: number } | undefined {
  const bare = name.includes('/') ? name.slice(name.lastIndexOf('/') + 1) : name;
  const m = /^(.+)[:.](\d{1,5})$/.exec(bare);
  if (!m) return undefined;
  const address = canonicalAddress((m[1] ?? '').replace(/%\d+$/, ''));
  return address === undefined ? undefined : { address, port: Number(m[2]) };
}

function member(item: Item): LiveMember | undefined {
  const name = text(item, 'name');
  const split = splitMemberName(name);
  if (!split) return undefined;
  return { name, partition: text(item, 'partition'), address: split.address, port: split.port, enabled: text(item, 'session') !== 'user-disabled' };
}

function pool(item: Item): LivePool {
  const ref = item.membersReference as { items?: unknown } | undefined;
  return {
    name: text(item, 'name'),
    owned: text(item, 'description') === OWNER_MARK,
    monitor: text(item, 'monitor').trim(),
    loadBalancingMode: text(item, 'loadBalancingMode') || 'round-robin',
    members: items(ref, 'pool members').map(member).filter((m): m is LiveMember => m !== undefined),
  };
}

function virtual(item: Item): LiveVirtual | undefined {
  const split = splitMemberName(text(item, 'destination'));
  if (!split) return undefined;
  return {
    name: text(item, 'name'), owned: text(item, 'description') === OWNER_MARK,
    address: split.address, port: split.port, pool: text(item, 'pool'), protocol: text(item, 'ipProtocol') || 'tcp',
  };
}

function node(item: Item): LiveNode {
  const address = canonicalAddress(text(item, 'address').replace(/%\d+$/, '')) ?? text(item, 'address');
  return { name: text(item, 'name'), partition: text(item, 'partition'), address, owned: text(item, 'description') === OWNER_MARK };
}

/** Objects directly in the partition (not in a folder such as AS3's `Shared`). */
function inPartition(partition: string): (item: Item) => boolean {
  return (item) => text(item, 'partition') === partition && text(item, 'subPath') === '';
}

export async function observeIcontrol(client: BigipClient, partition: string): Promise<LiveState> {
  const filter = `$filter=partition+eq+${encodeURIComponent(partition)}`;
  const pools = await client.request('GET', `/mgmt/tm/ltm/pool?expandSubcollections=true&${filter}`);
  const virtuals = await client.request('GET', `/mgmt/tm/ltm/virtual?${filter}`);
  const nodes = await client.request('GET', '/mgmt/tm/ltm/node');
  const mine = inPartition(partition);
  return {
    partition,
    pools: items(pools.body, 'pools').filter(mine).map(pool),
    virtuals: items(virtuals.body, 'virtuals').filter(mine).map(virtual).filter((v): v is LiveVirtual => v !== undefined),
    nodes: items(nodes.body, 'nodes').map(node),
  };
}
