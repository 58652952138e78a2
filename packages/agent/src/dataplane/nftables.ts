/**
 * The nftables dataplane of one family: core's JSON batches applied with `nft -j -f <file>`. The
 * batch goes through a private temporary file because nft opens /dev/stdin, which fails (ENXIO)
 * on the socket Node gives a child as stdin, and argv is capped at 128 KiB.
 *
 * Contract with the kernel (see core's render-nftables): this object is the only writer of its
 * table and keeps a model of what it installed (mapping per protocol and node port, and how many
 * mappings each pod IP has, for the hairpin element's lifetime). The model is set by
 * `replaceAll`/`repair`, and by one listing of the table when `add`/`delete` come before any
 * full sync. Each `add`/`delete` renders the minimal batch from the model: replacing a key's
 * target deletes the installed elements first; the hairpin element of a pod IP goes with its last
 * mapping. Elements are added before being deleted, so elements deleted behind our back do not
 * fail a batch. When a batch still fails and the table exists, reality differs from the model in
 * a way the batch cannot absorb (an element changed by someone else): the table is rewritten with
 * a full sync of the model plus the change, and the operation succeeds. When the table is gone,
 * the error says so (`tableMissing`) and nothing else is tried: the caller repairs. `verify`
 * detects outside edits independently of the model.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_NFT_TABLE, canonicalIP, nftFamily, parseNftRuleset, renderAdd, renderDelete, renderFullSync, renderRefresh, renderTeardown } from '@npl/core';
import type { DnatMapping, IPFamily, NftBatch, NftFamily, NftOptions } from '@npl/core';
import { DataplaneError, stderrForMessage } from './dataplane-error.js';
import type { CommandRunner } from './exec.js';
import { ExecaRunner } from './exec.js';
import { assertFamily, compareMappings, describeMapping } from './mappings.js';
import { inspectNftListing } from './nft-inspect.js';
import { NftSession } from './nft-session.js';
import { Serial } from './serial.js';
import type { Dataplane, DataplaneDrift } from './types.js';

export interface NftablesDataplaneOptions {
  readonly family: IPFamily;
  /** Table name; default `npl`. */
  readonly table?: string;
  readonly runner?: CommandRunner;
  readonly logger?: Logger;
  /**
   * Command (with prefix) of a long-lived `nft -j -i` session that applies batches (see
   * nft-session.ts), or false for one `nft -f` process per batch. Default: `['nft']` with the
   * default runner, false with an injected runner (tests pass the prefix they need).
   */
  readonly session?: readonly string[] | false;
}

async function withBatchFile<T>(batch: NftBatch, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'npl-nft-'));
  try {
    const file = join(dir, 'batch.json');
    await writeFile(file, JSON.stringify(batch), { mode: 0o600 });
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** nft's stderr for a message: without the `internal:0:0-0:` location JSON input gets, repeats folded. */
export function nftStderr(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^internal:\d+:\d+-\d+:\s*/, '').trim())
    .filter((l) => l !== '');
  return stderrForMessage([...new Set(lines)].join('; '));
}

/**
 * What this dataplane installed: the mapping of each protocol/node port, and the number of mappings
 * of each pod IP (compared canonically), which decides when a pod IP's hairpin element goes.
 */
export class NftModel {
  private readonly byKey = new Map<string, DnatMapping>();
  private readonly pods = new Map<string, number>();

  constructor(ms: Iterable<DnatMapping> = []) {
    for (const m of ms) this.set(m);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** The installed mapping with the protocol and node port of `m`. */
  get(m: DnatMapping): DnatMapping | undefined {
    return this.byKey.get(nftKey(m));
  }

  /** How many installed mappings have this pod IP. */
  refs(podIP: string): number {
    return this.pods.get(podKey(podIP)) ?? 0;
  }

  /** Installs `m`, replacing the mapping of its protocol and node port (which keeps its place). */
  set(m: DnatMapping): void {
    const old = this.byKey.get(nftKey(m));
    if (old) this.unref(old.podIP);
    this.byKey.set(nftKey(m), m);
    this.pods.set(podKey(m.podIP), this.refs(m.podIP) + 1);
  }

  remove(m: DnatMapping): void {
    const old = this.byKey.get(nftKey(m));
    if (!old) return;
    this.byKey.delete(nftKey(m));
    this.unref(old.podIP);
  }

  private unref(podIP: string): void {
    const n = this.refs(podIP) - 1;
    if (n > 0) this.pods.set(podKey(podIP), n);
    else this.pods.delete(podKey(podIP));
  }

  mappings(): DnatMapping[] {
    return [...this.byKey.values()];
  }

  copy(): NftModel {
    // Map copies, not a replay of set(): one copy per applied batch, so it must not re-parse every pod IP.
    const c = new NftModel();
    for (const [k, v] of this.byKey) c.byKey.set(k, v);
    for (const [k, v] of this.pods) c.pods.set(k, v);
    return c;
  }
}

const nftKey = (m: DnatMapping): string => `${m.protocol}/${m.nodePort}`;
const podKey = (ip: string): string => canonicalIP(ip) ?? ip;
const sameTarget = (a: DnatMapping, b: DnatMapping): boolean => podKey(a.podIP) === podKey(b.podIP) && a.podPort === b.podPort;

/** A change of the model and the batch that makes the kernel follow it. */
interface Change {
  readonly batch: NftBatch;
  readonly apply: (model: NftModel) => void;
}

interface PendingChange {
  readonly what: string;
  readonly render: (model: NftModel) => Change;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class NftablesDataplane implements Dataplane {
  readonly family: IPFamily;
  private readonly nftFamily: NftFamily;
  private readonly table: string;
  private readonly opts: NftOptions;
  private readonly runner: CommandRunner;
  private readonly logger: Logger | undefined;
  private readonly serial = new Serial();
  /** Incremental changes waiting for the next transaction (group commit). */
  private readonly pending: PendingChange[] = [];
  private session: NftSession | undefined;
  /** What we installed; undefined until a full sync (or a listing) tells us. */
  private model: NftModel | undefined;

  constructor(options: NftablesDataplaneOptions) {
    this.family = options.family;
    this.nftFamily = nftFamily(options.family);
    this.table = options.table ?? DEFAULT_NFT_TABLE;
    this.opts = { table: this.table };
    this.runner = options.runner ?? new ExecaRunner();
    this.logger = options.logger;
    const session = options.session ?? (options.runner ? false : ['nft']);
    this.session = session ? new NftSession({ command: session }) : undefined;
  }

  /** Ends the nft session (rules stay installed). Idempotent. */
  close(): void {
    this.session?.close();
    this.session = undefined;
  }

  describe(): string {
    return `nftables ${this.nftFamily} ${this.table}`;
  }

  async available(): Promise<string> {
    const r = await this.runner.run('nft', ['--version']);
    if (r.exitCode !== 0) throw await this.failure('nft --version', r.stderr, false);
    return r.stdout.trim();
  }

  async init(): Promise<void> {
    const r = await this.runner.run('nft', ['list', 'tables', this.nftFamily]);
    if (r.exitCode !== 0) throw await this.failure('list tables', r.stderr, false);
  }

  /** Installs `m`; idempotent. A mapping of the same protocol and node port is replaced. */
  add(m: DnatMapping): Promise<void> {
    assertFamily(this.family, m);
    return this.change(`add ${describeMapping(m)}`, (model) => {
      const old = model.get(m);
      const replaces = old && !sameTarget(old, m) ? old : undefined;
      const dropReplacedHairpin = replaces !== undefined && model.refs(replaces.podIP) === 1 && podKey(replaces.podIP) !== podKey(m.podIP);
      return {
        batch: renderAdd(this.family, m, { ...this.opts, ...(replaces ? { replaces, dropReplacedHairpin } : {}) }),
        apply: (next) => next.set(m),
      };
    });
  }

  /** Removes the mapping of `m`'s protocol and node port, whatever its target; idempotent. */
  delete(m: DnatMapping): Promise<void> {
    assertFamily(this.family, m);
    return this.change(`delete ${describeMapping(m)}`, (model) => {
      const installed = model.get(m);
      const target = installed ?? m;
      const others = model.refs(target.podIP) - (installed ? 1 : 0);
      return {
        batch: renderDelete(this.family, target, { ...this.opts, dropHairpin: others === 0 }),
        apply: (next) => next.remove(m),
      };
    });
  }

  async replaceAll(ms: readonly DnatMapping[]): Promise<void> {
    ms.forEach((m) => assertFamily(this.family, m));
    const started = Date.now();
    await this.serial.run(() => this.fullSync(ms, `full sync of ${ms.length} mapping(s)`));
    this.logger?.info({ dataplane: this.describe(), mappings: ms.length, ms: Date.now() - started }, 'dataplane synced');
  }

  repair(expected: readonly DnatMapping[]): Promise<void> {
    return this.replaceAll(expected);
  }

  teardown(): Promise<void> {
    return this.serial.run(async () => {
      await this.applyOrThrow(renderTeardown(this.family, this.opts), 'teardown');
      this.model = new NftModel();
    });
  }

  async verify(expected: readonly DnatMapping[]): Promise<DataplaneDrift> {
    const r = await this.runner.run('nft', ['-j', 'list', 'table', this.nftFamily, this.table]);
    if (r.exitCode !== 0) {
      if ((await this.tableExists()) !== false) throw await this.failure('list table', r.stderr, false);
      return compareMappings(expected, { installed: [], tableMissing: true, staticProblems: [] });
    }
    const found = inspectNftListing(r.stdout, this.family, this.opts);
    return compareMappings(expected, { ...found, tableMissing: false });
  }

  /**
   * Replaces the table's content by `ms` keeping the table and its hooks (renderRefresh: no instant
   * without DNAT for new connections, e.g. during an agent restart); when the existing table has
   * another shape, deletes and recreates it (renderFullSync).
   */
  private async fullSync(ms: readonly DnatMapping[], what: string): Promise<void> {
    const refreshed = await this.runFile(renderRefresh(this.family, ms, this.opts));
    if (refreshed.exitCode !== 0) {
      this.logger?.info({ dataplane: this.describe(), err: nftStderr(refreshed.stderr) }, 'table has another shape, recreating it');
      await this.applyOrThrow(renderFullSync(this.family, ms, this.opts), what);
    }
    this.model = new NftModel(ms);
  }

  /**
   * Queues one incremental change. Changes run in call order; all changes waiting when the previous
   * nft transaction ends go out together in ONE batch (group commit: each rendered against the model
   * with the earlier ones applied), so concurrent workers share a transaction instead of paying one
   * nft process each. If that combined batch fails, the changes are applied one at a time, so one
   * bad change cannot fail the others.
   */
  private change(what: string, render: (model: NftModel) => Change): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ what, render, resolve, reject });
      void this.serial.run(() => this.flush());
    });
  }

  private async flush(): Promise<void> {
    const group = this.pending.splice(0);
    if (group.length === 0) return;
    try {
      if (group.length > 1 && (await this.applyGroup(group))) {
        for (const c of group) c.resolve();
        return;
      }
    } catch (err) {
      for (const c of group) c.reject(err);
      return;
    }
    for (const c of group) await this.applyOne(c.what, c.render).then(c.resolve, c.reject);
  }

  /** True when the combined batch was applied; false to fall back to one change at a time. */
  private async applyGroup(group: readonly PendingChange[]): Promise<boolean> {
    const model = this.model ?? (await this.loadModel(group[0]!.what));
    const next = model.copy();
    const commands = group.flatMap((c) => {
      const { batch, apply } = c.render(next);
      apply(next);
      return batch.nftables;
    });
    const r = await this.run({ nftables: commands });
    if (r.exitCode !== 0) return false;
    this.model = next;
    this.logger?.debug({ dataplane: this.describe(), changes: group.length }, 'dataplane changed (one batch)');
    return true;
  }

  /**
   * Applies one change: renders it from the model, applies it, and updates the model on success.
   * On failure with the table present, rewrites the table with the model plus the change (see the
   * file comment).
   */
  private async applyOne(what: string, render: (model: NftModel) => Change): Promise<void> {
    const model = this.model ?? (await this.loadModel(what));
    const { batch, apply } = render(model);
    const r = await this.run(batch);
    if (r.exitCode === 0) {
      apply(model);
      this.model = model;
      this.logger?.debug({ dataplane: this.describe(), op: what }, 'dataplane changed');
      return;
    }
    const err = await this.failure(what, r.stderr, true);
    if (err.tableMissing) throw err;
    await this.resyncAfterRejection(what, err, model, apply);
  }

  /** A change was refused although our table exists: rewrite the table with the model plus the change. */
  private async resyncAfterRejection(what: string, err: DataplaneError, model: NftModel, apply: (next: NftModel) => void): Promise<void> {
    const next = model.copy();
    apply(next);
    this.logger?.warn(
      { dataplane: this.describe(), op: what, err: err.message },
      'dataplane change rejected (table differs from what we installed): re-syncing the whole table',
    );
    const again = await this.runFile(renderFullSync(this.family, next.mappings(), this.opts));
    if (again.exitCode !== 0) {
      throw new DataplaneError(`${err.message}; the full re-sync of ${next.size} mapping(s) after it failed too: ${nftStderr(again.stderr) || 'no output'}`, {
        tableMissing: false,
        stderr: again.stderr,
      });
    }
    this.model = next;
  }

  /** The model read from the table itself, for a change that comes before any full sync. */
  private async loadModel(what: string): Promise<NftModel> {
    const r = await this.runner.run('nft', ['-j', 'list', 'table', this.nftFamily, this.table]);
    if (r.exitCode !== 0) throw await this.failure(what, r.stderr, true);
    let installed: DnatMapping[];
    try {
      installed = parseNftRuleset(r.stdout, this.opts);
    } catch (cause) {
      const message = `nft (${this.nftFamily} ${this.table}): ${what} failed: cannot read the table listing: ${String(cause)}`;
      throw new DataplaneError(message, { tableMissing: false, stderr: r.stderr, cause });
    }
    const model = new NftModel(installed);
    this.model = model;
    return model;
  }

  /** Incremental batches: through the session when there is one. */
  private run(batch: NftBatch): Promise<{ exitCode: number; stderr: string }> {
    if (this.session) return this.runInSession(this.session, batch);
    return this.runFile(batch);
  }

  /** Through the session; if the session itself fails (not the batch), once more as `nft -f`. */
  private async runInSession(session: NftSession, batch: NftBatch): Promise<{ exitCode: number; stderr: string }> {
    try {
      return await session.run(batch);
    } catch (err) {
      this.logger?.warn({ dataplane: this.describe(), err: (err as Error).message }, 'nft session failed, applying the batch with nft -f');
      return this.runFile(batch);
    }
  }

  /** Whole-table batches (full sync, teardown): one `nft -f`, which parses large batches ~4x faster than the session. */
  private runFile(batch: NftBatch): Promise<{ exitCode: number; stderr: string }> {
    return withBatchFile(batch, (file) => this.runner.run('nft', ['-j', '-f', file]));
  }

  private async applyOrThrow(batch: NftBatch, what: string): Promise<void> {
    const r = await this.runFile(batch);
    if (r.exitCode !== 0) throw await this.failure(what, r.stderr, true);
    this.logger?.debug({ dataplane: this.describe(), op: what }, 'dataplane changed');
  }

  /** Undefined when the check itself fails: the caller then does not claim the table is gone. */
  private async tableExists(): Promise<boolean | undefined> {
    const r = await this.runner.run('nft', ['list', 'tables', this.nftFamily]);
    if (r.exitCode !== 0) return undefined;
    return r.stdout.split('\n').some((line) => line.trim() === `table ${this.nftFamily} ${this.table}`);
  }

  private async failure(what: string, stderr: string, checkTable: boolean): Promise<DataplaneError> {
    const tableMissing = checkTable && (await this.tableExists()) === false;
    const hint = tableMissing ? ` (table ${this.nftFamily} ${this.table} does not exist: repair needed)` : '';
    const message = `nft (${this.nftFamily} ${this.table}): ${what} failed: ${nftStderr(stderr) || 'no output'}${hint}`;
    return new DataplaneError(message, { tableMissing, stderr });
  }
}
