/**
 * Output of `nplctl list` (table or JSON, schema version 1) and of `nplctl check` (one line per
 * check). Pure: strings in, strings out.
 */
import type { Listing } from './list.js';

export const LIST_SCHEMA_VERSION = 1;

/** `ip:port`, IPv6 in brackets. */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Columns padded to their widest cell, two spaces apart, no trailing spaces. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [header, ...rows].map(line).join('\n') + '\n';
}

/**
 * The table on stdout (NAMESPACE, POD, NODE, POD PORT, FAMILY, NODE ADDRESS), or `No mappings
 * found.`; problems go to stderr, one line each, `<namespace>/<pod> on <node>: <message>`.
 */
export function formatListTable(listing: Listing): { stdout: string; stderr: string } {
  const rows = listing.mappings.map((m) => [m.namespace, m.pod, m.node, `${m.podPort}/${m.protocol}`, m.family, hostPort(m.nodeIP, m.nodePort)]);
  const stdout = rows.length === 0 ? 'No mappings found.\n' : renderTable(['NAMESPACE', 'POD', 'NODE', 'POD PORT', 'FAMILY', 'NODE ADDRESS'], rows);
  const stderr = listing.problems.map((p) => `nplctl: ${p.namespace}/${p.pod}${p.node ? ` on ${p.node}` : ''}: ${p.message}\n`).join('');
  return { stdout, stderr };
}

/** `{"schemaVersion":1,"mappings":[…],"problems":[…]}`, indented, on stdout. */
export function formatListJson(listing: Listing): string {
  return JSON.stringify({ schemaVersion: LIST_SCHEMA_VERSION, mappings: listing.mappings, problems: listing.problems }, null, 2) + '\n';
}

/** One check's outcome: passed, failed, or not applicable (skipped, with why). */
export interface CheckLine {
  readonly status: 'pass' | 'fail' | 'skip';
  /** What was checked and what was found. */
  readonly text: string;
  /** For a failure: what to do next. */
  readonly hint?: string;
}

const MARK: Record<CheckLine['status'], string> = { pass: '✔', fail: '✘', skip: '-' };

/** One line per check: `✔ text`, `✘ text: hint` (hint after ` — `), `- text`. */
export function formatCheckLines(lines: readonly CheckLine[]): string {
  return lines.map((l) => `${MARK[l.status]} ${l.text}${l.status === 'fail' && l.hint ? ` — ${l.hint}` : ''}\n`).join('');
}

/** 0 when no check failed, 1 otherwise. */
export function checkExitCode(lines: readonly CheckLine[]): 0 | 1 {
  return lines.some((l) => l.status === 'fail') ? 1 : 0;
}
