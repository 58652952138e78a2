/**
 * Antrea's PortTable (`portcache/port_table.go`) for one IP family: node port allocation with
 * round-robin search, per-protocol socket reservation, and the dataplane rule of every mapping.
 * Sockets and rules are injected (`PortReserver`, `MappingRules`); the table itself does no I/O.
 */
import { NplError } from './errors.js';
import { inPortRange } from './port-range.js';
import type { DnatMapping, IPFamily, PodKey, PortEntry, PortRange, Protocol } from './types.js';

/** A held node port. */
export interface PortReservation {
  /** Closes the socket. May throw; the caller then still considers the port held. */
  release(): Promise<void>;
}

/** Holds node ports so no other process on the node can take them (kube-proxy's LocalPortOpener). */
export interface PortReserver {
  /**
   * Binds tcp4/udp4/tcp6/udp6 on all addresses of `family` for `port`/`protocol` and keeps the
   * socket open. Throws when the port cannot be bound (already taken, no permission).
   */
  reserve(port: number, protocol: Protocol, family: IPFamily): Promise<PortReservation>;
}

/** One family's dataplane: DNAT of node ports to pod endpoints. */
export interface MappingRules {
  /** Installs the mapping; idempotent (installing an installed mapping succeeds). */
  add(m: DnatMapping): Promise<void>;
  /** Removes the mapping; idempotent: an absent mapping is a success. */
  delete(m: DnatMapping): Promise<void>;
  /** Atomically replaces every installed mapping by `ms` (start-up sync); `[]` removes all. */
  replaceAll(ms: readonly DnatMapping[]): Promise<void>;
}

/** A mapping read back from a pod annotation at start-up (Antrea's PodNodePort). */
export interface RestoredMapping {
  readonly podKey: PodKey;
  readonly nodePort: number;
  readonly podPort: number;
  readonly podIP: string;
  readonly protocol: Protocol;
}

/** Outcome of `PortTable.restore`: what was adopted and what was dropped, with why. */
export interface RestoreResult {
  readonly restored: readonly PortEntry[];
  readonly skipped: readonly { readonly entry: RestoredMapping; readonly reason: string }[];
}

export interface PortTableOptions {
  readonly family: IPFamily;
  readonly range: PortRange;
  readonly reserver: PortReserver;
  readonly rules: MappingRules;
  /** Milliseconds clock for port hints' expiry (default Date.now). */
  readonly now?: () => number;
}

/** How long a port hint (see PortTable.hintPort) holds its port back from other endpoints. */
export const PORT_HINT_TTL_MS = 10 * 60_000;

interface PortHint {
  readonly nodePort: number;
  readonly protocol: Protocol;
  readonly expiresAt: number;
}

interface Slot {
  entry: PortEntry;
  readonly reservation: PortReservation;
  /** True from the allocation until its rule's install returned: the rule may or may not be in the kernel yet. */
  installing?: boolean;
}

/** Mappings whose rule is being changed outside the table lock right now (see `withActiveMappings`). */
export interface UnsettledMappings {
  /** Allocated, rule install in flight: the rule may already be in the kernel, or not yet. */
  readonly installing: readonly DnatMapping[];
  /** Being deleted, or left for a retry after a failed deletion: the rule may still be in the kernel. */
  readonly defunct: readonly DnatMapping[];
}

const endpointKey = (podKey: PodKey, podPort: number, protocol: Protocol): string =>
  `${podKey}:${podPort}:${protocol}`;
const nodePortKey = (nodePort: number, protocol: string): string => `${nodePort}:${protocol}`;

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Serializes async critical sections: one runs at a time, in call order, errors don't jam it. */
class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** Orders entries by node port, then protocol, then pod key: the canonical listing order. */
export function compareEntries(a: PortEntry, b: PortEntry): number {
  return (
    a.nodePort - b.nodePort ||
    a.protocol.localeCompare(b.protocol) ||
    a.podKey.localeCompare(b.podKey) ||
    a.podPort - b.podPort
  );
}

function normalizeServices(services: readonly string[]): readonly string[] {
  return Object.freeze([...new Set(services)].sort());
}

function toMapping(e: PortEntry): DnatMapping {
  return { family: e.family, protocol: e.protocol, nodePort: e.nodePort, podIP: e.podIP, podPort: e.podPort };
}

/**
 * Delay before the next start-up sync attempt, in milliseconds: Antrea's wait.Backoff
 * {Duration 1s, Factor 1.5, Jitter 0.1, Cap 5s}. `attempt` counts failed attempts from 0;
 * `random` returns a number in [0, 1) (inject `Math.random` in production).
 */
export function restoreBackoff(attempt: number, random: () => number): number {
  const base = Math.min(1000 * 1.5 ** Math.max(0, attempt), 5000);
  return base + random() * 0.1 * base;
}

/**
 * The node port table of one IP family. Mutations are serialized (an internal async mutex), so
 * concurrent workers never allocate the same port. Reads see the state between mutations.
 */
export class PortTable {
  readonly family: IPFamily;
  readonly range: PortRange;
  private readonly reserver: PortReserver;
  private readonly rules: MappingRules;
  private readonly byEndpoint = new Map<string, Slot>();
  private readonly byNodePort = new Map<string, Slot>();
  private readonly mutex = new AsyncMutex();
  /** endpointKey -> the node port that endpoint had before it lost its Pod IP. */
  private readonly hints = new Map<string, PortHint>();
  private readonly now: () => number;
  private searchStart: number;

  constructor(opts: PortTableOptions) {
    if (!(opts.range.start < opts.range.end)) {
      throw new NplError(
        'NPL_PORT_RANGE_INVALID',
        `port range ${opts.range.start}-${opts.range.end}: start port must be smaller than end port`,
      );
    }
    this.family = opts.family;
    this.range = opts.range;
    this.reserver = opts.reserver;
    this.rules = opts.rules;
    this.searchStart = opts.range.start;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Remembers that the pod endpoint had `nodePort` (an annotation removed because its Pod had no
   * IP, Antrea's TestInitMissingPodIP). When the endpoint gets a mapping again within
   * PORT_HINT_TTL_MS, addRule gives it that port if it is still free, so a restarted node's Pods keep
   * their node ports; meanwhile other endpoints get it only when no other port is free. A hint is
   * only a preference: nothing is reserved, and a port outside the range is ignored.
   */
  hintPort(podKey: PodKey, podPort: number, protocol: Protocol, nodePort: number): void {
    if (!inPortRange(this.range, nodePort)) return;
    this.hints.set(endpointKey(podKey, podPort, protocol), { nodePort, protocol, expiresAt: this.now() + PORT_HINT_TTL_MS });
  }

  /**
   * Allocates a node port for the pod endpoint, reserves it and installs its rule (Antrea's AddRule).
   * Throws NPL_DUPLICATE_ENTRY when an entry (defunct or not) exists for (podKey, podPort, protocol),
   * NPL_PORT_EXHAUSTED when no port of the range can be reserved, NPL_DATAPLANE_FAILED (cause = the
   * rules error) when the rule cannot be installed; on any error the table is unchanged and no
   * socket is left open.
   */
  async addRule(
    podKey: PodKey,
    podIP: string,
    podPort: number,
    protocol: Protocol,
    services: readonly string[] = [],
  ): Promise<PortEntry> {
    const slot = await this.mutex.run(async () => {
      const existing = this.byEndpoint.get(endpointKey(podKey, podPort, protocol));
      if (existing) {
        throw new NplError('NPL_DUPLICATE_ENTRY', `existing nodeport entry for ${podIP}:${podPort}:${protocol}`);
      }
      const { nodePort, reservation } = (await this.takeHintedPort(podKey, podPort, protocol)) ?? (await this.getFreePort(protocol));
      const entry: PortEntry = Object.freeze({
        family: this.family,
        protocol,
        nodePort,
        podIP,
        podPort,
        podKey,
        services: normalizeServices(services),
        defunct: false,
      });
      const added: Slot = { entry, reservation, installing: true };
      this.insert(added);
      return added;
    });
    // The rule is installed outside the lock, so a dataplane that batches concurrent adds (group
    // commit) can serve several workers with one transaction. The entry is visible meanwhile; its
    // node port is taken, so nothing else can get it.
    try {
      await this.installOrRelease(slot.entry, slot.reservation);
      slot.installing = false;
    } catch (err) {
      await this.mutex.run(() => Promise.resolve(this.removeIfCurrent(slot)));
      throw err;
    }
    return slot.entry;
  }

  /**
   * Removes the rule and releases the port of the pod endpoint (Antrea's DeleteRule). The entry is
   * marked defunct first; if the rule deletion (NPL_DATAPLANE_FAILED) or the socket close
   * (NPL_PORT_RELEASE_FAILED) fails, it stays in the table, defunct, and the call may be retried.
   * Deleting an absent entry is a no-op.
   */
  async deleteRule(podKey: PodKey, podPort: number, protocol: Protocol): Promise<void> {
    const slot = await this.mutex.run(() => Promise.resolve(this.markDefunct(this.byEndpoint.get(endpointKey(podKey, podPort, protocol)))));
    if (slot) await this.deleteSlot(slot);
  }

  /**
   * Deletes every entry of the pod for which `keep` is false (all when omitted), each as
   * `deleteRule`. Every entry is attempted; the first error is thrown after the others were tried.
   * Returns the entries that were removed.
   */
  async deleteAllForPod(podKey: PodKey, keep: (e: PortEntry) => boolean = () => false): Promise<PortEntry[]> {
    const slots = await this.mutex.run(() =>
      Promise.resolve(
        this.slotsForPod(podKey)
          .filter((s) => !keep(s.entry))
          .map((s) => this.markDefunct(s)!),
      ),
    );
    const removed: PortEntry[] = [];
    const errors: unknown[] = [];
    for (const slot of slots) {
      try {
        await this.deleteSlot(slot);
        removed.push(slot.entry);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
    return removed;
  }

  /** The entry of the pod endpoint, defunct or not; undefined when absent. */
  getEntry(podKey: PodKey, podPort: number, protocol: Protocol): PortEntry | undefined {
    return this.byEndpoint.get(endpointKey(podKey, podPort, protocol))?.entry;
  }

  /** Every entry of the pod (defunct included), in canonical order; `[]` when none. */
  entriesForPod(podKey: PodKey): PortEntry[] {
    return this.slotsForPod(podKey).map((s) => s.entry);
  }

  /** The entry holding `nodePort` for `protocol`, defunct or not; undefined when free. */
  entryForNodePort(nodePort: number, protocol: Protocol): PortEntry | undefined {
    return this.byNodePort.get(nodePortKey(nodePort, protocol))?.entry;
  }

  /** A sorted copy of every entry, defunct included. */
  entries(): PortEntry[] {
    return [...this.byEndpoint.values()].map((s) => s.entry).sort(compareEntries);
  }

  /** Records the owning Services of an entry (backfill after restore); unknown entry = no-op. */
  setServices(podKey: PodKey, podPort: number, protocol: Protocol, services: readonly string[]): void {
    const slot = this.byEndpoint.get(endpointKey(podKey, podPort, protocol));
    if (slot) slot.entry = Object.freeze({ ...slot.entry, services: normalizeServices(services) });
  }

  /**
   * The flow-exporter query (Antrea's GetServiceForNPLPort without the node IP check): the owning
   * Services of the mapping on `nodePort`, sorted and joined by `|`. `protocol` is case-insensitive.
   * `""` when the port is unknown or no Service is recorded.
   */
  serviceForNodePort(nodePort: number, protocol: string): string {
    const slot = this.byNodePort.get(nodePortKey(nodePort, protocol.toLowerCase()));
    return slot ? slot.entry.services.join('|') : '';
  }

  /**
   * Adopts mappings read from annotations at start-up (Antrea's RestoreRules, first half): reserves
   * each port in order and adds the entry without Services. An entry whose port cannot be reserved,
   * lies outside the range, or collides with an entry already in the table is dropped and reported.
   * Does not touch the dataplane (call `syncAll`) and does not move the search pointer.
   */
  restore(mappings: readonly RestoredMapping[]): Promise<RestoreResult> {
    return this.mutex.run(async () => {
      const restored: PortEntry[] = [];
      const skipped: { entry: RestoredMapping; reason: string }[] = [];
      for (const m of mappings) {
        const result = await this.restoreOne(m);
        if (typeof result === 'string') skipped.push({ entry: m, reason: result });
        else restored.push(result);
      }
      return { restored, skipped };
    });
  }

  /**
   * Replaces the whole dataplane of this family by the table's non-defunct entries (Antrea's
   * syncRules). Throws NPL_DATAPLANE_FAILED on failure; the caller retries with `restoreBackoff`.
   */
  syncAll(): Promise<void> {
    return this.mutex.run(async () => {
      const mappings = this.entries()
        .filter((e) => !e.defunct)
        .map(toMapping);
      try {
        await this.rules.replaceAll(mappings);
      } catch (err) {
        throw new NplError(
          'NPL_DATAPLANE_FAILED',
          `failed to sync ${mappings.length} ${this.family} NodePortLocal rules: ${messageOf(err)}`,
          { cause: err },
        );
      }
    });
  }

  /**
   * Runs `fn` while no mutation can start (the table lock is held), with `active`, the mappings whose
   * rule is installed as far as the table knows, and `unsettled`, those whose rule a worker is
   * installing or deleting outside the lock (addRule and deleteRule do, for group commit): their
   * rules may or may not be in the kernel while `fn` runs, so a drift check must not count them as
   * drift either way, and a repair must keep the installing ones (their install is idempotent) and
   * may drop the defunct ones (their deletion is idempotent). Returns fn's result.
   */
  withActiveMappings<T>(fn: (active: readonly DnatMapping[], unsettled: UnsettledMappings) => Promise<T>): Promise<T> {
    return this.mutex.run(() => {
      const active: DnatMapping[] = [];
      const installing: DnatMapping[] = [];
      const defunct: DnatMapping[] = [];
      for (const slot of [...this.byEndpoint.values()].sort((a, b) => compareEntries(a.entry, b.entry))) {
        (slot.entry.defunct ? defunct : slot.installing ? installing : active).push(toMapping(slot.entry));
      }
      return fn(active, { installing, defunct });
    });
  }

  private slotsForPod(podKey: PodKey): Slot[] {
    return [...this.byEndpoint.values()]
      .filter((s) => s.entry.podKey === podKey)
      .sort((a, b) => compareEntries(a.entry, b.entry));
  }

  /** The endpoint's hinted port, reserved, when it has a live hint and the port is free; the hint is consumed. */
  private async takeHintedPort(podKey: PodKey, podPort: number, protocol: Protocol): Promise<{ nodePort: number; reservation: PortReservation } | undefined> {
    const key = endpointKey(podKey, podPort, protocol);
    const hint = this.liveHints().get(key);
    if (!hint) return undefined;
    this.hints.delete(key);
    if (this.byNodePort.has(nodePortKey(hint.nodePort, protocol))) return undefined;
    const reservation = await this.tryReserve(hint.nodePort, protocol);
    return reservation ? { nodePort: hint.nodePort, reservation } : undefined;
  }

  /** The hints not yet expired (expired ones are dropped). */
  private liveHints(): Map<string, PortHint> {
    const now = this.now();
    for (const [k, h] of this.hints) if (h.expiresAt <= now) this.hints.delete(k);
    return this.hints;
  }

  /** Antrea's rotating search; ports hinted for other endpoints are tried only when nothing else is free. */
  private async getFreePort(protocol: Protocol): Promise<{ nodePort: number; reservation: PortReservation }> {
    const held = new Set([...this.liveHints().values()].filter((h) => h.protocol === protocol).map((h) => h.nodePort));
    return (await this.searchFreePort(protocol, held)) ?? (await this.searchFreePort(protocol, new Set())) ?? this.exhausted(protocol);
  }

  private async searchFreePort(protocol: Protocol, skip: ReadonlySet<number>): Promise<{ nodePort: number; reservation: PortReservation } | undefined> {
    const { start, end } = this.range;
    const numPorts = end - start + 1;
    for (let i = 0; i < numPorts; i++) {
      let port = this.searchStart + i;
      if (port > end) port -= numPorts;
      if (skip.has(port) || this.byNodePort.has(nodePortKey(port, protocol))) continue;
      const reservation = await this.tryReserve(port, protocol);
      if (!reservation) continue;
      this.searchStart = port + 1 > end ? start : port + 1;
      return { nodePort: port, reservation };
    }
    return undefined;
  }

  private exhausted(protocol: Protocol): never {
    const { start, end } = this.range;
    throw new NplError(
      'NPL_PORT_EXHAUSTED',
      `no free port found: every ${this.family} ${protocol} node port in ${start}-${end} is in use`,
    );
  }

  private async tryReserve(port: number, protocol: Protocol): Promise<PortReservation | undefined> {
    try {
      return await this.reserver.reserve(port, protocol, this.family);
    } catch {
      return undefined;
    }
  }

  private async installOrRelease(entry: PortEntry, reservation: PortReservation): Promise<void> {
    try {
      await this.rules.add(toMapping(entry));
    } catch (err) {
      const closeNote = await releaseQuietly(reservation, entry);
      throw new NplError(
        'NPL_DATAPLANE_FAILED',
        `failed to add rule for ${entry.podIP}:${entry.podPort}:${entry.protocol} on node port ` +
          `${entry.nodePort}: ${messageOf(err)}${closeNote}`,
        { cause: err },
      );
    }
  }

  /** Marks the slot defunct (under the lock) so its port is never reused before deletion ends. */
  private markDefunct(slot: Slot | undefined): Slot | undefined {
    if (slot) slot.entry = Object.freeze({ ...slot.entry, defunct: true });
    return slot;
  }

  /**
   * Deletes the rule and releases the socket of a defunct slot outside the lock (see addRule), then
   * removes the slot under it. On failure the slot stays, defunct, for a retry.
   */
  private async deleteSlot(slot: Slot): Promise<void> {
    const { entry } = slot;
    try {
      await this.rules.delete(toMapping(entry));
    } catch (err) {
      throw new NplError(
        'NPL_DATAPLANE_FAILED',
        `failed to delete rule for ${entry.podIP}:${entry.podPort}:${entry.protocol} on node port ` +
          `${entry.nodePort}: ${messageOf(err)}`,
        { cause: err },
      );
    }
    try {
      await slot.reservation.release();
    } catch (err) {
      throw new NplError(
        'NPL_PORT_RELEASE_FAILED',
        `error when releasing local port ${entry.nodePort} with protocol ${entry.protocol}: ${messageOf(err)}`,
        { cause: err },
      );
    }
    await this.mutex.run(() => Promise.resolve(this.removeIfCurrent(slot)));
  }

  /** Removes `slot` unless another slot took its place meanwhile. */
  private removeIfCurrent(slot: Slot): void {
    const { entry } = slot;
    if (this.byEndpoint.get(endpointKey(entry.podKey, entry.podPort, entry.protocol)) === slot) this.remove(slot);
  }

  private async restoreOne(m: RestoredMapping): Promise<PortEntry | string> {
    const conflict = this.restoreConflict(m);
    if (conflict) return conflict;
    let reservation: PortReservation;
    try {
      reservation = await this.reserver.reserve(m.nodePort, m.protocol, this.family);
    } catch (err) {
      return `cannot bind to local port ${m.nodePort} with protocol ${m.protocol}: ${messageOf(err)}`;
    }
    const entry: PortEntry = Object.freeze({
      family: this.family,
      protocol: m.protocol,
      nodePort: m.nodePort,
      podIP: m.podIP,
      podPort: m.podPort,
      podKey: m.podKey,
      services: Object.freeze([]),
      defunct: false,
    });
    this.insert({ entry, reservation });
    return entry;
  }

  private restoreConflict(m: RestoredMapping): string | undefined {
    const { start, end } = this.range;
    if (m.nodePort < start || m.nodePort > end) return `node port ${m.nodePort} is outside ${start}-${end}`;
    if (this.byNodePort.has(nodePortKey(m.nodePort, m.protocol))) {
      return `node port ${m.nodePort} with protocol ${m.protocol} is already mapped`;
    }
    if (this.byEndpoint.has(endpointKey(m.podKey, m.podPort, m.protocol))) {
      return `existing nodeport entry for ${m.podIP}:${m.podPort}:${m.protocol}`;
    }
    return undefined;
  }

  private insert(slot: Slot): void {
    const { entry } = slot;
    this.byEndpoint.set(endpointKey(entry.podKey, entry.podPort, entry.protocol), slot);
    this.byNodePort.set(nodePortKey(entry.nodePort, entry.protocol), slot);
  }

  private remove(slot: Slot): void {
    const { entry } = slot;
    this.byEndpoint.delete(endpointKey(entry.podKey, entry.podPort, entry.protocol));
    this.byNodePort.delete(nodePortKey(entry.nodePort, entry.protocol));
  }
}

async function releaseQuietly(reservation: PortReservation, entry: PortEntry): Promise<string> {
  try {
    await reservation.release();
    return '';
  } catch (err) {
    return `; closing node port ${entry.nodePort} with protocol ${entry.protocol} also failed: ${messageOf(err)}`;
  }
}
