/**
 * Pure checks of `nft -j list table` output against what the core renderer would install: the
 * static part (hook chains, their rules, the two maps and the hairpin set) and the elements (keys
 * in only one map, hairpin elements missing or left over). Objects are compared as canonical JSON,
 * so the check follows the renderer instead of restating it.
 */
import { NFT_HAIRPIN_SET, canonicalIP, parseNftTable, renderFullSync } from '@npl/core';
import type { DnatMapping, IPFamily, NftBatch, NftOptions } from '@npl/core';
import { mappingKey } from './mappings.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Sorted keys, no `handle`, one-element arrays as their element (nft prints single flags either
 * way depending on the version), no `family` inside `dnat` (the listing leaves it out).
 */
function normalize(v: unknown, parentKey = ''): unknown {
  if (Array.isArray(v)) return v.length === 1 ? normalize(v[0], parentKey) : v.map((x) => normalize(x, parentKey));
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const key of Object.keys(v).sort()) {
    if (key === 'handle' || key === 'elem' || (parentKey === 'dnat' && key === 'family')) continue;
    out[key] = normalize(v[key], key);
  }
  return out;
}

const canonical = (v: unknown): string => JSON.stringify(normalize(v));

interface Listed {
  /** Rules in listing order (chain order), canonical, per chain name. */
  readonly rules: Map<string, string[]>;
  /** Chain and map objects, canonical, by `chain <name>` / `map <name>`. */
  readonly objects: Map<string, string>;
}

function nameOf(kind: string, o: Obj): string {
  return `${kind} ${String(o['name'])}`;
}

function entryOf(item: unknown, table: string): [string, Obj][] {
  const entry: [string, unknown] | undefined = isObj(item) ? Object.entries(item)[0] : undefined;
  if (!entry) return [];
  const [kind, body] = entry;
  return isObj(body) && body['table'] === table ? [[kind, body]] : [];
}

function collect(items: readonly unknown[], table: string): Listed {
  const rules = new Map<string, string[]>();
  const objects = new Map<string, string>();
  for (const [kind, body] of items.flatMap((item) => entryOf(item, table))) {
    if (kind === 'rule') {
      const chain = String(body['chain']);
      rules.set(chain, [...(rules.get(chain) ?? []), canonical(body['expr'])]);
    } else if (kind === 'chain' || kind === 'map' || kind === 'set') {
      objects.set(nameOf(kind, body), canonical(body));
    }
  }
  return { rules, objects };
}

function batchItems(batch: NftBatch): unknown[] {
  return batch.nftables.flatMap((c) => ('add' in c ? [c.add] : []));
}

function listItems(listing: unknown): unknown[] {
  const doc = typeof listing === 'string' ? (JSON.parse(listing) as unknown) : listing;
  const items = isObj(doc) ? doc['nftables'] : undefined;
  return Array.isArray(items) ? items : [];
}

function staticObjectDrift(want: Listed, got: Listed): string[] {
  const out: string[] = [];
  for (const [name, body] of want.objects) {
    const actual = got.objects.get(name);
    if (actual === undefined) out.push(`${name} is missing`);
    else if (actual !== body) out.push(`${name} differs: ${actual}`);
  }
  for (const name of got.objects.keys()) {
    if (!want.objects.has(name)) out.push(`unexpected ${name}`);
  }
  return out;
}

function staticRuleDrift(want: Listed, got: Listed): string[] {
  const out: string[] = [];
  for (const [chain, rules] of want.rules) {
    const actual = got.rules.get(chain) ?? [];
    if (actual.join('\n') !== rules.join('\n')) out.push(`rules of chain ${chain} differ: [${actual.join(', ')}]`);
  }
  return out;
}

export interface NftInspection {
  readonly installed: DnatMapping[];
  /** mappingKey of installed mappings that would not work fully: their pod IP's hairpin element is missing. */
  readonly damaged: Set<string>;
  readonly staticProblems: string[];
}

const ipKey = (ip: string): string => canonicalIP(ip) ?? ip;

/**
 * Reads a listing of our table: installed mappings (keys in both maps, core's parseNftTable),
 * mappings whose pod IP lost its hairpin element (damaged: hairpin through the node port fails),
 * and static drift: a deleted or altered jump, dnat or masquerade rule, a missing or altered map,
 * set or chain (hook, priority), unexpected objects, keys in only one map, and hairpin elements no
 * mapping needs.
 */
export function inspectNftListing(listing: unknown, family: IPFamily, opts: NftOptions = {}): NftInspection {
  const items = listItems(listing);
  const table = opts.table ?? 'npl';
  const got = collect(items, table);
  const want = collect(batchItems(renderFullSync(family, [], opts)), table);
  const content = parseNftTable({ nftables: items }, opts);
  const staticProblems = [...staticObjectDrift(want, got), ...staticRuleDrift(want, got)];
  for (const half of content.inconsistent) {
    const other = half.map === 'addrs' ? 'ports' : 'addrs';
    staticProblems.push(`map ${half.map} element ${half.protocol} . ${half.nodePort} : ${half.value} has no ${other} element`);
  }
  const installed = content.mappings;
  const halves = content.inconsistent.flatMap((h) => (typeof h.value === 'string' ? [h.value] : []));
  const needed = new Set([...installed.map((m) => m.podIP), ...halves].map(ipKey));
  const hairpin = new Set<string>();
  for (const [a, b] of content.hairpin) {
    if (ipKey(a) !== ipKey(b)) staticProblems.push(`set ${NFT_HAIRPIN_SET} element ${a} . ${b} is not a pod IP pair`);
    else if (!needed.has(ipKey(a))) staticProblems.push(`set ${NFT_HAIRPIN_SET} element ${a} . ${b}: no mapping has this pod IP`);
    else hairpin.add(ipKey(a));
  }
  const damaged = new Set(installed.filter((m) => !hairpin.has(ipKey(m.podIP))).map(mappingKey));
  return { installed, damaged, staticProblems };
}
