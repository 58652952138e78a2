/**
 * Pure checks of `nft -j list table` output against what the core renderer would install: the
 * static part (hook chains, their rules, the map) and each mapping's own chain. Objects are
 * compared as canonical JSON, so the check follows the renderer instead of restating it.
 */
import { mappingChainName, parseNftRuleset, renderFullSync } from '@npl/core';
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
  readonly elementCount: number;
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
  let elementCount = 0;
  for (const [kind, body] of items.flatMap((item) => entryOf(item, table))) {
    if (kind === 'rule') {
      const chain = String(body['chain']);
      rules.set(chain, [...(rules.get(chain) ?? []), canonical(body['expr'])]);
    } else if (kind === 'chain' || kind === 'map' || kind === 'set') {
      objects.set(nameOf(kind, body), canonical(body));
      if (Array.isArray(body['elem'])) elementCount += body['elem'].length;
    }
  }
  return { rules, objects, elementCount };
}

function batchItems(batch: NftBatch): unknown[] {
  return batch.nftables.flatMap((c) => ('add' in c ? [c.add] : []));
}

function listItems(listing: unknown): unknown[] {
  const doc = typeof listing === 'string' ? (JSON.parse(listing) as unknown) : listing;
  const items = isObj(doc) ? doc['nftables'] : undefined;
  return Array.isArray(items) ? items : [];
}

const isMappingChain = (name: string): boolean => name.startsWith('chain m-');

function staticObjectDrift(want: Listed, got: Listed): string[] {
  const out: string[] = [];
  for (const [name, body] of want.objects) {
    const actual = got.objects.get(name);
    if (actual === undefined) out.push(`${name} is missing`);
    else if (actual !== body) out.push(`${name} differs: ${actual}`);
  }
  for (const name of got.objects.keys()) {
    if (!want.objects.has(name) && !isMappingChain(name)) out.push(`unexpected ${name}`);
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
  /** mappingKey of installed mappings whose own chain differs from what we would install. */
  readonly damaged: Set<string>;
  readonly staticProblems: string[];
}

/**
 * Reads a listing of our table: installed mappings (core's parseNftRuleset), mappings whose chain
 * was altered (e.g. the hairpin mark rule removed), and static drift (a deleted jump rule, a chain
 * with another hook or priority, map elements that lead to no dnat).
 */
export function inspectNftListing(listing: unknown, family: IPFamily, opts: NftOptions = {}): NftInspection {
  const items = listItems(listing);
  const table = opts.table ?? 'npl';
  const got = collect(items, table);
  const installed = parseNftRuleset({ nftables: items }, opts);
  const want = collect(batchItems(renderFullSync(family, [], opts)), table);
  const staticProblems = [...staticObjectDrift(want, got), ...staticRuleDrift(want, got)];
  if (got.elementCount !== installed.length) {
    staticProblems.push(`${got.elementCount - installed.length} map element(s) lead to no dnat rule`);
  }
  const rendered = collect(batchItems(renderFullSync(family, installed, opts)), table).rules;
  const damaged = new Set<string>();
  for (const m of installed) {
    const chain = mappingChainName(m.protocol, m.nodePort);
    if ((got.rules.get(chain) ?? []).join('\n') !== (rendered.get(chain) ?? []).join('\n')) damaged.add(mappingKey(m));
  }
  return { installed, damaged, staticProblems };
}
