/**
 * The nftables dataplane as pure JSON batches for `nft -j -f -`, in the shape nft 1.0.6 accepts
 * (docs/toolchain notes): one table per family (`ip npl`, `ip6 npl`), static chains, and the
 * changing data in one verdict map keyed `meta l4proto . th dport` whose elements `goto` one small
 * chain per mapping. Concatenated map values (address . port) are avoided: 1.0.6 crashes on them.
 *
 *   chain prerouting  { type nat hook prerouting priority -100; fib daddr type local jump mappings }
 *   chain output      { type nat hook output priority -100;     fib daddr type local jump mappings }
 *   chain postrouting { type nat hook postrouting priority 100; ct mark & MARK != 0 masquerade }
 *   chain mappings    { meta l4proto . th dport vmap @ports }
 *   map ports         { type inet_proto . inet_service : verdict; elements = { tcp . 61000 : goto m-tcp-61000 } }
 *   chain m-tcp-61000 { ip saddr POD ct mark set ct mark | MARK; meta l4proto tcp dnat to POD:PORT }
 *
 * The conntrack mark makes hairpin traffic (a pod reaching itself through its own node port) come
 * back through the node: without the masquerade the pod answers itself directly and the
 * connection fails. It is kube-proxy's approach, with a conntrack mark bit instead of a packet mark.
 */
import { NplError } from './errors.js';
import type { DnatMapping, IPFamily, Protocol } from './types.js';

export type NftFamily = 'ip' | 'ip6';

/** Our table, one per family. */
export const DEFAULT_NFT_TABLE = 'npl';

/**
 * Conntrack mark bit of hairpin connections (bit 20). kube-proxy marks packets (meta mark 0x4000
 * and 0x8000), not conntrack entries; choose another bit with `hairpinMark` if a CNI of the
 * cluster sets this one.
 */
export const DEFAULT_HAIRPIN_MARK = 0x00100000;

export interface NftOptions {
  /** Table name in both families; default `npl`. */
  readonly table?: string;
  /** One-bit conntrack mark of hairpin connections; default DEFAULT_HAIRPIN_MARK. */
  readonly hairpinMark?: number;
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
  readonly mark: number;
}

const MAP_NAME = 'ports';
const MAPPINGS_CHAIN = 'mappings';

export function nftFamily(family: IPFamily): NftFamily {
  return family === 'IPv4' ? 'ip' : 'ip6';
}

/** Name of the per-mapping chain, e.g. `m-tcp-61000`. */
export function mappingChainName(protocol: Protocol, nodePort: number): string {
  return `m-${protocol}-${nodePort}`;
}

function context(family: IPFamily, opts: NftOptions): Ctx {
  return { family: nftFamily(family), table: opts.table ?? DEFAULT_NFT_TABLE, mark: opts.hairpinMark ?? DEFAULT_HAIRPIN_MARK };
}

// Expressions.
const meta = (key: string): NftObject => ({ meta: { key } });
const payload = (protocol: string, field: string): NftObject => ({ payload: { protocol, field } });
const ctMark = (): NftObject => ({ ct: { key: 'mark' } });
const match = (left: NftJson, right: NftJson, op = '=='): NftObject => ({ match: { op, left, right } });

// Objects.
const tableObj = (c: Ctx): NftObject => ({ table: { family: c.family, name: c.table } });
const chainObj = (c: Ctx, name: string, hook?: { type: string; hook: string; prio: number }): NftObject => ({
  chain: { family: c.family, table: c.table, name, ...(hook ? { ...hook, policy: 'accept' } : {}) },
});
const ruleObj = (c: Ctx, chain: string, expr: NftJson[]): NftObject => ({
  rule: { family: c.family, table: c.table, chain, expr },
});
const mapObj = (c: Ctx): NftObject => ({
  map: { family: c.family, table: c.table, name: MAP_NAME, type: ['inet_proto', 'inet_service'], map: 'verdict' },
});
const elementObj = (c: Ctx, elem: NftJson[]): NftObject => ({
  element: { family: c.family, table: c.table, name: MAP_NAME, elem },
});

const elementKey = (m: DnatMapping): NftJson => ({ concat: [m.protocol, m.nodePort] });
const elementPair = (m: DnatMapping): NftJson => [
  elementKey(m),
  { goto: { target: mappingChainName(m.protocol, m.nodePort) } },
];

function staticChains(c: Ctx): NftObject[] {
  return [
    chainObj(c, 'prerouting', { type: 'nat', hook: 'prerouting', prio: -100 }),
    chainObj(c, 'output', { type: 'nat', hook: 'output', prio: -100 }),
    chainObj(c, 'postrouting', { type: 'nat', hook: 'postrouting', prio: 100 }),
    chainObj(c, MAPPINGS_CHAIN),
  ];
}

function staticRules(c: Ctx): NftObject[] {
  const localJump = [match({ fib: { result: 'type', flags: ['daddr'] } }, 'local'), { jump: { target: MAPPINGS_CHAIN } }];
  return [
    ruleObj(c, 'prerouting', localJump),
    ruleObj(c, 'output', localJump),
    ruleObj(c, 'postrouting', [match({ '&': [ctMark(), c.mark] }, 0, '!='), { masquerade: null }]),
    ruleObj(c, MAPPINGS_CHAIN, [
      { vmap: { key: { concat: [meta('l4proto'), payload('th', 'dport')] }, data: `@${MAP_NAME}` } },
    ]),
  ];
}

function dnatExpr(c: Ctx, m: DnatMapping): NftObject {
  const target: NftObject = { addr: m.podIP, port: m.podPort };
  return { dnat: c.family === 'ip6' ? { family: 'ip6', ...target } : target };
}

function mappingRules(c: Ctx, m: DnatMapping): NftObject[] {
  const chain = mappingChainName(m.protocol, m.nodePort);
  return [
    ruleObj(c, chain, [
      match(payload(c.family, 'saddr'), m.podIP),
      { mangle: { key: ctMark(), value: { '|': [ctMark(), c.mark] } } },
    ]),
    ruleObj(c, chain, [match(meta('l4proto'), m.protocol), dnatExpr(c, m)]),
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

const add = (o: NftObject): NftCommand => ({ add: o });
const del = (o: NftObject): NftCommand => ({ delete: o });
const flush = (o: NftObject): NftCommand => ({ flush: o });

/**
 * The whole table of one family replaced by exactly `mappings`, in one batch: `add table` then
 * `delete table` removes any previous content whether or not the table existed, then everything is
 * re-created. Throws NPL_ADDRESS_INVALID when a mapping is of another family.
 */
export function renderFullSync(family: IPFamily, mappings: readonly DnatMapping[], opts: NftOptions = {}): NftBatch {
  mappings.forEach((m) => checkFamily(family, m));
  const c = context(family, opts);
  const chains = mappings.map((m) => chainObj(c, mappingChainName(m.protocol, m.nodePort)));
  const elements = mappings.length > 0 ? [add(elementObj(c, mappings.map(elementPair)))] : [];
  return {
    nftables: [
      add(tableObj(c)),
      del(tableObj(c)),
      add(tableObj(c)),
      ...[...staticChains(c), ...chains, mapObj(c), ...staticRules(c)].map(add),
      ...mappings.flatMap((m) => mappingRules(c, m)).map(add),
      ...elements,
    ],
  };
}

/**
 * Installs one mapping in an existing table (after a full sync). Idempotent: the per-mapping chain
 * is flushed and re-filled, the element re-added. Fails (the batch is rejected) when the table is
 * absent. Throws NPL_ADDRESS_INVALID when the mapping is of another family.
 */
export function renderAdd(family: IPFamily, m: DnatMapping, opts: NftOptions = {}): NftBatch {
  checkFamily(family, m);
  const c = context(family, opts);
  const chain = chainObj(c, mappingChainName(m.protocol, m.nodePort));
  return {
    nftables: [add(chain), flush(chain), ...mappingRules(c, m).map(add), add(elementObj(c, [elementPair(m)]))],
  };
}

/**
 * Removes one mapping from an existing table. Idempotent: the chain and element are added before
 * being deleted, so an absent mapping is a success (nft 1.0.6 has no `destroy`). Fails when the
 * table is absent. The mapping is identified by protocol and node port only.
 */
export function renderDelete(family: IPFamily, m: DnatMapping, opts: NftOptions = {}): NftBatch {
  checkFamily(family, m);
  const c = context(family, opts);
  const chain = chainObj(c, mappingChainName(m.protocol, m.nodePort));
  return {
    nftables: [
      add(chain),
      add(elementObj(c, [elementPair(m)])),
      del(elementObj(c, [elementKey(m)])),
      flush(chain),
      del(chain),
    ],
  };
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

interface Dnat {
  readonly addr: string;
  readonly port: number;
}

function listItems(json: unknown): unknown[] {
  const doc = typeof json === 'string' ? (JSON.parse(json) as unknown) : json;
  const items = field(doc, 'nftables');
  return Array.isArray(items) ? items : [];
}

function dnatOfRule(rule: unknown): Dnat | undefined {
  const expr = field(rule, 'expr');
  if (!Array.isArray(expr)) return undefined;
  for (const e of expr) {
    const dnat = field(e, 'dnat');
    const addr = field(dnat, 'addr');
    const port = field(dnat, 'port');
    if (typeof addr === 'string' && typeof port === 'number') return { addr, port };
  }
  return undefined;
}

function dnatByChain(items: unknown[], table: string): Map<string, Dnat> {
  const out = new Map<string, Dnat>();
  for (const item of items) {
    const rule = field(item, 'rule');
    const chain = field(rule, 'chain');
    const dnat = dnatOfRule(rule);
    if (field(rule, 'table') === table && typeof chain === 'string' && dnat) out.set(chain, dnat);
  }
  return out;
}

interface Element {
  readonly protocol: Protocol;
  readonly nodePort: number;
  readonly target: string;
}

function parseElement(pair: unknown): Element | undefined {
  if (!Array.isArray(pair) || pair.length !== 2) return undefined;
  const key: unknown = field(pair[0], 'val') ?? pair[0];
  const parts = field(key, 'concat');
  const target = field(field(pair[1], 'goto'), 'target');
  if (!Array.isArray(parts) || parts.length !== 2 || typeof target !== 'string') return undefined;
  const protocol = PROTOCOL_NUMBERS[String(parts[0])];
  const nodePort: unknown = parts[1];
  return protocol && typeof nodePort === 'number' ? { protocol, nodePort, target } : undefined;
}

function findPortsMap(items: unknown[], table: string): Obj | undefined {
  for (const item of items) {
    const map = field(item, 'map');
    if (isObj(map) && map['table'] === table && map['name'] === MAP_NAME) return map;
  }
  return undefined;
}

/**
 * Reads the mappings back from `nft -j list table ip|ip6 <table>` output (a JSON string or the
 * parsed value): every element of the `ports` map whose target chain holds a dnat. Elements without
 * such a chain are left out (drift the caller repairs with a full sync). Sorted by protocol, then
 * node port; `[]` when the table or map is absent.
 */
export function parseNftRuleset(json: unknown, opts: NftOptions = {}): DnatMapping[] {
  const items = listItems(json);
  const table = opts.table ?? DEFAULT_NFT_TABLE;
  const map = findPortsMap(items, table);
  const elems = map?.['elem'];
  if (!map || !Array.isArray(elems)) return [];
  const family: IPFamily = map['family'] === 'ip6' ? 'IPv6' : 'IPv4';
  const dnats = dnatByChain(items, table);
  const out: DnatMapping[] = [];
  for (const el of elems.map(parseElement)) {
    const dnat = el && dnats.get(el.target);
    if (el && dnat) out.push({ family, protocol: el.protocol, nodePort: el.nodePort, podIP: dnat.addr, podPort: dnat.port });
  }
  return out.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.nodePort - b.nodePort);
}
