/**
 * A Dataplane decorator that deletes the stale conntrack entries of the node ports a successful
 * change touched (see conntrack.ts for which entries and why), for either dataplane.
 */
import type { DnatMapping, IPFamily } from '@npl/core';
import type { Logger } from 'pino';
import type { ChangedPort, ConntrackCleaner, ConntrackFilter } from './conntrack.js';
import { changedPorts, changedPortsFromDrift, conntrackFilters } from './conntrack.js';
import { mappingKey } from './mappings.js';
import type { Dataplane, DataplaneDrift } from './types.js';

export interface ConntrackCleanupOptions {
  readonly family: IPFamily;
  readonly cleaner: ConntrackCleaner;
  /** The node's addresses now, of any family (others are ignored): the original destinations cleared. */
  readonly nodeAddresses: () => readonly string[];
  readonly logger?: Logger;
  /** Called once per `conntrack -D` that worked, with the number of entries it deleted (metrics). */
  readonly onCleared?: (filter: ConntrackFilter, deleted: number) => void;
  /** Called once per `conntrack -D` that failed (metrics); the failure is logged and not retried. */
  readonly onFailed?: (filter: ConntrackFilter, err: unknown) => void;
}

/**
 * Wraps one family's dataplane. Each write (add, delete, replaceAll, repair, teardown) is passed on
 * unchanged and its errors are thrown unchanged; only after it succeeded are the conntrack entries
 * of the node ports whose mapping changed deleted. A clean-up failure is never thrown: it is logged,
 * reported through `onFailed` and not retried (the entry idles out as it would without the agent).
 * `replaceAll` and `repair` first read what is installed (`verify`) to know which ports change; if
 * that read fails, every port they install counts as changed.
 */
export class ConntrackCleaningDataplane implements Dataplane {
  /** What we know is installed, by mappingKey; undefined until the first full write. */
  private installed: Map<string, DnatMapping> | undefined;
  private missingToolLogged = false;

  constructor(
    private readonly inner: Dataplane,
    private readonly o: ConntrackCleanupOptions,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async add(m: DnatMapping): Promise<void> {
    await this.inner.add(m);
    const known = this.installed?.has(mappingKey(m)) ?? false;
    this.installed?.set(mappingKey(m), m);
    if (!known) await this.clear([m]);
  }

  async delete(m: DnatMapping): Promise<void> {
    await this.inner.delete(m);
    const absent = this.installed !== undefined && !this.installed.has(mappingKey(m));
    this.installed?.delete(mappingKey(m));
    if (!absent) await this.clear([m]);
  }

  replaceAll(ms: readonly DnatMapping[]): Promise<void> {
    return this.rewrite(ms, () => this.inner.replaceAll(ms));
  }

  repair(expected: readonly DnatMapping[]): Promise<void> {
    return this.rewrite(expected, () => this.inner.repair(expected));
  }

  async teardown(): Promise<void> {
    const before = this.installed;
    await this.inner.teardown();
    this.installed = new Map();
    if (before) await this.clear(changedPorts([...before.values()], []));
  }

  verify(expected: readonly DnatMapping[]): Promise<DataplaneDrift> {
    return this.inner.verify(expected);
  }

  available(): Promise<string> {
    return this.inner.available();
  }

  close(): void {
    this.inner.close();
  }

  describe(): string {
    return this.inner.describe();
  }

  private async rewrite(ms: readonly DnatMapping[], write: () => Promise<void>): Promise<void> {
    const drift = await this.inner.verify(ms).catch(() => undefined);
    await write();
    const changed = drift ? changedPortsFromDrift(drift) : changedPorts(this.installed && [...this.installed.values()], ms);
    this.installed = new Map(ms.map((m) => [mappingKey(m), m]));
    await this.clear(changed);
  }

  private async clear(ports: readonly ChangedPort[]): Promise<void> {
    const filters = conntrackFilters(this.o.family, ports, this.o.nodeAddresses());
    for (const filter of filters) {
      try {
        const deleted = await this.o.cleaner.clear(filter);
        this.o.onCleared?.(filter, deleted);
        if (deleted > 0) this.o.logger?.info({ ...filter, deleted }, 'Deleted stale conntrack entries of a NodePortLocal node port');
      } catch (err) {
        this.o.onFailed?.(filter, err);
        this.logFailure(filter, err);
      }
    }
  }

  private logFailure(filter: ConntrackFilter, err: unknown): void {
    const message = (err as Error).message;
    const missingTool = message.includes('not found in PATH');
    const fields = { ...filter, err: message };
    // A missing tool fails every call the same way: warn once, then at debug.
    if (missingTool && this.missingToolLogged) this.o.logger?.debug(fields, 'Could not delete stale conntrack entries');
    else this.o.logger?.warn(fields, 'Could not delete stale conntrack entries; existing UDP flows keep their old destination until they idle out');
    if (missingTool) this.missingToolLogged = true;
  }
}
