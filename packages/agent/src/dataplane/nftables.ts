/**
 * The nftables dataplane of one family: core's JSON batches applied with `nft -j -f <file>`. The
 * batch goes through a private temporary file because nft opens /dev/stdin, which fails (ENXIO)
 * on the socket Node gives a child as stdin, and argv is capped at 128 KiB.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DEFAULT_NFT_TABLE, nftFamily, renderAdd, renderDelete, renderFullSync, renderTeardown } from '@npl/core';
import type { DnatMapping, IPFamily, NftBatch, NftFamily, NftOptions } from '@npl/core';
import { DataplaneError, stderrForMessage } from './dataplane-error.js';
import type { CommandRunner } from './exec.js';
import { ExecaRunner } from './exec.js';
import { assertFamily, compareMappings, describeMapping } from './mappings.js';
import { inspectNftListing } from './nft-inspect.js';
import { Serial } from './serial.js';
import type { Dataplane, DataplaneDrift } from './types.js';

export interface NftablesDataplaneOptions {
  readonly family: IPFamily;
  /** Table name; default `npl`. */
  readonly table?: string;
  /** Conntrack mark bit of hairpin connections; default core's DEFAULT_HAIRPIN_MARK. */
  readonly hairpinMark?: number;
  readonly runner?: CommandRunner;
  readonly logger?: Logger;
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

export class NftablesDataplane implements Dataplane {
  readonly family: IPFamily;
  private readonly nftFamily: NftFamily;
  private readonly table: string;
  private readonly opts: NftOptions;
  private readonly runner: CommandRunner;
  private readonly logger: Logger | undefined;
  private readonly serial = new Serial();

  constructor(options: NftablesDataplaneOptions) {
    this.family = options.family;
    this.nftFamily = nftFamily(options.family);
    this.table = options.table ?? DEFAULT_NFT_TABLE;
    this.opts = { table: this.table, ...(options.hairpinMark === undefined ? {} : { hairpinMark: options.hairpinMark }) };
    this.runner = options.runner ?? new ExecaRunner();
    this.logger = options.logger;
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

  add(m: DnatMapping): Promise<void> {
    assertFamily(this.family, m);
    return this.apply(renderAdd(this.family, m, this.opts), `add ${describeMapping(m)}`);
  }

  delete(m: DnatMapping): Promise<void> {
    assertFamily(this.family, m);
    return this.apply(renderDelete(this.family, m, this.opts), `delete ${describeMapping(m)}`);
  }

  async replaceAll(ms: readonly DnatMapping[]): Promise<void> {
    ms.forEach((m) => assertFamily(this.family, m));
    const started = Date.now();
    await this.apply(renderFullSync(this.family, ms, this.opts), `full sync of ${ms.length} mapping(s)`);
    this.logger?.info({ dataplane: this.describe(), mappings: ms.length, ms: Date.now() - started }, 'dataplane synced');
  }

  repair(expected: readonly DnatMapping[]): Promise<void> {
    return this.replaceAll(expected);
  }

  teardown(): Promise<void> {
    return this.apply(renderTeardown(this.family, this.opts), 'teardown');
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

  private apply(batch: NftBatch, what: string): Promise<void> {
    return this.serial.run(async () => {
      const r = await withBatchFile(batch, (file) => this.runner.run('nft', ['-j', '-f', file]));
      if (r.exitCode !== 0) throw await this.failure(what, r.stderr, true);
      this.logger?.debug({ dataplane: this.describe(), op: what }, 'dataplane changed');
    });
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
