/**
 * Stale conntrack entries of our node ports. Netfilter NATs only the first packet of a flow: a UDP
 * client that keeps its source port keeps its conntrack entry, so after a mapping is added (the
 * entry was made before, without DNAT) or its node port moves to another pod (the entry DNATs to the
 * old pod) its datagrams never reach the new pod until the entry idles out. The agent deletes those
 * entries after each successful dataplane change; this module decides which (pure) and deletes them
 * through the `conntrack` CLI.
 *
 * Contract (as kube-proxy, whose `pkg/proxy/conntrack/cleanup.go` clears only UDP entries): only UDP
 * entries are deleted. TCP needs none: a TCP flow to a port that had no mapping was refused (RST) and
 * the client reconnects from a new source port, which makes a new entry that is DNATed; an
 * established TCP flow to a pod keeps going to that pod, as it should. SCTP is never mapped (Antrea
 * ignores SCTP Service ports). Only entries of ours are touched: original destination one of the
 * node's addresses of the family (Node status InternalIP/ExternalIP), original destination port the
 * node port, protocol UDP; a client that reaches the node port through another local address keeps
 * its entry until it idles out (nf_conntrack_udp_timeout, 30 s; 120 s once both sides sent).
 */
import type { DnatMapping, IPFamily, Protocol } from '@npl/core';
import { canonicalIP, ipFamilyOf } from '@npl/core';
import type { CommandRunner } from './exec.js';
import { mappingKey } from './mappings.js';

/** Protocols whose entries are cleared (see the module's contract). */
export const CONNTRACK_PROTOCOLS: readonly Protocol[] = ['udp'];

/** One `conntrack -D`: every entry of `protocol` whose original direction goes to `origDst:origDstPort`. */
export interface ConntrackFilter {
  readonly family: IPFamily;
  readonly protocol: Protocol;
  readonly origDst: string;
  readonly origDstPort: number;
}

/** A node port whose mapping changed: added, removed, or pointed at another pod endpoint. */
export interface ChangedPort {
  readonly protocol: Protocol;
  readonly nodePort: number;
}

/**
 * Deletes conntrack entries (one side effect, one interface). `clear` returns how many entries were
 * deleted (0 when none matched: not an error) and throws when the tool cannot run or fails; the
 * caller logs and counts that and does not retry.
 */
export interface ConntrackCleaner {
  clear(filter: ConntrackFilter): Promise<number>;
}

const portKey = (p: ChangedPort): string => `${p.protocol}/${p.nodePort}`;

function byPort(ms: readonly DnatMapping[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const m of ms) {
    const k = portKey(m);
    const set = out.get(k) ?? new Set<string>();
    set.add(mappingKey(m));
    out.set(k, set);
  }
  return out;
}

function sameSet(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.size === b.size && [...a].every((k) => b.has(k));
}

function sortPorts(ports: Iterable<ChangedPort>): ChangedPort[] {
  const unique = new Map<string, ChangedPort>();
  for (const p of ports) unique.set(portKey(p), { protocol: p.protocol, nodePort: p.nodePort });
  return [...unique.values()].sort((a, b) => a.nodePort - b.nodePort || a.protocol.localeCompare(b.protocol));
}

/**
 * The node ports whose mapping differs between `before` and `after` (present in one only, or to
 * another pod IP or port), sorted by port then protocol. `before` undefined (what is installed is
 * unknown) counts every port of `after` as changed.
 */
export function changedPorts(before: readonly DnatMapping[] | undefined, after: readonly DnatMapping[]): ChangedPort[] {
  if (before === undefined) return sortPorts(after);
  const b = byPort(before);
  const a = byPort(after);
  const keys = new Set([...b.keys(), ...a.keys()]);
  const changed = new Set([...keys].filter((k) => !sameSet(b.get(k), a.get(k))));
  return sortPorts([...before, ...after].filter((m) => changed.has(portKey(m))));
}

/** The node ports a `repair`/`replaceAll` to `expected` changes, from what `verify` found installed. */
export function changedPortsFromDrift(drift: { readonly missing: readonly DnatMapping[]; readonly unexpected: readonly DnatMapping[] }): ChangedPort[] {
  return sortPorts([...drift.missing, ...drift.unexpected]);
}

/**
 * The `conntrack -D` calls for `ports`: one per node address of `family` and changed port of a
 * protocol in CONNTRACK_PROTOCOLS; addresses of another family, or not IPs, are ignored. Sorted by
 * port, then address.
 */
export function conntrackFilters(family: IPFamily, ports: readonly ChangedPort[], nodeAddresses: readonly string[]): ConntrackFilter[] {
  const addresses = [...new Set(nodeAddresses.filter((a) => ipFamilyOf(a) === family).map((a) => canonicalIP(a) ?? a))];
  return sortPorts(ports)
    .filter((p) => CONNTRACK_PROTOCOLS.includes(p.protocol))
    .flatMap((p) => addresses.map((origDst) => ({ family, protocol: p.protocol, origDst, origDstPort: p.nodePort })));
}

/** `conntrack -D` arguments for a filter. */
export function conntrackDeleteArgs(f: ConntrackFilter): string[] {
  return ['-D', '-f', f.family === 'IPv4' ? 'ipv4' : 'ipv6', '-p', f.protocol, '--orig-dst', f.origDst, '--orig-port-dst', String(f.origDstPort)];
}

const DELETED = /(\d+) flow entries have been deleted/;

/** Entries deleted according to conntrack's summary line; undefined when there is none. */
export function parseDeletedCount(output: string): number | undefined {
  const m = DELETED.exec(output);
  return m ? Number(m[1]) : undefined;
}

/**
 * ConntrackCleaner through conntrack-tools' `conntrack` (Debian package conntrack). `conntrack -D`
 * exits 1 with "0 flow entries have been deleted." when nothing matched: that is 0, not an error.
 */
export class CliConntrackCleaner implements ConntrackCleaner {
  constructor(
    private readonly runner: CommandRunner,
    private readonly timeoutMs = 5_000,
  ) {}

  async clear(filter: ConntrackFilter): Promise<number> {
    const args = conntrackDeleteArgs(filter);
    const r = await this.runner.run('conntrack', args, { timeoutMs: this.timeoutMs });
    const deleted = parseDeletedCount(`${r.stderr}\n${r.stdout}`);
    if (deleted !== undefined && (r.exitCode === 0 || deleted === 0)) return deleted;
    const why = r.stderr.trim() || r.stdout.trim() || `exit code ${r.exitCode}`;
    throw new Error(`conntrack ${args.join(' ')} failed: ${why}`);
  }
}
