/**
 * The agent's dataplane: `createDataplane` builds one family's NodePortLocal rules on nftables
 * (default, with hairpin) or on iptables (Antrea's exact rules, backend detected as
 * iptables-wrappers does).
 */
import type { Logger } from 'pino';
import type { IPFamily } from '@npl/core';
import type { CommandRunner } from './exec.js';
import { ExecaRunner } from './exec.js';
import type { IptablesBackend } from './iptables-backend.js';
import { IptablesDataplane } from './iptables.js';
import { NftablesDataplane } from './nftables.js';
import type { Dataplane } from './types.js';

export type DataplaneKind = 'nftables' | 'iptables';

export interface DataplaneOptions {
  readonly kind: DataplaneKind;
  readonly family: IPFamily;
  /** nftables: table name (default `npl`). */
  readonly table?: string;
  /** iptables: chain name (default ANTREA-NODE-PORT-LOCAL). */
  readonly chain?: string;
  /** iptables: `auto` (default) detects it as iptables-wrappers does. */
  readonly iptablesBackend?: IptablesBackend | 'auto';
  readonly runner?: CommandRunner;
  readonly logger?: Logger;
}

/**
 * One family's dataplane. Runs no command and changes nothing on the node: call `init()`, then
 * `replaceAll()`. iptables with backend `auto` (default) detects it on first use.
 */
export function createDataplane(o: DataplaneOptions): Dataplane {
  const runner = o.runner ?? new ExecaRunner();
  const common = { family: o.family, runner, ...(o.logger ? { logger: o.logger } : {}) };
  if (o.kind === 'nftables') {
    // A long-lived nft session unless the caller injected its own runner (tests).
    return new NftablesDataplane({ ...common, session: o.runner ? false : ['nft'], ...(o.table ? { table: o.table } : {}) });
  }
  return new IptablesDataplane({ ...common, backend: o.iptablesBackend ?? 'auto', ...(o.chain ? { chain: o.chain } : {}) });
}

export type { Dataplane, DataplaneDrift } from './types.js';
export { DataplaneError, isDataplaneError } from './dataplane-error.js';
export { ExecaRunner, RecordingRunner, missingBinaryError, netnsRunner, DEFAULT_TIMEOUT_MS } from './exec.js';
export type { CommandRunner, FakeResponder, RecordedCall, RunOptions, RunResult } from './exec.js';
export { BACKEND_PROBES, chooseBackend, detectBackend, hasKubeletChains, iptablesBinaries } from './iptables-backend.js';
export type { IptablesBackend, IptablesBinaries } from './iptables-backend.js';
export { IptablesDataplane } from './iptables.js';
export type { IptablesDataplaneOptions } from './iptables.js';
export { NftablesDataplane } from './nftables.js';
export type { NftablesDataplaneOptions } from './nftables.js';
