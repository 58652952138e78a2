/**
 * The node port range (`nodePortLocal.portRange`, `--port-range`): parsing, formatting and the
 * overlap check against the kernel's ephemeral port range (Antrea issue #2381).
 */
import { NplError } from './errors.js';
import type { PortRange } from './types.js';

/** Antrea's Linux default, chosen above the usual `ip_local_port_range` (32768-60999). */
export const DEFAULT_PORT_RANGE: PortRange = Object.freeze({ start: 61000, end: 62000 });

/** Antrea's Windows default (kept for reference; this agent runs on Linux). */
export const WINDOWS_DEFAULT_PORT_RANGE: PortRange = Object.freeze({ start: 40000, end: 41000 });

/** Inclusive span of ports with `start <= end` (a single port allowed), e.g. an overlap. */
export interface PortSpan {
  readonly start: number;
  readonly end: number;
}

const MIN_PORT = 1;
const MAX_PORT = 65535;
const RANGE_RE = /^(\d+)-(\d+)$/;
const KERNEL_RANGE_RE = /^\s*(\d+)\s+(\d+)\s*$/;
const EPHEMERAL_FIELD = 'net.ipv4.ip_local_port_range';

export interface ParsePortRangeOptions {
  /** Name of the setting, quoted in error messages (default `port range`). */
  readonly field?: string;
}

/**
 * Reads `start-end`: two unsigned decimal integers, no whitespace or other characters, each within
 * 1-65535, start < end. Stricter than Antrea, which only requires end > start.
 * Throws NplError NPL_PORT_RANGE_INVALID naming the field and quoting the value, e.g.
 * `--port-range "62000-61000": start port must be smaller than end port`.
 */
export function parsePortRange(text: string, options: ParsePortRangeOptions = {}): PortRange {
  const fail = (reason: string): NplError =>
    new NplError('NPL_PORT_RANGE_INVALID', `${options.field ?? 'port range'} ${JSON.stringify(text)}: ${reason}`);
  if (text === '') throw fail('is empty, expected start-end (e.g. 61000-62000)');
  const match = RANGE_RE.exec(text);
  if (!match) throw fail('expected start-end with two decimal port numbers (e.g. 61000-62000)');
  const [, startText = '', endText = ''] = match;
  const start = Number(startText);
  const end = Number(endText);
  if (!isPort(start)) throw fail(`start port ${startText} is outside ${MIN_PORT}-${MAX_PORT}`);
  if (!isPort(end)) throw fail(`end port ${endText} is outside ${MIN_PORT}-${MAX_PORT}`);
  if (start >= end) throw fail('start port must be smaller than end port');
  return { start, end };
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= MIN_PORT && port <= MAX_PORT;
}

/** `start-end`, the text parsePortRange reads. */
export function formatPortRange(range: PortSpan): string {
  return `${range.start}-${range.end}`;
}

/** Number of ports in the inclusive range (61000-62000 has 1001). */
export function portRangeSize(range: PortSpan): number {
  return range.end - range.start + 1;
}

/** True when start <= port <= end. */
export function inPortRange(range: PortSpan, port: number): boolean {
  return port >= range.start && port <= range.end;
}

/** True when the two inclusive ranges share at least one port. */
export function rangesOverlap(a: PortSpan, b: PortSpan): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/** The ports both ranges contain; undefined when they are disjoint. */
export function rangeIntersection(a: PortSpan, b: PortSpan): PortSpan | undefined {
  if (!rangesOverlap(a, b)) return undefined;
  return { start: Math.max(a.start, b.start), end: Math.min(a.end, b.end) };
}

/**
 * Parses the kernel's `net.ipv4.ip_local_port_range` text (`"32768\t60999\n"`: two integers separated
 * by whitespace, low <= high, both within 1-65535).
 * Throws NplError NPL_PORT_RANGE_INVALID when the text is not of that form.
 */
export function parseEphemeralPortRange(text: string): PortSpan {
  const fail = (reason: string): NplError =>
    new NplError('NPL_PORT_RANGE_INVALID', `${EPHEMERAL_FIELD} ${JSON.stringify(text)}: ${reason}`);
  const match = KERNEL_RANGE_RE.exec(text);
  if (!match) throw fail('expected two port numbers separated by whitespace (e.g. "32768\\t60999")');
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (!isPort(start) || !isPort(end)) throw fail(`ports must be within ${MIN_PORT}-${MAX_PORT}`);
  if (start > end) throw fail('low port must not be greater than high port');
  return { start, end };
}

/**
 * The part of `range` the kernel may hand out as ephemeral source ports (and so may already be bound
 * when NPL tries to reserve it); undefined when there is no overlap.
 * Throws NplError NPL_PORT_RANGE_INVALID when `ipLocalPortRangeText` is malformed.
 */
export function ephemeralOverlap(range: PortSpan, ipLocalPortRangeText: string): PortSpan | undefined {
  return rangeIntersection(range, parseEphemeralPortRange(ipLocalPortRangeText));
}
