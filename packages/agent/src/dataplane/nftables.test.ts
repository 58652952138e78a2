import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { isNplError, renderAdd, renderFullSync } from '@npl/core';
import type { DnatMapping, NftBatch } from '@npl/core';
import { isDataplaneError } from './dataplane-error.js';
import type { RecordedCall } from './exec.js';
import { RecordingRunner, missingBinaryError } from './exec.js';
import { NftablesDataplane, nftStderr } from './nftables.js';

const web: DnatMapping = { family: 'IPv4', protocol: 'tcp', nodePort: 61000, podIP: '198.18.1.5', podPort: 80 };
const dns: DnatMapping = { family: 'IPv4', protocol: 'udp', nodePort: 61001, podIP: '198.18.1.6', podPort: 53 };
const NFT_ERROR = 'internal:0:0-0: Error: Could not process rule: No such file or directory\n\ninternal:0:0-0: Error: Could not process rule: No such file or directory\n';

/** What `nft -j list table` prints after applying `batch`: the added objects with handles, elements inside the map. */
function listingOf(batch: NftBatch): string {
  const objects = batch.nftables.flatMap((c) => ('add' in c ? [c.add] : []));
  const elems = objects.flatMap((o) => ('element' in o ? ((o['element'] as { elem: unknown[] }).elem ?? []) : []));
  const items = objects
    .filter((o) => !('element' in o))
    .map((o, handle) => {
      const [kind, body] = Object.entries(o)[0] as [string, Record<string, unknown>];
      const extra = kind === 'map' ? { elem: elems } : {};
      return { [kind]: { ...body, handle, ...extra } };
    });
  return JSON.stringify({ nftables: [{ metainfo: { version: '1.0.6', json_schema_version: 1 } }, ...items] });
}

type Listing = { tables: string; table?: string; applyExit?: number };

function fakeNft(state: Listing): RecordingRunner {
  return new RecordingRunner((call: RecordedCall) => {
    const [a0, a1, a2] = call.args;
    if (a0 === '-j' && a1 === '-f') return { exitCode: state.applyExit ?? 0, stderr: state.applyExit ? NFT_ERROR : '' };
    if (a0 === 'list' && a1 === 'tables') return { stdout: state.tables };
    if (a0 === '-j' && a1 === 'list' && a2 === 'table') {
      return state.table === undefined ? { exitCode: 1, stderr: 'Error: No such file or directory' } : { stdout: state.table };
    }
    return undefined;
  });
}

describe('NftablesDataplane with a fake nft', () => {
  it('applies each batch from a private temporary file that is removed afterwards', async () => {
    const seen: { batch: unknown; mode: number; file: string }[] = [];
    const runner = new RecordingRunner(({ args }) => {
      const file = args[2] ?? '';
      seen.push({ batch: JSON.parse(readFileSync(file, 'utf8')), mode: statSync(file).mode & 0o777, file });
      return undefined;
    });
    await new NftablesDataplane({ family: 'IPv4', runner }).add(web);
    expect(runner.calls[0]?.args.slice(0, 2)).toEqual(['-j', '-f']);
    expect(seen[0]?.batch).toEqual(renderAdd('IPv4', web));
    expect(seen[0]?.mode).toBe(0o600);
    expect(existsSync(seen[0]?.file ?? '')).toBe(false);
  });

  it("surfaces nft's stderr, the family, the table and the mapping; tableMissing when the table is gone", async () => {
    const dp = new NftablesDataplane({ family: 'IPv4', table: 'npl-x', runner: fakeNft({ tables: 'table ip other\n', applyExit: 1 }) });
    const err: unknown = await dp.add(web).then(() => undefined, (e: unknown) => e);
    expect(isDataplaneError(err)).toBe(true);
    expect(isNplError(err, 'NPL_DATAPLANE_FAILED')).toBe(true);
    expect((err as Error).message).toBe(
      'nft (ip npl-x): add 61000/tcp -> 198.18.1.5:80 failed: Error: Could not process rule: No such file or directory ' +
        '(table ip npl-x does not exist: repair needed)',
    );
    expect(isDataplaneError(err) && err.tableMissing).toBe(true);
  });

  it('does not claim the table is missing when it exists', async () => {
    const dp = new NftablesDataplane({ family: 'IPv6', runner: fakeNft({ tables: 'table ip6 npl\n', applyExit: 1 }) });
    const v6 = { ...web, family: 'IPv6' as const, podIP: '2001:db8::5' };
    const err: unknown = await dp.delete(v6).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).toMatch(/^nft \(ip6 npl\): delete 61000\/tcp -> \[2001:db8::5\]:80 failed: Error: Could not process rule/);
    expect(isDataplaneError(err) && err.tableMissing).toBe(false);
  });

  it('rejects a mapping of the other family before running anything', async () => {
    const runner = new RecordingRunner();
    await expect(new NftablesDataplane({ family: 'IPv6', runner }).replaceAll([web])).rejects.toThrow('does not belong in the IPv6 dataplane');
    expect(runner.calls).toEqual([]);
  });

  it('propagates the missing-binary error', async () => {
    const runner = new RecordingRunner(({ cmd }) => missingBinaryError(cmd));
    await expect(new NftablesDataplane({ family: 'IPv4', runner }).available()).rejects.toThrow('install the Debian package nftables');
  });

  it('verify: in sync with a listing of what a full sync installs', async () => {
    const table = listingOf(renderFullSync('IPv4', [web, dns]));
    const dp = new NftablesDataplane({ family: 'IPv4', runner: fakeNft({ tables: 'table ip npl', table }) });
    expect(await dp.verify([dns, web])).toEqual({ missing: [], unexpected: [], tableMissing: false, staticDrift: false, staticProblems: [], inSync: true });
    expect(await dp.verify([web])).toMatchObject({ unexpected: [dns], inSync: false });
  });

  it('verify: a missing jump rule or a changed hook priority is static drift', async () => {
    const batch = renderFullSync('IPv4', [web]);
    const tampered: NftBatch = {
      nftables: batch.nftables
        .filter((c) => !('add' in c && 'rule' in c.add && (c.add['rule'] as { chain: string }).chain === 'output'))
        .map((c) => ('add' in c && 'chain' in c.add && (c.add['chain'] as { name: string }).name === 'prerouting'
          ? { add: { chain: { ...(c.add['chain'] as object), prio: 0 } } }
          : c)),
    };
    const dp = new NftablesDataplane({ family: 'IPv4', runner: fakeNft({ tables: 'table ip npl', table: listingOf(tampered) }) });
    const drift = await dp.verify([web]);
    expect(drift).toMatchObject({ staticDrift: true, missing: [], unexpected: [], inSync: false });
    expect(drift.staticProblems).toEqual([expect.stringContaining('chain prerouting differs'), 'rules of chain output differ: []']);
  });

  it('verify: an absent table means every expected mapping is missing', async () => {
    const dp = new NftablesDataplane({ family: 'IPv4', runner: fakeNft({ tables: '' }) });
    expect(await dp.verify([web])).toMatchObject({ tableMissing: true, missing: [web], unexpected: [], inSync: false });
  });

  it('verify: a listing failure with the table present is an error, not drift', async () => {
    const dp = new NftablesDataplane({ family: 'IPv4', runner: fakeNft({ tables: 'table ip npl\n' }) });
    await expect(dp.verify([web])).rejects.toThrow('nft (ip npl): list table failed: Error: No such file or directory');
  });
});

describe('nftStderr', () => {
  it('drops the JSON location prefix and folds repeated lines', () => {
    expect(nftStderr(NFT_ERROR)).toBe('Error: Could not process rule: No such file or directory');
  });
});
