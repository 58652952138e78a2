/**
 * The iptables fallback of one family with Antrea's exact rules (spec §4): chain
 * ANTREA-NODE-PORT-LOCAL in nat, jumps from PREROUTING and OUTPUT for local destinations, one
 * DNAT rule per mapping, start-up sync by `iptables-restore --noflush`. Byte-compatible with an
 * Antrea agent, so either can take over the other's rules.
 *
 * Hairpin is NOT supported here: a pod reaching itself through its own node port fails unless
 * the CNI masquerades that traffic (Antrea does, outside NodePortLocal). Fixing it needs a
 * per-pod source match, i.e. rules Antrea's chain does not have, which would break the byte
 * compatibility this backend exists for; use the nftables dataplane for hairpin. Access from
 * outside the node and from the node itself (OUTPUT jump) works.
 */
import type { Logger } from 'pino';
import {
  DEFAULT_IPTABLES_CHAIN,
  RESTORE_FLAGS,
  addRulePlan,
  deleteAllRulesPlan,
  deleteRulePlan,
  initPlan,
  renderRestorePayload,
} from '@npl/core';
import type { DnatMapping, IPFamily, IptablesPlan, IptablesStep } from '@npl/core';
import { DataplaneError, stderrForMessage } from './dataplane-error.js';
import type { CommandRunner, RunResult } from './exec.js';
import { ExecaRunner } from './exec.js';
import type { IptablesBackend, IptablesBinaries } from './iptables-backend.js';
import { detectBackend, iptablesBinaries } from './iptables-backend.js';
import { parseSavedChain } from './iptables-save.js';
import { assertFamily, compareMappings, describeMapping } from './mappings.js';
import { Serial } from './serial.js';
import type { Dataplane, DataplaneDrift } from './types.js';

export interface IptablesDataplaneOptions {
  readonly family: IPFamily;
  /** `auto`: detectBackend on first use (its probes never fail; nft when nothing is found). */
  readonly backend: IptablesBackend | 'auto';
  /** Default Antrea's ANTREA-NODE-PORT-LOCAL. */
  readonly chain?: string;
  readonly runner?: CommandRunner;
  readonly logger?: Logger;
}

/** Wait up to 10 s for the xtables lock, as go-iptables' `--wait` does for Antrea. */
const WAIT = ['-w', '10'];

class StepFailed extends Error {
  constructor(
    readonly args: readonly string[],
    readonly result: RunResult,
  ) {
    super(`${args.join(' ')} exited ${result.exitCode}`);
  }
}

export class IptablesDataplane implements Dataplane {
  readonly family: IPFamily;
  readonly chain: string;
  private bin: IptablesBinaries | undefined;
  private backend: Promise<IptablesBinaries> | undefined;
  private readonly wanted: IptablesBackend | 'auto';
  private readonly runner: CommandRunner;
  private readonly logger: Logger | undefined;
  private readonly serial = new Serial();

  constructor(options: IptablesDataplaneOptions) {
    this.family = options.family;
    this.chain = options.chain ?? DEFAULT_IPTABLES_CHAIN;
    this.wanted = options.backend;
    if (options.backend !== 'auto') this.bin = iptablesBinaries(options.backend, options.family);
    this.runner = options.runner ?? new ExecaRunner();
    this.logger = options.logger;
  }

  /** `iptables-nft nat CHAIN`; `iptables-auto …` until the backend was detected. */
  /** Nothing is held open between commands. */
  close(): void {}

  describe(): string {
    return `${this.bin?.cmd ?? `${this.family === 'IPv4' ? 'iptables' : 'ip6tables'}-auto`} nat ${this.chain}`;
  }

  async available(): Promise<string> {
    const bin = await this.binaries();
    const r = await this.runner.run(bin.cmd, ['--version']);
    if (r.exitCode !== 0) throw await this.failure(bin, '--version', new StepFailed(['--version'], r));
    return r.stdout.trim();
  }

  init(): Promise<void> {
    return this.runPlan(initPlan(this.chain), 'init');
  }

  add(m: DnatMapping): Promise<void> {
    assertFamily(this.family, m);
    return this.runPlan(addRulePlan(m, this.chain), `add ${describeMapping(m)}`);
  }

  delete(m: DnatMapping): Promise<void> {
    assertFamily(this.family, m);
    return this.runPlan(deleteRulePlan(m, this.chain), `delete ${describeMapping(m)}`);
  }

  replaceAll(ms: readonly DnatMapping[]): Promise<void> {
    ms.forEach((m) => assertFamily(this.family, m));
    return this.serial.run(async () => {
      const bin = await this.binaries();
      const started = Date.now();
      const input = renderRestorePayload(ms, this.chain);
      const r = await this.runner.run(bin.restore, RESTORE_FLAGS, { input });
      if (r.exitCode !== 0) throw await this.failure(bin, `restore of ${ms.length} mapping(s)`, new StepFailed(RESTORE_FLAGS, r));
      this.logger?.info({ dataplane: this.describe(), mappings: ms.length, ms: Date.now() - started }, 'dataplane synced');
    });
  }

  async repair(expected: readonly DnatMapping[]): Promise<void> {
    await this.replaceAll(expected);
    await this.init();
  }

  teardown(): Promise<void> {
    return this.runPlan(deleteAllRulesPlan(this.chain), 'teardown');
  }

  async verify(expected: readonly DnatMapping[]): Promise<DataplaneDrift> {
    const bin = await this.binaries();
    const r = await this.runner.run(bin.save, ['-t', 'nat']);
    if (r.exitCode !== 0) throw await this.failure(bin, 'save -t nat', new StepFailed(['-t', 'nat'], r));
    const saved = parseSavedChain(r.stdout, this.chain, this.family);
    const staticProblems = [
      ...saved.missingJumps.map((from) => `jump from ${from} to ${this.chain} is missing`),
      ...saved.foreignRules.map((line) => `unexpected rule in ${this.chain}: ${line}`),
    ];
    return compareMappings(expected, { installed: saved.mappings, tableMissing: !saved.chainExists, staticProblems });
  }

  private runPlan(plan: IptablesPlan, what: string): Promise<void> {
    return this.serial.run(async () => {
      const bin = await this.binaries();
      try {
        for (const step of plan) await this.runStep(bin, step);
      } catch (err) {
        throw await this.failure(bin, what, err, true);
      }
      this.logger?.debug({ dataplane: this.describe(), op: what }, 'dataplane changed');
    });
  }

  private binaries(): Promise<IptablesBinaries> {
    this.backend ??= (async () => {
      const backend = this.wanted === 'auto' ? await detectBackend(this.runner) : this.wanted;
      this.bin = iptablesBinaries(backend, this.family);
      if (this.wanted === 'auto') this.logger?.info({ family: this.family, backend }, 'iptables backend detected');
      return this.bin;
    })();
    return this.backend;
  }

  private async runStep(bin: IptablesBinaries, step: IptablesStep): Promise<void> {
    for (const guard of step.guards) {
      const r = await this.runner.run(bin.cmd, [...WAIT, ...guard.args]);
      if (r.exitCode !== 0 && r.exitCode !== 1) throw new StepFailed(guard.args, r);
      if ((r.exitCode === 0 ? 'exists' : 'missing') !== guard.runWhen) return;
    }
    const r = await this.runner.run(bin.cmd, [...WAIT, ...step.args]);
    if (r.exitCode !== 0) throw new StepFailed(step.args, r);
  }

  private async chainExists(bin: IptablesBinaries): Promise<boolean | undefined> {
    const r = await this.runner.run(bin.cmd, [...WAIT, '-t', 'nat', '-n', '-L', this.chain]).catch(() => undefined);
    if (r === undefined || (r.exitCode !== 0 && r.exitCode !== 1)) return undefined;
    return r.exitCode === 0;
  }

  private async failure(bin: IptablesBinaries, what: string, err: unknown, checkChain = false): Promise<Error> {
    if (!(err instanceof StepFailed)) return err instanceof Error ? err : new Error(String(err));
    const tableMissing = checkChain && (await this.chainExists(bin)) === false;
    const hint = tableMissing ? ` (chain ${this.chain} does not exist: repair needed)` : '';
    const stderr = err.result.stderr;
    const message =
      `${bin.cmd} (nat ${this.chain}): ${what} failed: \`${err.args.join(' ')}\` exited ${err.result.exitCode}: ` +
      `${stderrForMessage(stderr) || 'no output'}${hint}`;
    return new DataplaneError(message, { tableMissing, stderr, cause: err });
  }
}
