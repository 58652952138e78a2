import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { commandsSkipReason, describeUnless } from '@npl/testkit';
import {
  addRulePlan,
  chainRuleArgs,
  DEFAULT_IPTABLES_CHAIN,
  deleteAllRulesPlan,
  deleteRulePlan,
  initPlan,
  joinHostPort,
  jumpRuleArgs,
  renderRestorePayload,
  RESTORE_FLAGS,
  type IptablesGuard,
  type IptablesPlan,
} from './render-iptables.js';
import type { DnatMapping } from './types.js';

const CHAIN = 'ANTREA-NODE-PORT-LOCAL';
const JUMP = ['-p', 'all', '-m', 'addrtype', '--dst-type', 'LOCAL', '-j', CHAIN];
const mapping = (protocol: 'tcp' | 'udp', nodePort: number, podIP: string, podPort: number): DnatMapping => ({
  family: podIP.includes(':') ? 'IPv6' : 'IPv4',
  protocol,
  nodePort,
  podIP,
  podPort,
});

/** The calls of Antrea's mock iptables interface that a plan stands for: guard + action, as Antrea names them. */
function antreaCalls(plan: IptablesPlan): string[] {
  return plan.map((s) => `${s.op} ${s.chain} ${s.args.slice(4).join(' ')}`.trim());
}

describe('TestAddAndDeleteRule', () => {
  // Antrea calls AddRule(nodePort, podIP, nodePort, protocol): the pod port equals the node port.
  const cases = [
    { protocol: 'udp' as const, podIP: '10.10.10.0', expected: '10.10.10.0:7' },
    { protocol: 'tcp' as const, podIP: '10.10.0.2', expected: '10.10.0.2:7' },
  ];
  for (const c of cases) {
    it(`${c.podIP} (${c.protocol}): EnsureChain, jumps from PREROUTING and OUTPUT, AppendRule, DeleteRule`, () => {
      const m = mapping(c.protocol, 7, c.podIP, 7);
      const rule = ['-p', c.protocol, '-m', c.protocol, '--dport', '7', '-j', 'DNAT', '--to-destination', c.expected];
      expect(chainRuleArgs(m)).toEqual(rule);
      expect(jumpRuleArgs()).toEqual(JUMP);

      expect(initPlan()).toEqual([
        { op: 'new-chain', table: 'nat', chain: CHAIN, args: ['-t', 'nat', '-N', CHAIN], guards: [{ args: ['-t', 'nat', '-n', '-L', CHAIN], runWhen: 'missing' }] },
        { op: 'append', table: 'nat', chain: 'PREROUTING', args: ['-t', 'nat', '-A', 'PREROUTING', ...JUMP], guards: [{ args: ['-t', 'nat', '-C', 'PREROUTING', ...JUMP], runWhen: 'missing' }] },
        { op: 'append', table: 'nat', chain: 'OUTPUT', args: ['-t', 'nat', '-A', 'OUTPUT', ...JUMP], guards: [{ args: ['-t', 'nat', '-C', 'OUTPUT', ...JUMP], runWhen: 'missing' }] },
      ]);
      expect(addRulePlan(m)).toEqual([
        { op: 'append', table: 'nat', chain: CHAIN, args: ['-t', 'nat', '-A', CHAIN, ...rule], guards: [{ args: ['-t', 'nat', '-C', CHAIN, ...rule], runWhen: 'missing' }] },
      ]);
      expect(deleteRulePlan(m)).toEqual([
        { op: 'delete', table: 'nat', chain: CHAIN, args: ['-t', 'nat', '-D', CHAIN, ...rule], guards: [{ args: ['-t', 'nat', '-n', '-L', CHAIN], runWhen: 'exists' }, { args: ['-t', 'nat', '-C', CHAIN, ...rule], runWhen: 'exists' }] },
      ]);
    });
  }

  it('writes IPv6 destinations in brackets, as net.JoinHostPort does', () => {
    expect(chainRuleArgs(mapping('tcp', 61000, 'fd00::5', 80)).at(-1)).toBe('[fd00::5]:80');
    expect(joinHostPort('10.0.0.1', 80)).toBe('10.0.0.1:80');
  });

  it('uses a configured chain name everywhere', () => {
    const m = mapping('tcp', 61000, '10.0.0.1', 80);
    expect(antreaCalls([...initPlan('NPL-X'), ...addRulePlan(m, 'NPL-X')])).toEqual([
      'new-chain NPL-X',
      'append PREROUTING -p all -m addrtype --dst-type LOCAL -j NPL-X',
      'append OUTPUT -p all -m addrtype --dst-type LOCAL -j NPL-X',
      'append NPL-X -p tcp -m tcp --dport 61000 -j DNAT --to-destination 10.0.0.1:80',
    ]);
  });
});

describe('TestAddAndDeleteAllRules', () => {
  it('2 PodNodePort rules: exact restore payload, --noflush', () => {
    const payload = renderRestorePayload([mapping('udp', 8227, '10.10.10.11', 7237), mapping('tcp', 8247, '10.11.10.12', 7257)]);
    expect(payload).toBe(
      '*nat\n' +
        ':ANTREA-NODE-PORT-LOCAL - [0:0]\n' +
        '-A ANTREA-NODE-PORT-LOCAL -p udp -m udp --dport 8227 -j DNAT --to-destination 10.10.10.11:7237\n' +
        '-A ANTREA-NODE-PORT-LOCAL -p tcp -m tcp --dport 8247 -j DNAT --to-destination 10.11.10.12:7257\n' +
        'COMMIT\n',
    );
    expect(RESTORE_FLAGS).toEqual(['--noflush', '-w', '10', '-W', '200000']);
  });

  it('3 PodNodePort rules: exact restore payload; DeleteAllRules = ChainExists, delete 2 jumps, delete chain', () => {
    const payload = renderRestorePayload([
      mapping('tcp', 7, '10.10.10.10', 17),
      mapping('udp', 27, '10.10.10.11', 37),
      mapping('tcp', 47, '10.11.10.12', 57),
    ]);
    expect(payload).toBe(
      '*nat\n' +
        ':ANTREA-NODE-PORT-LOCAL - [0:0]\n' +
        '-A ANTREA-NODE-PORT-LOCAL -p tcp -m tcp --dport 7 -j DNAT --to-destination 10.10.10.10:17\n' +
        '-A ANTREA-NODE-PORT-LOCAL -p udp -m udp --dport 27 -j DNAT --to-destination 10.10.10.11:37\n' +
        '-A ANTREA-NODE-PORT-LOCAL -p tcp -m tcp --dport 47 -j DNAT --to-destination 10.11.10.12:57\n' +
        'COMMIT\n',
    );
    const plan = deleteAllRulesPlan();
    expect(antreaCalls(plan)).toEqual([
      `delete PREROUTING ${JUMP.join(' ')}`,
      `delete OUTPUT ${JUMP.join(' ')}`,
      'flush-chain ANTREA-NODE-PORT-LOCAL',
      'delete-chain ANTREA-NODE-PORT-LOCAL',
    ]);
    const chainGuard = { args: ['-t', 'nat', '-n', '-L', CHAIN], runWhen: 'exists' };
    for (const step of plan) expect(step.guards[0]).toEqual(chainGuard);
    expect(plan[0]?.guards[1]).toEqual({ args: ['-t', 'nat', '-C', 'PREROUTING', ...JUMP], runWhen: 'exists' });
  });

  it('an empty set still declares (and so flushes) the chain', () => {
    expect(renderRestorePayload([], 'X')).toBe('*nat\n:X - [0:0]\nCOMMIT\n');
    expect(DEFAULT_IPTABLES_CHAIN).toBe(CHAIN);
  });
});

// Real kernel: the payload and plans as iptables 1.8.9 runs them inside a throwaway netns.

describeUnless(
  commandsSkipReason('iptables-restore in a network namespace', ['iptables-restore', 'ip6tables-restore', 'ip']),
  'iptables-restore in a throwaway netns',
  () => {
  const ns = `npl-core-test-ipt-${randomBytes(4).toString('hex')}`;
  let created = false;
  const run = (bin: string, args: readonly string[], input?: string) =>
    spawnSync('ip', ['netns', 'exec', ns, bin, ...args], { input, encoding: 'utf8' });
  const ok = (bin: string, args: readonly string[], input?: string): string => {
    const r = run(bin, args, input);
    if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  const execute = (bin: string, plan: IptablesPlan): void => {
    for (const step of plan) {
      if (step.guards.every((g) => guardHolds(bin, g))) ok(bin, step.args);
    }
  };
  const guardHolds = (bin: string, guard: IptablesGuard): boolean => {
    const status = run(bin, guard.args).status;
    if (status !== 0 && status !== 1) throw new Error(`guard ${guard.args.join(' ')} exited ${status}`);
    return (status === 0) === (guard.runWhen === 'exists');
  };
  const natRules = (bin: string): string[] =>
    ok(`${bin}-save`, ['-t', 'nat'])
      .split('\n')
      .filter((l) => l.startsWith('-A ') || l.startsWith(':ANTREA'));

  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', ns]);
    created = true;
  });
  afterAll(() => {
    if (created) execFileSync('ip', ['netns', 'del', ns]);
  });

  const cases = [
    { bin: 'iptables', stale: mapping('tcp', 61009, '198.18.1.9', 9), ms: [mapping('tcp', 61000, '198.18.1.2', 80), mapping('udp', 61001, '198.18.1.3', 53)] },
    { bin: 'ip6tables', stale: mapping('tcp', 61009, 'fd00::9', 9), ms: [mapping('tcp', 61000, 'fd00::2', 80), mapping('udp', 61001, 'fd00::3', 53)] },
  ];
  for (const { bin, stale, ms } of cases) {
    it(`${bin}: init, restore --noflush replacing a stale rule, add/delete idempotently, delete all`, () => {
      execute(bin, initPlan());
      execute(bin, initPlan());
      execute(bin, addRulePlan(stale));
      ok(`${bin}-restore`, RESTORE_FLAGS, renderRestorePayload(ms));
      const dnat = (m: DnatMapping) => `-A ${CHAIN} ${chainRuleArgs(m).join(' ').replace(/^-p (\w+) -m \w+/, '-p $1 -m $1')}`;
      expect(natRules(bin)).toEqual([
        `:${CHAIN} - [0:0]`,
        `-A PREROUTING ${JUMP.slice(2).join(' ')}`,
        `-A OUTPUT ${JUMP.slice(2).join(' ')}`,
        ...ms.map(dnat),
      ]);

      execute(bin, addRulePlan(stale));
      execute(bin, addRulePlan(stale));
      expect(natRules(bin).filter((l) => l.includes('--dport 61009'))).toHaveLength(1);
      execute(bin, deleteRulePlan(stale));
      execute(bin, deleteRulePlan(stale));
      expect(natRules(bin).filter((l) => l.includes('--dport 61009'))).toHaveLength(0);

      execute(bin, deleteAllRulesPlan());
      execute(bin, deleteAllRulesPlan());
      expect(natRules(bin)).toEqual([]);
    });
  }
});
