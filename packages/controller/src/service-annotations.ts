/**
 * The controller's own Service annotations (all optional). Each reader returns the value, or a
 * problem naming the annotation, the value and what was expected.
 */
import { canonicalAddress } from './ip.js';
import { objectNameProblem } from './names.js';

export const ANNOTATION_PREFIX = 'bigip.nodeportlocal.io';
/** Pool name instead of CIS's `<svc>_<port>_<ns>`; with several ports, `<value>_<port>`. */
export const POOL_NAME_ANNOTATION = `${ANNOTATION_PREFIX}/pool-name`;
/** `http`, `tcp`, or the full path of an existing monitor (`/Common/my_monitor`). */
export const MONITOR_ANNOTATION = `${ANNOTATION_PREFIX}/monitor`;
/** A BIG-IP load-balancing mode, e.g. `least-connections-member`. */
export const LB_MODE_ANNOTATION = `${ANNOTATION_PREFIX}/load-balancing-mode`;
/** `ADDRESS` (one virtual per Service port, on that port) or `ADDRESS:PORT` / `[V6]:PORT` (single-port Services). */
export const VIRTUAL_ANNOTATION = `${ANNOTATION_PREFIX}/virtual-server`;

/** BIG-IP's pool load-balancing modes (AS3 3.56 Pool.loadBalancingMode enum). */
export const LOAD_BALANCING_MODES = [
  'dynamic-ratio-member', 'dynamic-ratio-node', 'fastest-app-response', 'fastest-node', 'least-connections-member',
  'least-connections-node', 'least-sessions', 'observed-member', 'observed-node', 'predictive-member', 'predictive-node',
  'ratio-least-connections-member', 'ratio-least-connections-node', 'ratio-member', 'ratio-node', 'ratio-session',
  'round-robin', 'weighted-least-connections-member', 'weighted-least-connections-node',
] as const;

export type Read<T> = { ok: true; value: T } | { ok: false; problem: string };

const ok = <T>(value: T): Read<T> => ({ ok: true, value });
const bad = (key: string, value: string, expected: string): Read<never> => ({
  ok: false,
  problem: `annotation ${key} ${JSON.stringify(value)}: expected ${expected}`,
});

export function readPoolName(value: string | undefined): Read<string | undefined> {
  if (value === undefined) return ok(undefined);
  const problem = objectNameProblem(value);
  return problem ? bad(POOL_NAME_ANNOTATION, value, `a BIG-IP object name (${problem})`) : ok(value);
}

/** The monitor's full path. */
export function readMonitor(value: string | undefined): Read<string | undefined> {
  if (value === undefined) return ok(undefined);
  if (value === 'http' || value === 'tcp') return ok(`/Common/${value}`);
  if (/^\/[A-Za-z][\w.-]*(\/[\w.-]+)+$/.test(value)) return ok(value);
  return bad(MONITOR_ANNOTATION, value, 'http, tcp or the full path of an existing monitor such as /Common/my_monitor');
}

export function readLoadBalancingMode(value: string | undefined): Read<string | undefined> {
  if (value === undefined) return ok(undefined);
  return (LOAD_BALANCING_MODES as readonly string[]).includes(value)
    ? ok(value)
    : bad(LB_MODE_ANNOTATION, value, `one of ${LOAD_BALANCING_MODES.join(', ')}`);
}

export interface VirtualSpec {
  readonly address: string;
  /** Undefined: the Service port. */
  readonly port?: number;
}

function splitHostPort(value: string): { address: string | undefined; port: number | undefined } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(value);
  if (!m) return { address: canonicalAddress(value), port: undefined };
  return { address: canonicalAddress(m[1] ?? m[2] ?? ''), port: Number(m[3]) };
}

export function readVirtual(value: string | undefined, servicePorts: number): Read<VirtualSpec | undefined> {
  if (value === undefined) return ok(undefined);
  const expected = 'an IP address, ADDRESS:PORT or [IPV6]:PORT (a port only for Services with one port)';
  const { address, port } = splitHostPort(value);
  if (address === undefined || (port !== undefined && (port < 1 || port > 65535))) return bad(VIRTUAL_ANNOTATION, value, expected);
  if (port !== undefined && servicePorts > 1) return bad(VIRTUAL_ANNOTATION, value, `${expected}; this Service has ${servicePorts} ports`);
  return ok(port === undefined ? { address } : { address, port });
}
