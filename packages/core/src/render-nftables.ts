/**
 * The nftables dataplane as pure JSON batches for `nft -j -f -`, in the shape nft 1.0.6 accepts
 * (docs/toolchain notes): one table per family (`ip npl`, `ip6 npl`), static chains and rules,
 * and the changing data only in two maps and one set. There is no per-mapping chain: a change
 * touches set elements only, never nft's chain cache, so one add costs about 3 ms and a full sync
 * of 10,000 mappings about 90 ms (a per-mapping-chain shape cost 34 ms and 720-800 ms).
 * Concatenated map values (address . port) are avoided: 1.0.6 crashes on them, so the DNAT
 * address and port come from two maps with the same key.
 *
 *   map addrs         { type inet_proto . inet_service : ipv4_addr;    elements = { tcp . 61000 : POD } }
 *   map ports         { type inet_proto . inet_service : inet_service; elements = { tcp . 61000 : 8080 } }
 *   set hairpin       { type ipv4_addr . ipv4_addr;                     elements = { POD . POD } }
 *   chain prerouting  { type nat hook prerouting priority -100; fib daddr type local jump mappings }
 *   chain output      { type nat hook output priority -100;     fib daddr type local jump mappings }
 *   chain postrouting { type nat hook postrouting priority 100; ct status dnat ip saddr . ip daddr @hairpin masquerade }
 *   chain mappings    { dnat to meta l4proto . th dport map @addrs : meta l4proto . th dport map @ports }
 *
 * Per-packet cost is O(1): two hash lookups in `mappings`, one in postrouting. A key absent from
 * either map makes its lookup fail, so the dnat rule does not match and the packet goes on
 * untouched. (IPv6 uses ip6/ipv6_addr and `dnat ip6 to`.)
 *
 * Hairpin (a pod reaching itself through its own node port) is, after DNAT, a connection from the
 * pod IP to the same pod IP: the pod would answer itself directly and the connection would fail.
 * Masquerading exactly the DNATed connections whose source and destination are the same pod IP
 * (one `hairpin` element per pod IP that has a mapping) makes the reply come back through the node.
 *
 * Element semantics on nft 1.0.6 (checked against the kernel): adding a set element that exists
 * is a success; adding a map key that exists with the SAME value is a success, with ANOTHER value
 * fails the batch ("File exists"); deleting an absent element fails the batch (`destroy` needs nft
 * >= 1.0.8); deleting a map element ignores its value. Hence the incremental batches below add an
 * element before deleting it (absent = success), and replacing a key's value needs the value that
 * is installed now: the caller (the dataplane, the only writer of the table) keeps a model of what
 * it installed and passes it as `replaces`.
 */
import { NplError } from './errors.js';
import { canonicalIP } from './ip.js';
import type { DnatMapping, IPFamily, Protocol } from './types.js';

export type NftFamily = 'ip' | 'ip6';

/** Our table, one per family. */
export const DEFAULT_NFT_TABLE = 'npl';
/** Map `inet_proto . inet_service : ipv4_addr|ipv6_addr`: the pod IP of each node port. */
export const NFT_ADDRS_MAP = 'addrs';
/** Map `inet_proto . inet_service : inet_service`: the pod port of each node port. */
export const NFT_PORTS_MAP = 'ports';
/** Set `ipv4_addr . ipv4_addr` (ip6: ipv6_addr pair): `POD . POD` for each pod IP with a mapping. */
export const NFT_HAIRPIN_SET = 'hairpin';

export interface NftOptions {
  /** Table name in both families; default `npl`. */
  readonly table?: string;
}

export interface NftAddOptions extends NftOptions {
  /**
   * The mapping installed now under the same protocol and node port, when its pod IP or pod port
   * differs from the new one: its elements are deleted first (nft rejects adding a map key that
   * exists with another value). Leave it out when the key is absent or holds the same target.
   */
  readonly replaces?: DnatMapping;
  /** With `replaces`: also delete the hairpin element of its pod IP (it was that pod IP's last mapping). */
  readonly dropReplacedHairpin?: boolean;
}

export interface NftDeleteOptions extends NftOptions {
  /**
   * Also delete the hairpin element of the mapping's pod IP: pass true when this is the last
   * mapping of that pod IP. Default false (an element left behind is harmless to traffic, but
   * `verify` reports it).
   */
  readonly dropHairpin?: boolean;
}

/** A JSON value as nft reads and writes it. */
export type NftJson = string | number | boolean | null | NftJson[] | { readonly [key: string]: NftJson };
export type NftObject = { readonly [key: string]: NftJson };
export type NftCommand =
  | { readonly add: NftObject }
  | { readonly delete: NftObject }
  | { readonly flush: NftObject };

/** One all-or-nothing batch: `JSON.stringify` it into `nft -j -f -`. */
export interface NftBatch {
  readonly nftables: NftCommand[];
}

interface Ctx {
  readonly family: NftFamily;
  readonly table: string;
}

const MAPPINGS_CHAIN = 'mappings';

export function nftFamily(family: IPFamily): NftFamily {
  return family === 'IPv4' ? 'ip' : 'ip6';
}

function context(family: IPFamily, opts: NftOptions): Ctx {
  return { family: nftFamily(family), table: opts.table ?? DEFAULT_NFT_TABLE };
}

const addrType = (c: Ctx): string => (c.family === 'ip' ? 'ipv4_addr' : 'ipv6_addr');

// Expressions.
const meta = (key: string): NftObject => ({ meta: { key } });
const payload = (protocol: string, field: string): NftObject => ({ payload: { protocol, field } });
const match = (left: NftJson, right: NftJson, op = '=='): NftObject => ({ match: { op, left, right } });
const portKey = (): NftObject => ({ concat: [meta('l4proto'), payload('th', 'dport')] });

// Objects.
const tableObj = (c: Ctx): NftObject => ({ table: { family: c.family, name: c.table } });
const chainObj = (c: Ctx, name: string, hook?: { type: string; hook: string; prio: number }): NftObject => ({
  chain: { family: c.family, table: c.table, name, ...(hook ? { ...hook, policy: 'accept' } : {}) },
});
const ruleObj = (c: Ctx, chain: string, expr: NftJson[]): NftObject => ({
  rule: { family: c.family, table: c.table, chain, expr },
});
const mapObj = (c: Ctx, name: string, valueType: string): NftObject => ({
  map: { family: c.family, table: c.table, name, type: ['inet_proto', 'inet_service'], map: valueType },
});
const setObj = (c: Ctx): NftObject => ({
  set: { family: c.family, table: c.table, name: NFT_HAIRPIN_SET, type: [addrType(c), addrType(c)] },
});
const elementObj = (c: Ctx, name: string, elem: NftJson[]): NftObject => ({
  element: { family: c.family, table: c.table, name, elem },
});

// Elements of one mapping.
const elementKey = (m: DnatMapping): NftJson => ({ concat: [m.protocol, m.nodePort] });
const addrElement = (m: DnatMapping): NftJson => [elementKey(m), m.podIP];
const portElement = (m: DnatMapping): NftJson => [elementKey(m), m.podPort];
const hairpinElement = (podIP: string): NftJson => ({ concat: [podIP, podIP] });

function staticObjects(c: Ctx): NftObject[] {
  return [
    chainObj(c, 'prerouting', { type: 'nat', hook: 'prerouting', prio: -100 }),
    chainObj(c, 'output', { type: 'nat', hook: 'output', prio: -100 }),
    chainObj(c, 'postrouting', { type: 'nat', hook: 'postrouting', prio: 100 }),
    chainObj(c, MAPPINGS_CHAIN),
    mapObj(c, NFT_ADDRS_MAP, addrType(c)),
    mapObj(c, NFT_PORTS_MAP, 'inet_service'),
    setObj(c),
  ];
}

function staticRules(c: Ctx): NftObject[] {
  const localJump = [match({ fib: { result: 'type', flags: ['daddr'] } }, 'local'), { jump: { target: MAPPINGS_CHAIN } }];
  const samePod = { concat: [payload(c.family, 'saddr'), payload(c.family, 'daddr')] };
  return [
    ruleObj(c, 'prerouting', localJump),
    ruleObj(c, 'output', localJump),
    ruleObj(c, 'postrouting', [
      match({ ct: { key: 'status' } }, 'dnat', 'in'),
      match(samePod, `@${NFT_HAIRPIN_SET}`),
      { masquerade: null },
    ]),
    ruleObj(c, MAPPINGS_CHAIN, [
      {
        dnat: {
          family: c.family,
          addr: { map: { key: portKey(), data: `@${NFT_ADDRS_MAP}` } },
          port: { map: { key: portKey(), data: `@${NFT_PORTS_MAP}` } },
        },
      },
    ]),
  ];
}

function checkFamily(family: IPFamily, m: DnatMapping): void {
  const isV6 = m.podIP.includes(':');
  if (m.family !== family || isV6 !== (family === 'IPv6')) {
    throw new NplError(
      'NPL_ADDRESS_INVALID',
      `mapping ${m.protocol}/${m.nodePort}: pod IP ${m.podIP} (${m.family}) does not belong in the ${family} table`,
    );
  }
}

const canonical = (ip: string): string => canonicalIP(ip) ?? ip;

/** The pod IPs of `mappings`, each once (compared canonically), in first-seen order. */
function distinctPodIPs(mappings: readonly DnatMapping[]): string[] {
  const seen = new Map<string, string>();
  for (const m of mappings) if (!seen.has(canonical(m.podIP))) seen.set(canonical(m.podIP), m.podIP);
  return [...seen.values()];
}

const add = (o: NftObject): NftCommand => ({ add: o });
const del = (o: NftObject): NftCommand => ({ delete: o });
const flush = (o: NftObject): NftCommand => ({ flush: o });

/**
 * The whole table of one family replaced by exactly `mappings`, in one batch: `add table` then
 * `delete table` removes any previous content (including a table of an older shape) whether or
 * not the table existed, then everything is re-created: static chains, maps, set and rules, and
 * all elements in one `add element` per map/set. The hairpin set gets one element per distinct pod
 * IP. Throws NPL_ADDRESS_INVALID when a mapping is of another family. Node ports must be unique
 * per protocol (nft rejects the batch otherwise).
 */
export function renderFullSync(family: IPFamily, mappings: readonly DnatMapping[], opts: NftOptions = {}): NftBatch {
  mappings.forEach((m) => checkFamily(family, m));
  const c = context(family, opts);
  return {
    nftables: [
      add(tableObj(c)),
      del(tableObj(c)),
      add(tableObj(c)),
      ...[...staticObjects(c), ...staticRules(c)].map(add),
      ...elementCommands(c, mappings),
    ],
  };
}

/**
 * The whole table of one family replaced by exactly `mappings` WITHOUT deleting the table: every
 * object is added (a no-op when it exists with the same definition), then chains, maps and the set
 * are flushed and refilled, in one transaction. The base chains stay registered throughout, so no
 * new connection can slip past the nat hooks while it runs (deleting a table unregisters its hooks
 * for an instant; kube-proxy's nftables mode never deletes its table either). The batch is refused
 * when an existing object has another definition (an older shape, a hand edit): use renderFullSync.
 */
export function renderRefresh(family: IPFamily, mappings: readonly DnatMapping[], opts: NftOptions = {}): NftBatch {
  mappings.forEach((m) => checkFamily(family, m));
  const c = context(family, opts);
  const objects = staticObjects(c);
  return {
    nftables: [add(tableObj(c)), ...objects.map(add), ...objects.map(flush), ...staticRules(c).map(add), ...elementCommands(c, mappings)],
  };
}

function elementCommands(c: Ctx, mappings: readonly DnatMapping[]): NftCommand[] {
  if (mappings.length === 0) return [];
  return [
    add(elementObj(c, NFT_ADDRS_MAP, mappings.map(addrElement))),
    add(elementObj(c, NFT_PORTS_MAP, mappings.map(portElement))),
    add(elementObj(c, NFT_HAIRPIN_SET, distinctPodIPs(mappings).map(hairpinElement))),
  ];
}

/** Add-then-delete of one mapping's map elements: succeeds whether they exist (with these values) or not. */
function removal(c: Ctx, m: DnatMapping, dropHairpin: boolean): NftCommand[] {
  const hairpin = dropHairpin
    ? [add(elementObj(c, NFT_HAIRPIN_SET, [hairpinElement(m.podIP)])), del(elementObj(c, NFT_HAIRPIN_SET, [hairpinElement(m.podIP)]))]
    : [];
  return [
    add(elementObj(c, NFT_ADDRS_MAP, [addrElement(m)])),
    add(elementObj(c, NFT_PORTS_MAP, [portElement(m)])),
    del(elementObj(c, NFT_ADDRS_MAP, [elementKey(m)])),
    del(elementObj(c, NFT_PORTS_MAP, [elementKey(m)])),
    ...hairpin,
  ];
}

/**
 * Installs one mapping in an existing table (after a full sync): its `addrs` and `ports` elements
 * and its pod IP's `hairpin` element. Idempotent when the key is absent or already holds the same
 * target. When the key holds another target, pass it as `opts.replaces`: its elements are
 * added-then-deleted first (so the batch also succeeds if they are already gone). The batch is
 * rejected when the key holds a target other than `replaces` (the caller then re-syncs), or when
 * the table is absent. Throws NPL_ADDRESS_INVALID when a mapping is of another family or
 * `replaces` has another protocol or node port.
 */
export function renderAdd(family: IPFamily, m: DnatMapping, opts: NftAddOptions = {}): NftBatch {
  checkFamily(family, m);
  const c = context(family, opts);
  const old = opts.replaces;
  if (old) {
    checkFamily(family, old);
    if (old.protocol !== m.protocol || old.nodePort !== m.nodePort) {
      throw new NplError('NPL_ADDRESS_INVALID', `mapping ${m.protocol}/${m.nodePort} cannot replace ${old.protocol}/${old.nodePort}`);
    }
  }
  const replacing = old !== undefined && (canonical(old.podIP) !== canonical(m.podIP) || old.podPort !== m.podPort);
  const dropOld = replacing && opts.dropReplacedHairpin === true && canonical(old.podIP) !== canonical(m.podIP);
  return {
    nftables: [
      ...(replacing ? removal(c, old, dropOld) : []),
      add(elementObj(c, NFT_ADDRS_MAP, [addrElement(m)])),
      add(elementObj(c, NFT_PORTS_MAP, [portElement(m)])),
      add(elementObj(c, NFT_HAIRPIN_SET, [hairpinElement(m.podIP)])),
    ],
  };
}

/**
 * Removes one mapping from an existing table, identified by protocol and node port; `m` must be
 * the target installed now. Idempotent: the elements are added before being deleted, so an absent
 * mapping is a success (nft 1.0.6 has no `destroy`). With `opts.dropHairpin` the pod IP's hairpin
 * element goes too (the same way). Rejected when the table is absent or the key holds another
 * target (the caller then re-syncs).
 */
export function renderDelete(family: IPFamily, m: DnatMapping, opts: NftDeleteOptions = {}): NftBatch {
  checkFamily(family, m);
  return { nftables: removal(context(family, opts), m, opts.dropHairpin === true) };
}

/** Deletes our table of the family with everything in it; idempotent (absent table = success). */
export function renderTeardown(family: IPFamily, opts: NftOptions = {}): NftBatch {
  const c = context(family, opts);
  return { nftables: [add(tableObj(c)), del(tableObj(c))] };
}

// Parsing `nft -j list table <family> <table>`.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const field = (v: unknown, key: string): unknown => (isObj(v) ? v[key] : undefined);

const PROTOCOL_NUMBERS: Record<string, Protocol> = { tcp: 'tcp', udp: 'udp', '6': 'tcp', '17': 'udp' };

/** A key found in only one of the two maps: no DNAT happens for it. */
export interface NftHalfMapping {
  readonly protocol: Protocol;
  readonly nodePort: number;
  /** The map that holds the key (the other one lacks it). */
  readonly map: typeof NFT_ADDRS_MAP | typeof NFT_PORTS_MAP;
  readonly value: string | number;
}

/** What the maps and the set of our table hold. */
export interface NftTableContent {
  /** Keys present in both maps, joined; sorted by protocol, then node port. */
  readonly mappings: DnatMapping[];
  /** Keys present in only one map. */
  readonly inconsistent: NftHalfMapping[];
  /** Elements of the hairpin set, as address pairs in listing order. */
  readonly hairpin: [string, string][];
  /** Which of the two maps and the set exist. */
  readonly present: { readonly addrs: boolean; readonly ports: boolean; readonly hairpin: boolean };
}

function listItems(json: unknown): unknown[] {
  const doc = typeof json === 'string' ? (JSON.parse(json) as unknown) : json;
  const items = field(doc, 'nftables');
  return Array.isArray(items) ? items : [];
}

function findObject(items: unknown[], kind: 'map' | 'set', table: string, name: string): Obj | undefined {
  for (const item of items) {
    const o = field(item, kind);
    if (isObj(o) && o['table'] === table && o['name'] === name) return o;
  }
  return undefined;
}

/** Elements of a map or set; nft lists an element with a timeout or comment as `{elem: {val: …}}`. */
function elementsOf(o: Obj | undefined): unknown[] {
  const elems = o?.['elem'];
  return Array.isArray(elems) ? elems.map((e: unknown) => field(field(e, 'elem'), 'val') ?? e) : [];
}

interface Entry {
  readonly protocol: Protocol;
  readonly nodePort: number;
  readonly value: unknown;
}

function mapEntries(o: Obj | undefined): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const pair of elementsOf(o)) {
    if (!Array.isArray(pair) || pair.length !== 2) continue;
    const parts = field(pair[0], 'concat');
    if (!Array.isArray(parts) || parts.length !== 2) continue;
    const protocol = PROTOCOL_NUMBERS[String(parts[0])];
    const nodePort: unknown = parts[1];
    if (protocol && typeof nodePort === 'number') out.set(`${protocol}/${nodePort}`, { protocol, nodePort, value: pair[1] });
  }
  return out;
}

type Keyed = { readonly protocol: Protocol; readonly nodePort: number };
const byKey = (a: Keyed, b: Keyed): number => a.protocol.localeCompare(b.protocol) || a.nodePort - b.nodePort;

/** Joins the two maps by key: mappings, and keys found in only one map. */
function joinMaps(family: IPFamily, addrs: Map<string, Entry>, ports: Map<string, Entry>): Pick<NftTableContent, 'mappings' | 'inconsistent'> {
  const mappings: DnatMapping[] = [];
  const inconsistent: NftHalfMapping[] = [];
  for (const [key, a] of addrs) {
    const p = ports.get(key);
    if (typeof a.value !== 'string') continue;
    if (p && typeof p.value === 'number') {
      mappings.push({ family, protocol: a.protocol, nodePort: a.nodePort, podIP: a.value, podPort: p.value });
    } else {
      inconsistent.push({ protocol: a.protocol, nodePort: a.nodePort, map: NFT_ADDRS_MAP, value: a.value });
    }
  }
  for (const [key, p] of ports) {
    if (!addrs.has(key) && typeof p.value === 'number') {
      inconsistent.push({ protocol: p.protocol, nodePort: p.nodePort, map: NFT_PORTS_MAP, value: p.value });
    }
  }
  return { mappings: mappings.sort(byKey), inconsistent: inconsistent.sort(byKey) };
}

function addressPairs(o: Obj | undefined): [string, string][] {
  return elementsOf(o).flatMap((e): [string, string][] => {
    const parts = field(e, 'concat');
    return Array.isArray(parts) && parts.length === 2 && typeof parts[0] === 'string' && typeof parts[1] === 'string'
      ? [[parts[0], parts[1]]]
      : [];
  });
}

/**
 * Reads the maps and the hairpin set of our table from `nft -j list table ip|ip6 <table>` output
 * (a JSON string or the parsed value). A key that is in both maps is a mapping; a key in only one
 * is `inconsistent` (drift: no DNAT happens for it). Absent maps read as empty.
 */
export function parseNftTable(json: unknown, opts: NftOptions = {}): NftTableContent {
  const items = listItems(json);
  const table = opts.table ?? DEFAULT_NFT_TABLE;
  const addrsMap = findObject(items, 'map', table, NFT_ADDRS_MAP);
  const portsMap = findObject(items, 'map', table, NFT_PORTS_MAP);
  const hairpinSet = findObject(items, 'set', table, NFT_HAIRPIN_SET);
  const family: IPFamily = (addrsMap ?? portsMap)?.['family'] === 'ip6' ? 'IPv6' : 'IPv4';
  return {
    ...joinMaps(family, mapEntries(addrsMap), mapEntries(portsMap)),
    hairpin: addressPairs(hairpinSet),
    present: { addrs: addrsMap !== undefined, ports: portsMap !== undefined, hairpin: hairpinSet !== undefined },
  };
}

/**
 * The mappings of `nft -j list table ip|ip6 <table>` output (a JSON string or the parsed value):
 * keys present in both `addrs` and `ports`, joined. Keys in only one map are left out (see
 * parseNftTable for them). Sorted by protocol, then node port; `[]` when the table or maps are absent.
 */
export function parseNftRuleset(json: unknown, opts: NftOptions = {}): DnatMapping[] {
  return parseNftTable(json, opts).mappings;
}
