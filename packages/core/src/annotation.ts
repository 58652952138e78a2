/**
 * The Pod annotation `nodeportlocal.antrea.io`: its wire format, written exactly as Antrea v2.6+
 * writes it and read in every format Antrea ever wrote (§1 of the contract).
 */
import { NplError } from './errors.js';
import { canonicalIP, ipFamilyOf } from './ip.js';
import type { IPFamily, Protocol } from './types.js';

/** Pod annotation holding the mappings (written by the agent). */
export const NPL_ANNOTATION_KEY = 'nodeportlocal.antrea.io';

/** Service annotation opting in; only the exact string `"true"` enables NodePortLocal. */
export const NPL_ENABLED_ANNOTATION_KEY = 'nodeportlocal.antrea.io/enabled';

/** One mapping as the annotation carries it (Antrea's NPLAnnotation, v2.6+). */
export interface NplAnnotationEntry {
  readonly podPort: number;
  readonly nodeIP: string;
  readonly nodePort: number;
  readonly protocol: Protocol;
  readonly ipFamily: IPFamily;
}

/** The five compared fields, loosely typed so that parsed incomplete entries compare too. */
export interface NplAnnotationFields {
  readonly podPort: number;
  readonly nodeIP: string;
  readonly nodePort: number;
  readonly protocol: string;
  readonly ipFamily: string;
}

/**
 * Why a parsed entry cannot be restored. Antrea skips an entry with nodePort 0, podPort 0 or an empty
 * protocol ("incomplete rule"), and drops one whose protocol is neither tcp nor udp when binding its
 * socket fails; a port outside 1-65535 can never be restored either.
 */
export type IncompleteReason =
  | 'podPort-missing'
  | 'podPort-out-of-range'
  | 'nodePort-missing'
  | 'nodePort-out-of-range'
  | 'protocol-missing'
  | 'protocol-unsupported';

interface ParsedCommon {
  /** Position of the source object in the annotation array. */
  readonly index: number;
  /**
   * True when the source object is not in the current (v2.6+) shape: no `ipFamily` or one other than
   * exactly `IPv4`/`IPv6`, no `protocol`, or a deprecated `protocols` array. The agent re-patches such
   * an annotation even when its mappings are unchanged (see annotationUpToDate).
   */
  readonly legacyFormat: boolean;
  /**
   * Set when the source object has no `protocol` field (v0.13-v1.6 shapes). The protocol is then
   * inferred for consumers (tcp, or each of `protocols`), but Antrea's restore reads such an entry
   * as protocol "" — an incomplete rule it does not restore — and so does planRestore.
   */
  readonly protocolMissing?: true;
}

/** A restorable entry. */
export interface CompleteNplEntry extends NplAnnotationEntry, ParsedCommon {
  readonly incomplete?: undefined;
}

/** An entry to skip individually at restore; fields hold what was read (0 / '' when missing). */
export interface IncompleteNplEntry extends NplAnnotationFields, ParsedCommon {
  readonly ipFamily: IPFamily;
  readonly incomplete: IncompleteReason;
}

export type ParsedNplEntry = CompleteNplEntry | IncompleteNplEntry;

/** True when the entry can be restored. */
export function isCompleteNplEntry(entry: ParsedNplEntry): entry is CompleteNplEntry {
  return entry.incomplete === undefined;
}

/**
 * The annotation's `ipFamily` value for a Kubernetes IP family (`spec.ipFamilies[]` value); the two
 * use the same spelling. Undefined for anything but `IPv4`/`IPv6`.
 */
export function ipFamilyForAnnotation(family: string): IPFamily | undefined {
  return family === 'IPv4' || family === 'IPv6' ? family : undefined;
}

function compareEntries(a: NplAnnotationFields, b: NplAnnotationFields): number {
  return (
    a.nodePort - b.nodePort ||
    compareText(a.ipFamily, b.ipFamily) ||
    compareText(a.protocol, b.protocol) ||
    a.podPort - b.podPort ||
    compareText(a.nodeIP, b.nodeIP)
  );
}

function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function canonicalNodeIP(entry: NplAnnotationEntry, index: number): string {
  const ip = canonicalIP(entry.nodeIP);
  if (ip === undefined || ipFamilyOf(ip) !== entry.ipFamily) {
    throw new NplError(
      'NPL_ADDRESS_INVALID',
      `${NPL_ANNOTATION_KEY} entry ${index}: nodeIP ${JSON.stringify(entry.nodeIP)} is not an ${entry.ipFamily} address`,
    );
  }
  return ip;
}

/**
 * The annotation value Antrea v2.6+ writes: compact JSON, keys podPort,nodeIP,nodePort,protocol,ipFamily
 * in that order, nodeIP in Go `net.IP.String()` form. Entries are sorted by nodePort, then ipFamily
 * (IPv4 first) — the order Antrea's compareNPLAnnotationLists produces — and, so that the output
 * depends only on the set of entries, then by protocol, podPort and nodeIP. Duplicates are kept.
 * `[]` for no entries (the agent removes the key instead of writing it).
 * Throws NplError NPL_ADDRESS_INVALID when a nodeIP is not an address of the entry's ipFamily.
 */
export function formatNplAnnotation(entries: readonly NplAnnotationEntry[]): string {
  const canonical = entries.map((entry, index) => ({ ...entry, nodeIP: canonicalNodeIP(entry, index) }));
  canonical.sort(compareEntries);
  return JSON.stringify(
    canonical.map(({ podPort, nodeIP, nodePort, protocol, ipFamily }) => ({ podPort, nodeIP, nodePort, protocol, ipFamily })),
  );
}

/**
 * Reads an annotation value written by any Antrea version (v0.13 to v2.6+), like Go's `json.Unmarshal`:
 * keys match case-insensitively (the last of equal keys wins), unknown keys are ignored, `null` (the
 * whole value, an entry, or a field) reads as empty/zero. Beyond Go:
 * - no `protocol` and no `protocols` (v0.13-v1.3) reads as tcp;
 * - a `protocols` array without `protocol` (v1.4-v1.6) yields one entry per distinct protocol, all with
 *   the entry's shared nodePort; with `protocol` present (v1.7-v1.15) `protocols` is ignored;
 * - `ipFamily` exactly `IPv6` reads as IPv6, anything else (absent, `""`, `ipv6`) as IPv4, as Antrea's
 *   restore does;
 * - entries that cannot be restored are returned with `incomplete` set instead of failing the whole
 *   value, so the caller can skip them one by one (Antrea's "incomplete rule").
 * Numbers are read after JSON decoding, so `80.0` or `8e1` are accepted where Go would reject them.
 * Entries come in source order (a `protocols` entry expanding in place); nodeIP is kept verbatim.
 * Throws NplError NPL_ANNOTATION_INVALID, naming the entry index and field, for: an empty or
 * non-JSON value, a value other than an array or null, an entry other than an object or null, and a
 * field of the wrong JSON type.
 */
export function parseNplAnnotation(text: string): ParsedNplEntry[] {
  const value = decodeJson(text);
  if (value === null) return [];
  if (!Array.isArray(value)) throw invalid(`expected a JSON array or null, got ${describeValue(value)}`);
  return value.flatMap((item: unknown, index) => readEntry(item, index));
}

function invalid(reason: string, cause?: unknown): NplError {
  return new NplError('NPL_ANNOTATION_INVALID', `${NPL_ANNOTATION_KEY} annotation: ${reason}`, { cause });
}

function decodeJson(text: string): unknown {
  if (text.trim() === '') throw invalid(`value ${JSON.stringify(text)} is empty, expected a JSON array`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalid(`value is not valid JSON (${(err as Error).message})`, err);
  }
}

function describeValue(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const shown = JSON.stringify(value);
  return `${type} ${shown.length > 40 ? `${shown.slice(0, 37)}...` : shown}`;
}

type Fields = ReadonlyMap<string, unknown>;

function foldKeys(item: object): Fields {
  const fields = new Map<string, unknown>();
  for (const [key, value] of Object.entries(item)) fields.set(key.toLowerCase(), value);
  return fields;
}

function fieldError(index: number, name: string, expected: string, value: unknown): NplError {
  return invalid(`entry ${index} field "${name}": expected ${expected}, got ${describeValue(value)}`);
}

function readInt(fields: Fields, name: string, index: number): number {
  const value = fields.get(name.toLowerCase());
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw fieldError(index, name, 'an integer', value);
  return value;
}

function readString(fields: Fields, name: string, index: number): string | undefined {
  const value = fields.get(name.toLowerCase());
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw fieldError(index, name, 'a string', value);
  return value;
}

function readProtocols(fields: Fields, index: number): { protocols: string[]; legacy: boolean; missing?: true } {
  const hasProtocols = fields.has('protocols');
  const protocol = readString(fields, 'protocol', index);
  if (protocol !== undefined) return { protocols: [protocol], legacy: hasProtocols };
  const list = fields.get('protocols');
  if (list === undefined || list === null) return { protocols: ['tcp'], legacy: true, missing: true };
  if (!Array.isArray(list)) throw fieldError(index, 'protocols', 'an array of strings', list);
  const protocols = list.map((item: unknown, i) => {
    if (item === null) return '';
    if (typeof item !== 'string') throw fieldError(index, `protocols[${i}]`, 'a string', item);
    return item;
  });
  return { protocols: protocols.length === 0 ? [''] : [...new Set(protocols)], legacy: true, missing: true };
}

function readEntry(item: unknown, index: number): ParsedNplEntry[] {
  if (item !== null && (typeof item !== 'object' || Array.isArray(item))) {
    throw invalid(`entry ${index}: expected a JSON object, got ${describeValue(item)}`);
  }
  const fields = foldKeys(item ?? {});
  const podPort = readInt(fields, 'podPort', index);
  const nodeIP = readString(fields, 'nodeIP', index) ?? '';
  const nodePort = readInt(fields, 'nodePort', index);
  const { protocols, legacy, missing } = readProtocols(fields, index);
  const rawFamily = readString(fields, 'ipFamily', index);
  const ipFamily: IPFamily = rawFamily === 'IPv6' ? 'IPv6' : 'IPv4';
  const legacyFormat = legacy || (rawFamily !== 'IPv4' && rawFamily !== 'IPv6');
  return protocols.map((protocol): ParsedNplEntry => {
    const common = { index, legacyFormat, podPort, nodeIP, nodePort, ipFamily, ...(missing ? { protocolMissing: true as const } : {}) };
    const incomplete = incompleteReason(podPort, nodePort, protocol);
    if (incomplete) return { ...common, protocol, incomplete };
    return { ...common, protocol: protocol as Protocol };
  });
}

function isPort(port: number): boolean {
  return port >= 1 && port <= 65535;
}

function incompleteReason(podPort: number, nodePort: number, protocol: string): IncompleteReason | undefined {
  if (podPort === 0) return 'podPort-missing';
  if (!isPort(podPort)) return 'podPort-out-of-range';
  if (nodePort === 0) return 'nodePort-missing';
  if (!isPort(nodePort)) return 'nodePort-out-of-range';
  if (protocol === '') return 'protocol-missing';
  if (protocol !== 'tcp' && protocol !== 'udp') return 'protocol-unsupported';
  return undefined;
}

function fieldsOf(entry: NplAnnotationFields): NplAnnotationFields {
  const { podPort, nodeIP, nodePort, protocol, ipFamily } = entry;
  return { podPort, nodeIP, nodePort, protocol, ipFamily };
}

/**
 * True when both lists hold the same entries, comparing the five fields exactly (nodeIP as text) and
 * ignoring order: Antrea's compareNPLAnnotationLists (same length, element-wise equal after sorting),
 * i.e. multiset equality, but with a total sort order so that entries sharing nodePort and ipFamily
 * (tcp and udp on one number, hostPorts) never produce a spurious difference. Inputs are not modified.
 */
export function annotationsEqual(a: readonly NplAnnotationFields[], b: readonly NplAnnotationFields[]): boolean {
  if (a.length !== b.length) return false;
  const sortedA = a.map(fieldsOf).sort(compareEntries);
  const sortedB = b.map(fieldsOf).sort(compareEntries);
  return sortedA.every((entry, i) => {
    const other = sortedB[i];
    return other !== undefined && compareEntries(entry, other) === 0;
  });
}

/**
 * True when the existing annotation needs no patch to carry `required`: every parsed entry is
 * complete and in the current format, and the lists are annotationsEqual. An old-format or partly
 * invalid annotation is therefore rewritten once even when its mappings are unchanged, so consumers
 * always see `protocol` and `ipFamily`.
 */
export function annotationUpToDate(existing: readonly ParsedNplEntry[], required: readonly NplAnnotationEntry[]): boolean {
  return existing.every((entry) => isCompleteNplEntry(entry) && !entry.legacyFormat) && annotationsEqual(existing, required);
}
