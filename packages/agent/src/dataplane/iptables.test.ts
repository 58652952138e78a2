import { describe, expect, it } from '@jest/globals';
import { RESTORE_FLAGS, renderRestorePayload } from '@npl/core';
import type { DnatMapping } from '@npl/core';
import { createDataplane } from './index.js';
import { isDataplaneError } from './dataplane-error.js';
import { RecordingRunner } from './exec.js';
import { IptablesDataplane } from './iptables.js';

const C = 'ANTREA-NODE-PORT-LOCAL';
const web: DnatMapping = { family: 'IPv4', protocol: 'tcp', nodePort: 61000, podIP: '198.18.1.5', podPort: 80 };
const RULE = '-p tcp -m tcp --dport 61000 -j DNAT --to-destination 198.18.1.5:80';

describe('IptablesDataplane with a fake iptables', () => {
  it('add checks with -C, then appends (Antrea AddRule)', async () => {
    const runner = new RecordingRunner(({ args }) => (args.includes('-C') ? { exitCode: 1 } : undefined));
    await new IptablesDataplane({ family: 'IPv4', backend: 'nft', runner }).add(web);
    expect(runner.commandLines()).toEqual([`iptables-nft -w 10 -t nat -C ${C} ${RULE}`, `iptables-nft -w 10 -t nat -A ${C} ${RULE}`]);
  });

  it('delete of an absent rule runs only the guards', async () => {
    const runner = new RecordingRunner(({ args }) => (args.includes('-C') ? { exitCode: 1 } : undefined));
    await new IptablesDataplane({ family: 'IPv4', backend: 'legacy', chain: 'NPL-X', runner }).delete(web);
    expect(runner.commandLines()).toEqual([
      'iptables-legacy -w 10 -t nat -n -L NPL-X',
      `iptables-legacy -w 10 -t nat -C NPL-X ${RULE}`,
    ]);
  });

  it('a guard exiting with anything but 0 or 1 fails the plan with the stderr', async () => {
    const runner = new RecordingRunner(({ args }) =>
      args.includes('-C') ? { exitCode: 2, stderr: "iptables v1.8.9 (nf_tables): Chain 'X' does not exist\n" } : undefined,
    );
    const err: unknown = await new IptablesDataplane({ family: 'IPv4', backend: 'nft', runner }).init().then(() => undefined, (e: unknown) => e);
    expect(isDataplaneError(err)).toBe(true);
    expect((err as Error).message).toBe(
      `iptables-nft (nat ${C}): init failed: \`-t nat -C PREROUTING -p all -m addrtype --dst-type LOCAL -j ${C}\` exited 2: ` +
        "iptables v1.8.9 (nf_tables): Chain 'X' does not exist",
    );
    expect(runner.commandLines()).toEqual([
      `iptables-nft -w 10 -t nat -n -L ${C}`,
      `iptables-nft -w 10 -t nat -C PREROUTING -p all -m addrtype --dst-type LOCAL -j ${C}`,
      `iptables-nft -w 10 -t nat -n -L ${C}`,
    ]);
  });

  it('a failed append into a deleted chain is tableMissing', async () => {
    const runner = new RecordingRunner(({ args }) => {
      if (args.includes('-C') || args.includes('-L')) return { exitCode: 1 };
      if (args.includes('-A')) return { exitCode: 1, stderr: 'iptables: No chain/target/match by that name.' };
      return undefined;
    });
    const err: unknown = await new IptablesDataplane({ family: 'IPv4', backend: 'nft', runner }).add(web).then(() => undefined, (e: unknown) => e);
    expect(isDataplaneError(err) && err.tableMissing).toBe(true);
    expect((err as Error).message).toContain('No chain/target/match by that name. (chain ANTREA-NODE-PORT-LOCAL does not exist: repair needed)');
  });

  it('replaceAll runs ip6tables-restore with Antrea flags and the payload on stdin', async () => {
    const runner = new RecordingRunner();
    const v6: DnatMapping = { family: 'IPv6', protocol: 'udp', nodePort: 61001, podIP: '2001:db8::6', podPort: 53 };
    await new IptablesDataplane({ family: 'IPv6', backend: 'legacy', runner }).replaceAll([v6]);
    expect(runner.calls).toEqual([{ cmd: 'ip6tables-legacy-restore', args: [...RESTORE_FLAGS], input: renderRestorePayload([v6]) }]);
  });

  it('createDataplane with backend auto detects it once, on first use, as iptables-wrappers does', async () => {
    const runner = new RecordingRunner(({ cmd }) => (cmd === 'iptables-legacy-save' ? { stdout: ':KUBE-KUBELET-CANARY - [0:0]\n' } : undefined));
    const dp = createDataplane({ kind: 'iptables', family: 'IPv4', runner });
    expect(runner.calls).toEqual([]);
    expect(dp.describe()).toBe('iptables-auto nat ANTREA-NODE-PORT-LOCAL');
    await dp.replaceAll([]);
    await dp.replaceAll([]);
    expect(dp.describe()).toBe('iptables-legacy nat ANTREA-NODE-PORT-LOCAL');
    expect(runner.calls.map((c) => c.cmd)).toEqual([
      'iptables-nft-save',
      'ip6tables-nft-save',
      'iptables-legacy-save',
      'iptables-legacy-restore',
      'iptables-legacy-restore',
    ]);
  });

  it('createDataplane builds an nftables dataplane without running anything', () => {
    const runner = new RecordingRunner();
    expect(createDataplane({ kind: 'nftables', family: 'IPv6', table: 'npl2', runner }).describe()).toBe('nftables ip6 npl2');
    expect(runner.calls).toEqual([]);
  });
});
