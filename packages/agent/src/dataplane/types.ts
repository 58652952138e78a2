import type { DnatMapping, MappingRules } from '@npl/core';

/** What `verify` found, compared with the mappings the caller expects to be installed. */
export interface DataplaneDrift {
  /** Expected mappings that are absent, point elsewhere, or whose rules were altered. */
  readonly missing: DnatMapping[];
  /** Installed mappings that are not expected (stale, or added by someone else). */
  readonly unexpected: DnatMapping[];
  /** Our nftables table, or our iptables chain, does not exist at all. */
  readonly tableMissing: boolean;
  /** The static part (hook chains, jump rules, map, masquerade) was altered; see staticProblems. */
  readonly staticDrift: boolean;
  /** What is wrong with the static part, one line per finding, for logs; empty when intact. */
  readonly staticProblems: string[];
  /** True when nothing above was found: `repair` would change nothing. */
  readonly inSync: boolean;
}

/**
 * One IP family's NodePortLocal dataplane. Every method throws DataplaneError (NplError code
 * NPL_DATAPLANE_FAILED) when the tool fails, with the tool's stderr in the message and
 * `tableMissing` set when our table or chain is gone (the caller then verifies and repairs).
 * A mapping of the other family is rejected with NplError NPL_ADDRESS_INVALID before any command.
 */
export interface Dataplane extends MappingRules {
  /**
   * Prepares the dataplane without touching installed mappings (iptables: chain and jumps, as
   * Antrea's Init; nftables: checks that nft can list rules). Idempotent. Call `replaceAll` next.
   */
  init(): Promise<void>;
  /** Compares what is installed with `expected` (IPs compared canonically); reads only. */
  verify(expected: readonly DnatMapping[]): Promise<DataplaneDrift>;
  /** Reinstalls everything, static part included, with exactly `expected`; atomic per family. */
  repair(expected: readonly DnatMapping[]): Promise<void>;
  /** Removes our table, or our chain and its jumps. Idempotent: nothing installed is a success. */
  teardown(): Promise<void>;
  /** The tool's version line (e.g. `nftables v1.0.6 (Lester Gooch #5)`); throws when it cannot run. */
  available(): Promise<string>;
  /** Releases what the dataplane holds open (the nft session); installed rules stay. Idempotent. */
  close(): void;
  /** Where the rules live, for logs: e.g. `nftables ip npl`, `iptables-nft nat ANTREA-NODE-PORT-LOCAL`. */
  describe(): string;
}
