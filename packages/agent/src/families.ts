/**
 * The node's address families at run time: a Node that gains an address family (e.g. an IPv6
 * InternalIP) gets that family's dataplane (table or chain) and port table, and then mappings and
 * annotation entries; one that loses it loses them, without an agent restart.
 */
import type { DnatMapping, IPFamily, MappingRules, NodeIPs, PortTable } from '@npl/core';
import { IP_FAMILIES, NplError, restoreBackoff } from '@npl/core';
import type { Clock, Logger } from '@npl/runtime';
import type { Dataplane } from './dataplane/types.js';

/** The families to add and to remove so that the dataplanes follow the node IPs. Pure. */
export function familyChanges(current: Iterable<IPFamily>, ips: NodeIPs): { add: IPFamily[]; remove: IPFamily[] } {
  const have = new Set(current);
  const want = IP_FAMILIES.filter((f) => Boolean(ips[f]));
  return { add: want.filter((f) => !have.has(f)), remove: IP_FAMILIES.filter((f) => have.has(f) && !want.includes(f)) };
}

/**
 * The MappingRules a PortTable writes through: the family's dataplane until `detach`, then nothing
 * (the family's rules were torn down as a whole): `delete` and `replaceAll` succeed without doing
 * anything, so entries can still be dropped and their sockets released, while `add` throws
 * NPL_DATAPLANE_FAILED, so a reconcile that raced the removal fails, releases its socket and retries.
 */
export class DetachableRules implements MappingRules {
  private target: MappingRules | undefined;

  constructor(
    target: MappingRules,
    private readonly family: IPFamily,
  ) {
    this.target = target;
  }

  detach(): void {
    this.target = undefined;
  }

  add(m: DnatMapping): Promise<void> {
    if (!this.target) return Promise.reject(new NplError('NPL_DATAPLANE_FAILED', `the node has no ${this.family} address any more: its dataplane was removed`));
    return this.target.add(m);
  }

  delete(m: DnatMapping): Promise<void> {
    return this.target ? this.target.delete(m) : Promise.resolve();
  }

  replaceAll(ms: readonly DnatMapping[]): Promise<void> {
    return this.target ? this.target.replaceAll(ms) : Promise.resolve();
  }
}

/** One family's dataplane and port table, as the agent holds them. */
export interface FamilyParts<D extends Dataplane = Dataplane> {
  readonly dataplane: D;
  readonly table: PortTable;
  readonly rules: DetachableRules;
}

export interface FamilySyncDeps<D extends Dataplane = Dataplane> {
  readonly tables: Map<IPFamily, PortTable>;
  readonly dataplanes: Map<IPFamily, D>;
  /** The node IPs now (the controller's). */
  readonly nodeIPs: () => NodeIPs;
  /** Builds and initialises a family's dataplane and port table (nothing installed yet); throws on failure. */
  readonly create: (family: IPFamily) => Promise<FamilyParts<D>>;
  /** Queue every Pod (their mappings and annotations then follow the families). */
  readonly enqueueAll: () => void;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Counts a family added or removed (op add/remove) and a failed attempt (op error). */
  readonly count: (family: IPFamily, op: 'add' | 'remove' | 'error') => void;
}

/**
 * Keeps one dataplane and port table per node IP family. `start` takes over after start-up (which
 * creates the families the node had then); each `trigger` (a node IP change) makes one pass, passes
 * never overlap, and a failed pass is retried with backoff (1 s x1.5, cap 5 s) until it succeeds,
 * the node IPs change again, or `stop`.
 *
 * Adding: create the dataplane, remove anything a previous run left in it (`replaceAll([])`), then
 * register the table and queue every Pod. Removing: unregister the table (reconciles stop using it)
 * and queue every Pod (annotations drop the family), tear the dataplane down (the whole table or
 * chain, and conntrack entries of its ports), then drop the table's entries and release their sockets.
 */
export class FamilySync<D extends Dataplane = Dataplane> {
  private readonly parts = new Map<IPFamily, FamilyParts<D>>();
  private tail: Promise<void> = Promise.resolve();
  private started = false;
  private attempt = 0;
  private readonly abort = new AbortController();

  constructor(private readonly deps: FamilySyncDeps<D>) {}

  /** Registers a family created at start-up, so later passes can remove it. */
  adopt(family: IPFamily, parts: FamilyParts<D>): void {
    this.parts.set(family, parts);
  }

  /** Start following node IP changes, with one pass now (changes during start-up). */
  start(): void {
    this.started = true;
    this.trigger();
  }

  /** Schedule a pass (after the one running, if any). No-op before `start` and after `stop`. */
  trigger(): void {
    if (!this.started || this.abort.signal.aborted) return;
    this.attempt = 0;
    this.enqueuePass();
  }

  /** Resolves when the passes scheduled so far have ended (tests). */
  idle(): Promise<void> {
    return this.tail;
  }

  stop(): void {
    this.abort.abort(new Error('stopped'));
  }

  private enqueuePass(): void {
    this.tail = this.tail.then(() => this.pass());
  }

  private async pass(): Promise<void> {
    if (this.abort.signal.aborted) return;
    const { add, remove } = familyChanges(this.deps.tables.keys(), this.deps.nodeIPs());
    try {
      for (const family of remove) await this.remove(family);
      for (const family of add) await this.add(family);
    } catch (err) {
      this.retryLater(err);
    }
  }

  private retryLater(err: unknown): void {
    const delay = restoreBackoff(this.attempt++, Math.random);
    this.deps.logger.error({ err: (err as Error).message, retryInMs: Math.round(delay) }, 'Could not follow the node address families, will retry with backoff');
    const attempt = this.attempt;
    this.deps.clock.sleep(delay, this.abort.signal).then(
      () => {
        // A trigger meanwhile already scheduled a fresh pass.
        if (this.attempt === attempt) this.enqueuePass();
      },
      () => undefined,
    );
  }

  private async add(family: IPFamily): Promise<void> {
    const { deps } = this;
    let parts: FamilyParts<D>;
    try {
      parts = await deps.create(family);
      await parts.dataplane.replaceAll([]);
    } catch (err) {
      deps.count(family, 'error');
      throw err;
    }
    this.parts.set(family, parts);
    deps.dataplanes.set(family, parts.dataplane);
    deps.tables.set(family, parts.table);
    deps.count(family, 'add');
    deps.logger.info({ family, dataplane: parts.dataplane.describe() }, 'Node gained an address family, added its NodePortLocal dataplane');
    deps.enqueueAll();
  }

  private async remove(family: IPFamily): Promise<void> {
    const { deps } = this;
    const parts = this.parts.get(family);
    deps.tables.delete(family);
    deps.dataplanes.delete(family);
    deps.enqueueAll();
    if (!parts) return;
    try {
      await parts.dataplane.teardown();
    } catch (err) {
      deps.count(family, 'error');
      // Registered again so that the next pass tries the removal once more.
      deps.tables.set(family, parts.table);
      deps.dataplanes.set(family, parts.dataplane);
      throw err;
    }
    parts.rules.detach();
    await drain(parts.table);
    parts.dataplane.close();
    this.parts.delete(family);
    deps.count(family, 'remove');
    deps.logger.info({ family, dataplane: parts.dataplane.describe() }, 'Node lost an address family, removed its NodePortLocal dataplane');
  }
}

/** Drops every entry of a detached table (its rules are gone), releasing the sockets. */
async function drain(table: PortTable): Promise<void> {
  for (let round = 0; round < 3 && table.entries().length > 0; round++) {
    for (const podKey of new Set(table.entries().map((e) => e.podKey))) {
      await table.deleteAllForPod(podKey).catch(() => undefined);
    }
  }
}
