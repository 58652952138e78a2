/** Reading our chain back from `iptables-save -t nat` output (pure). */
import type { DnatMapping, IPFamily, Protocol } from '@npl/core';
import { JUMP_FROM_CHAINS, jumpRuleArgs } from '@npl/core';

export interface SavedChain {
  /** The chain is declared (`:CHAIN - [0:0]`). */
  readonly chainExists: boolean;
  /** Built-in chains (PREROUTING, OUTPUT) that lack the jump to our chain. */
  readonly missingJumps: string[];
  /** Our chain's DNAT rules, in chain order. */
  readonly mappings: DnatMapping[];
  /** Lines of our chain that are not a DNAT rule of ours, and duplicated rules. */
  readonly foreignRules: string[];
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function ruleRegex(chain: string): RegExp {
  return new RegExp(
    `^-A ${escape(chain)} -p (tcp|udp) -m (?:tcp|udp) --dport (\\d+) -j DNAT --to-destination (?:\\[([0-9a-fA-F:.]+)\\]|([0-9.]+)):(\\d+)$`,
  );
}

/** iptables-save leaves out `-p all`; accept the jump with or without it. */
function jumpLines(from: string, chain: string): string[] {
  const args = jumpRuleArgs(chain);
  const withoutAll = args.join(' ').replace(/^-p all /, '');
  return [`-A ${from} ${args.join(' ')}`, `-A ${from} ${withoutAll}`];
}

function parseRule(line: string, re: RegExp, family: IPFamily): DnatMapping | undefined {
  const m = re.exec(line);
  if (!m) return undefined;
  const podIP = m[3] ?? m[4] ?? '';
  return { family, protocol: m[1] as Protocol, nodePort: Number(m[2]), podIP, podPort: Number(m[5]) };
}

/** Our chain as `iptables-save -t nat` (or ip6tables-save) printed it. */
export function parseSavedChain(save: string, chain: string, family: IPFamily): SavedChain {
  const lines = save.split('\n').map((l) => l.trim());
  const re = ruleRegex(chain);
  const mappings: DnatMapping[] = [];
  const foreignRules: string[] = [];
  const seen = new Set<string>();
  for (const line of lines.filter((l) => l.startsWith(`-A ${chain} `))) {
    const m = parseRule(line, re, family);
    if (m && !seen.has(line)) mappings.push(m);
    else foreignRules.push(m ? `duplicate rule: ${line}` : line);
    seen.add(line);
  }
  const missingJumps = JUMP_FROM_CHAINS.filter((from) => !jumpLines(from, chain).some((j) => lines.includes(j)));
  return { chainExists: lines.some((l) => l.startsWith(`:${chain} `)), missingJumps, mappings, foreignRules };
}
