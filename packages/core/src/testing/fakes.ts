/**
 * Stateful in-memory doubles of the port table's side effects, for unit tests of @npl/core and of
 * the agent. Each keeps the state a real implementation would hold and dumps it as canonical text.
 */
import type { MappingRules, PortReservation, PortReserver } from '../port-table.js';
import { joinHostPort } from '../render-iptables.js';
import type { DnatMapping, IPFamily, Protocol } from '../types.js';

const PROTOCOL_ORDER: Record<Protocol, number> = { tcp: 0, udp: 1 };
const FAMILY_ORDER: Record<IPFamily, number> = { IPv4: 0, IPv6: 1 };

interface HeldPort {
  readonly port: number;
  readonly protocol: Protocol;
  readonly family: IPFamily;
}

const heldKey = (port: number, protocol: Protocol, family: IPFamily): string => `${family}/${protocol}/${port}`;

function compareHeld(a: HeldPort, b: HeldPort): number {
  return (
    FAMILY_ORDER[a.family] - FAMILY_ORDER[b.family] ||
    PROTOCOL_ORDER[a.protocol] - PROTOCOL_ORDER[b.protocol] ||
    a.port - b.port
  );
}

/**
 * A PortReserver over an in-memory socket table. A port is bindable unless it is held (by the code
 * under test) or made unavailable (held by "another process"). Every reserve attempt is logged as
 * `<family> <protocol> <port>` in `attempts`, in call order.
 */
export class FakePortReserver implements PortReserver {
  readonly attempts: string[] = [];
  private readonly held = new Map<string, HeldPort>();
  private readonly unavailable = new Set<string>();
  private reserveFailures: Error[] = [];
  private releaseFailures: Error[] = [];

  /** Makes the port unbindable, as if another process held it; both families when omitted. */
  makeUnavailable(port: number, protocol: Protocol, family?: IPFamily): void {
    for (const f of family ? [family] : (['IPv4', 'IPv6'] as const)) this.unavailable.add(heldKey(port, protocol, f));
  }

  /** Undoes `makeUnavailable`. */
  makeAvailable(port: number, protocol: Protocol, family?: IPFamily): void {
    for (const f of family ? [family] : (['IPv4', 'IPv6'] as const)) this.unavailable.delete(heldKey(port, protocol, f));
  }

  /** The next `n` reserve calls throw `error` whatever the port. */
  failNextReserves(n: number, error: Error = new Error('bind: address already in use')): void {
    this.reserveFailures = Array.from({ length: n }, () => error);
  }

  /** The next `n` releases throw `error`; the port stays held, so a later release can succeed. */
  failNextReleases(n: number, error: Error = new Error('close error')): void {
    this.releaseFailures = Array.from({ length: n }, () => error);
  }

  /** True when the code under test holds the port. */
  isHeld(port: number, protocol: Protocol, family: IPFamily): boolean {
    return this.held.has(heldKey(port, protocol, family));
  }

  /** True when a reserve of the port would succeed (ignoring injected failures). */
  canReserve(port: number, protocol: Protocol, family: IPFamily): boolean {
    const key = heldKey(port, protocol, family);
    return !this.held.has(key) && !this.unavailable.has(key);
  }

  reserve(port: number, protocol: Protocol, family: IPFamily): Promise<PortReservation> {
    const key = heldKey(port, protocol, family);
    this.attempts.push(`${family} ${protocol} ${port}`);
    const injected = this.reserveFailures.shift();
    if (injected) return Promise.reject(injected);
    if (!this.canReserve(port, protocol, family)) {
      return Promise.reject(new Error(`listen ${family} ${protocol} :${port}: address already in use`));
    }
    this.held.set(key, { port, protocol, family });
    return Promise.resolve({ release: () => this.release(key) });
  }

  /** One line per held port, `held <family> <protocol> <port>`, sorted; `""` when none. */
  dump(): string {
    return [...this.held.values()]
      .sort(compareHeld)
      .map((h) => `held ${h.family} ${h.protocol} ${h.port}\n`)
      .join('');
  }

  private release(key: string): Promise<void> {
    const injected = this.releaseFailures.shift();
    if (injected) return Promise.reject(injected);
    if (!this.held.delete(key)) return Promise.reject(new Error(`double release of ${key}`));
    return Promise.resolve();
  }
}

type RulesOp = 'add' | 'delete' | 'replaceAll';

const mappingKey = (m: DnatMapping): string => `${m.protocol}/${m.nodePort}`;

function sameMapping(a: DnatMapping, b: DnatMapping): boolean {
  return (
    a.family === b.family &&
    a.protocol === b.protocol &&
    a.nodePort === b.nodePort &&
    a.podIP === b.podIP &&
    a.podPort === b.podPort
  );
}

function compareMappings(a: DnatMapping, b: DnatMapping): number {
  return PROTOCOL_ORDER[a.protocol] - PROTOCOL_ORDER[b.protocol] || a.nodePort - b.nodePort;
}

/**
 * One family's dataplane in memory, keyed like the nftables map (protocol, node port): `add`
 * installs or replaces, `delete` removes only an identical mapping (absent = success), `replaceAll`
 * swaps the whole set. Failures are injected per operation; a failed call changes nothing.
 */
export class FakeMappingRules implements MappingRules {
  readonly calls: Record<RulesOp, number> = { add: 0, delete: 0, replaceAll: 0 };
  private readonly installed = new Map<string, DnatMapping>();
  private readonly failures: Record<RulesOp, Error[]> = { add: [], delete: [], replaceAll: [] };

  /** `family`: when given, a mapping of another family is rejected (catches cross-family bugs). */
  constructor(private readonly family?: IPFamily) {}

  /** The next `n` calls of `op` throw `error`. */
  failNext(op: RulesOp, n: number, error: Error = new Error(`${op} error`)): void {
    this.failures[op] = Array.from({ length: n }, () => error);
  }

  /** Installed mappings in canonical order (protocol, node port). */
  mappings(): DnatMapping[] {
    return [...this.installed.values()].sort(compareMappings);
  }

  add(m: DnatMapping): Promise<void> {
    return this.attempt('add', [m], () => void this.installed.set(mappingKey(m), { ...m }));
  }

  delete(m: DnatMapping): Promise<void> {
    return this.attempt('delete', [m], () => {
      const current = this.installed.get(mappingKey(m));
      if (current && sameMapping(current, m)) this.installed.delete(mappingKey(m));
    });
  }

  replaceAll(ms: readonly DnatMapping[]): Promise<void> {
    return this.attempt('replaceAll', ms, () => {
      this.installed.clear();
      for (const m of ms) this.installed.set(mappingKey(m), { ...m });
    });
  }

  /** One line per mapping, `<family> <protocol> <nodePort> -> <podIP>:<podPort>`; `""` when none. */
  dump(): string {
    return this.mappings()
      .map((m) => `${m.family} ${m.protocol} ${m.nodePort} -> ${joinHostPort(m.podIP, m.podPort)}\n`)
      .join('');
  }

  private attempt(op: RulesOp, ms: readonly DnatMapping[], apply: () => void): Promise<void> {
    this.calls[op]++;
    const injected = this.failures[op].shift();
    if (injected) return Promise.reject(injected);
    const foreign = ms.find((m) => this.family !== undefined && m.family !== this.family);
    if (foreign) return Promise.reject(new Error(`${op}: ${foreign.family} mapping given to ${this.family} rules`));
    apply();
    return Promise.resolve();
  }
}
