/**
 * Antrea's iptables dataplane (`rules/iptable_rule.go`) as pure data: rule specs byte-for-byte,
 * the `iptables-restore --noflush` payload, and command plans that an executor runs in order.
 * The same shapes serve iptables (IPv4) and ip6tables (IPv6); only the binary differs.
 */
import type { DnatMapping } from './types.js';

/** Antrea's NodePortLocalChain. */
export const DEFAULT_IPTABLES_CHAIN = 'ANTREA-NODE-PORT-LOCAL';

/** Built-in nat chains that jump to the NodePortLocal chain, in Antrea's order. */
export const JUMP_FROM_CHAINS = ['PREROUTING', 'OUTPUT'] as const;

/** Flags of Antrea's start-up restore with iptables-restore >= 1.6.2: keep other chains, wait for the xtables lock. */
export const RESTORE_FLAGS: readonly string[] = Object.freeze(['--noflush', '-w', '10', '-W', '200000']);

/** `host:port`, IPv6 in brackets (Go's net.JoinHostPort). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The DNAT rule spec of one mapping inside the chain (Antrea's buildRuleForPod). */
export function chainRuleArgs(m: DnatMapping): string[] {
  return [
    '-p', m.protocol,
    '-m', m.protocol,
    '--dport', String(m.nodePort),
    '-j', 'DNAT',
    '--to-destination', joinHostPort(m.podIP, m.podPort),
  ];
}

/** The rule spec that PREROUTING and OUTPUT use to jump to `chain` for node-local destinations. */
export function jumpRuleArgs(chain: string = DEFAULT_IPTABLES_CHAIN): string[] {
  return ['-p', 'all', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', chain];
}

/**
 * The `iptables-restore --noflush` input that atomically replaces `chain` by exactly `mappings`
 * (Antrea's AddAllRules), in the given order. `[]` leaves the chain present and empty.
 */
export function renderRestorePayload(mappings: readonly DnatMapping[], chain: string = DEFAULT_IPTABLES_CHAIN): string {
  const lines = ['*nat', `:${chain} - [0:0]`, ...mappings.map((m) => ['-A', chain, ...chainRuleArgs(m)].join(' ')), 'COMMIT'];
  return lines.map((l) => `${l}\n`).join('');
}

/** One iptables invocation of a plan. */
export interface IptablesStep {
  readonly op: 'new-chain' | 'append' | 'delete' | 'flush-chain' | 'delete-chain';
  readonly table: 'nat';
  readonly chain: string;
  /** Full argument vector after the binary name (`iptables`/`ip6tables`). */
  readonly args: readonly string[];
  /**
   * Run `args` only when every guard command (`-n -L` for a chain, `-C` for a rule), checked in
   * order, reports its object `exists` (exit 0) or `missing` (exit 1) as asked; stop checking at
   * the first guard that does not hold. Any other guard exit code is an error.
   */
  readonly guards: readonly IptablesGuard[];
}

export interface IptablesGuard {
  readonly args: readonly string[];
  readonly runWhen: 'exists' | 'missing';
}

/**
 * An ordered list of steps. Executor contract: run each step's guard, then (when the guard says
 * so) its args; a non-zero exit of `args` fails the plan at that step. Every plan is idempotent.
 */
export type IptablesPlan = readonly IptablesStep[];

const chainExists = (chain: string): string[] => ['-t', 'nat', '-n', '-L', chain];
const ruleExists = (chain: string, rule: readonly string[]): string[] => ['-t', 'nat', '-C', chain, ...rule];

function appendStep(chain: string, rule: readonly string[]): IptablesStep {
  return {
    op: 'append',
    table: 'nat',
    chain,
    args: ['-t', 'nat', '-A', chain, ...rule],
    guards: [{ args: ruleExists(chain, rule), runWhen: 'missing' }],
  };
}

/** `-C` exits 2 (not 1) when the rule names a chain that does not exist: check the chain first. */
function deleteStep(chain: string, rule: readonly string[], requiredChain: string): IptablesStep {
  return {
    op: 'delete',
    table: 'nat',
    chain,
    args: ['-t', 'nat', '-D', chain, ...rule],
    guards: [
      { args: chainExists(requiredChain), runWhen: 'exists' },
      { args: ruleExists(chain, rule), runWhen: 'exists' },
    ],
  };
}

/** Antrea's Init: EnsureChain, then AppendRule of the jump in PREROUTING and OUTPUT. */
export function initPlan(chain: string = DEFAULT_IPTABLES_CHAIN): IptablesPlan {
  return [
    {
      op: 'new-chain',
      table: 'nat',
      chain,
      args: ['-t', 'nat', '-N', chain],
      guards: [{ args: chainExists(chain), runWhen: 'missing' }],
    },
    ...JUMP_FROM_CHAINS.map((from) => appendStep(from, jumpRuleArgs(chain))),
  ];
}

/** Antrea's AddRule: append the mapping's DNAT rule unless present. */
export function addRulePlan(m: DnatMapping, chain: string = DEFAULT_IPTABLES_CHAIN): IptablesPlan {
  return [appendStep(chain, chainRuleArgs(m))];
}

/** Antrea's DeleteRule: delete the mapping's DNAT rule if present (absent rule or chain = success). */
export function deleteRulePlan(m: DnatMapping, chain: string = DEFAULT_IPTABLES_CHAIN): IptablesPlan {
  return [deleteStep(chain, chainRuleArgs(m), chain)];
}

/**
 * Antrea's DeleteAllRules (clean uninstall): remove both jumps, then flush and delete the chain.
 * Every step is guarded, so the plan is a no-op when nothing is installed.
 */
export function deleteAllRulesPlan(chain: string = DEFAULT_IPTABLES_CHAIN): IptablesPlan {
  const guards = [{ args: chainExists(chain), runWhen: 'exists' }] as const;
  return [
    ...JUMP_FROM_CHAINS.map((from) => deleteStep(from, jumpRuleArgs(chain), chain)),
    { op: 'flush-chain', table: 'nat', chain, args: ['-t', 'nat', '-F', chain], guards },
    { op: 'delete-chain', table: 'nat', chain, args: ['-t', 'nat', '-X', chain], guards },
  ];
}
