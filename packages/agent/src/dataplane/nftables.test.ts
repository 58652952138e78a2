import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { isNplError, renderAdd, renderDelete, renderFullSync } from '@npl/core';
import type { DnatMapping, NftBatch } from '@npl/core';
import { isDataplaneError } from './dataplane-error.js';
import type { RecordedCall, RunResult } from './exec.js';
import { RecordingRunner, missingBinaryError } from './exec.js';
import { NftablesDataplane, NftModel, nftStderr } from './nftables.js';

const web: DnatMapping = { family: 'IPv4', protocol: 'tcp', nodePort: 61000, podIP: '198.18.1.5', podPort: 80 };
const dns: DnatMapping = { family: 'IPv4', protocol: 'udp', nodePort: 61001, podIP: '198.18.1.6', podPort: 53 };
const NFT_ERROR = 'internal:0:0-0: Error: Could not process rule: No such file or directory\n\ninternal:0:0-0: Error: Could not process rule: No such file or directory\n';

/** What `nft -j list table` prints after applying `batch`: the added objects with handles, elements inside their map or set. */
function listingOf(batch: NftBatch, drop: (elem: unknown, set: string) => boolean = () => false): string {
  const objects = batch.nftables.flatMap((c) => ('add' in c ? [c.add] : []));
  const elems = (name: string): unknown[] =>
    objects.flatMap((o) => {
      const e = o['element'] as { name: string; elem: unknown[] } | undefined;
      return e?.name === name ? e.elem.filter((x) => !drop(x, name)) : [];
    });
  const items = objects
    .filter((o) => !('element' in o))
    .map((o, handle) => {
      const [kind, body] = Object.entries(o)[0] as [string, Record<string, unknown>];
      const extra = kind === 'map' || kind === 'set' ? { elem: elems(String(body['name'])) } : {};
      return { [kind]: { ...body, handle, ...extra } };
    });
  return JSON.stringify({ nftables: [{ metainfo: { version: '1.0.6', json_schema_version: 1 } }, ...items] });
}

type Listing = { tables: string; table?: string; applyExit?: number; batches?: unknown[]; failNext?: number };

function applyBatch(state: Listing, file: string): Partial<RunResult> {
  state.batches?.push(JSON.parse(readFileSync(file, 'utf8')));
  if (state.failNext) {
    state.failNext -= 1;
    return { exitCode: 1, stderr: 'internal:0:0-0: Error: Could not process rule: File exists\n' };
  }
  return { exitCode: state.applyExit ?? 0, stderr: state.applyExit ? NFT_ERROR : '' };
}

/** A fake nft; `batches` collects every applied batch, `failNext` rejects that many batches with "File exists". */
function fakeNft(state: Listing): RecordingRunner {
  return new RecordingRunner((call: RecordedCall) => {
    const [a0, a1, a2] = call.args;
    if (a0 === '-j' && a1 === '-f') return applyBatch(state, a2 ?? '');
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
    const dp = new NftablesDataplane({ family: 'IPv4', runner });
    await dp.replaceAll([]);
    await dp.add(web);
    expect(runner.calls.map((c) => c.args.slice(0, 2))).toEqual([['-j', '-f'], ['-j', '-f']]);
    expect(seen[1]?.batch).toEqual(renderAdd('IPv4', web));
    expect(seen[1]?.mode).toBe(0o600);
    expect(existsSync(seen[1]?.file ?? '')).toBe(false);
  });

  it("surfaces nft's stderr, the family, the table and the mapping; tableMissing when the table is gone", async () => {
    const table = listingOf(renderFullSync('IPv4', [], { table: 'npl-x' }));
    const dp = new NftablesDataplane({ family: 'IPv4', table: 'npl-x', runner: fakeNft({ tables: 'table ip other\n', table, applyExit: 1 }) });
    const err: unknown = await dp.add(web).then(() => undefined, (e: unknown) => e);
    expect(isDataplaneError(err)).toBe(true);
    expect(isNplError(err, 'NPL_DATAPLANE_FAILED')).toBe(true);
    expect((err as Error).message).toBe(
      'nft (ip npl-x): add 61000/tcp -> 198.18.1.5:80 failed: Error: Could not process rule: No such file or directory ' +
        '(table ip npl-x does not exist: repair needed)',
    );
    expect(isDataplaneError(err) && err.tableMissing).toBe(true);
  });

  it('does not claim the table is missing when it exists; a failed change is retried as a full re-sync before giving up', async () => {
    const v6 = { ...web, family: 'IPv6' as const, podIP: '2001:db8::5' };
    const runner = fakeNft({ tables: 'table ip6 npl\n', table: listingOf(renderFullSync('IPv6', [v6])), applyExit: 1 });
    const dp = new NftablesDataplane({ family: 'IPv6', runner });
    const err: unknown = await dp.delete(v6).then(() => undefined, (e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^nft \(ip6 npl\): delete 61000\/tcp -> \[2001:db8::5\]:80 failed: Error: Could not process rule: No such file or directory; the full re-sync of 0 mapping\(s\) after it failed too: Error: Could not process rule/,
    );
    expect(isDataplaneError(err) && err.tableMissing).toBe(false);
    expect(runner.commandLines().map((l) => l.replace(/\/tmp\/\S+/, 'FILE'))).toEqual([
      'nft -j list table ip6 npl',
      'nft -j -f FILE',
      'nft list tables ip6',
      'nft -j -f FILE',
    ]);
  });

  it('renders each change from what it installed: replaced targets and the hairpin element of the last mapping of a pod IP', async () => {
    const batches: unknown[] = [];
    const dp = new NftablesDataplane({ family: 'IPv4', runner: fakeNft({ tables: 'table ip npl', batches }) });
    const web2 = { ...web, nodePort: 61005, podPort: 81 };
    await dp.replaceAll([web, dns, web2]);
    await dp.add(web);
    const moved = { ...dns, podIP: '198.18.1.7', podPort: 5353 };
    await dp.add(moved);
    await dp.add({ ...moved, podPort: 53 });
    await dp.delete(web);
    await dp.delete({ ...web2, podIP: '198.18.9.9' });
    await dp.delete(web2);
    expect(batches.slice(1)).toEqual([
      renderAdd('IPv4', web),
      renderAdd('IPv4', moved, { replaces: dns, dropReplacedHairpin: true }),
      renderAdd('IPv4', { ...moved, podPort: 53 }, { replaces: moved, dropReplacedHairpin: false }),
      renderDelete('IPv4', web, { dropHairpin: false }),
      renderDelete('IPv4', web2, { dropHairpin: true }),
      renderDelete('IPv4', web2, { dropHairpin: true }),
    ]);
  });

  it('before any full sync, learns what is installed from one listing', async () => {
    const batches: unknown[] = [];
    const table = listingOf(renderFullSync('IPv4', [web, dns]));
    const runner = fakeNft({ tables: 'table ip npl', table, batches });
    const dp = new NftablesDataplane({ family: 'IPv4', runner });
    const moved = { ...web, podIP: '198.18.1.8' };
    await dp.add(moved);
    await dp.delete(dns);
    expect(runner.commandLines().filter((l) => l.includes('list table'))).toHaveLength(1);
    expect(batches).toEqual([
      renderAdd('IPv4', moved, { replaces: web, dropReplacedHairpin: true }),
      renderDelete('IPv4', dns, { dropHairpin: true }),
    ]);
  });

  it('when a change is rejected although the table exists, rewrites the table from its model plus the change', async () => {
    const batches: unknown[] = [];
    const state: Listing = { tables: 'table ip npl', batches };
    const dp = new NftablesDataplane({ family: 'IPv4', runner: fakeNft(state) });
    await dp.replaceAll([web, dns]);
    state.failNext = 1;
    const moved = { ...web, podIP: '198.18.1.8' };
    await dp.add(moved);
    expect(batches.slice(2)).toEqual([renderFullSync('IPv4', [moved, dns])]);
    state.failNext = 1;
    await dp.delete(dns);
    expect(batches.slice(4)).toEqual([renderFullSync('IPv4', [moved])]);
    await dp.add(web);
    expect(batches.slice(5)).toEqual([renderAdd('IPv4', web, { replaces: moved, dropReplacedHairpin: true })]);
  });

  it('an unreadable listing is an error, not an empty table', async () => {
    const dp = new NftablesDataplane({ family: 'IPv4', runner: fakeNft({ tables: 'table ip npl', table: 'not json' }) });
    await expect(dp.add(web)).rejects.toThrow(/^nft \(ip npl\): add 61000\/tcp -> 198\.18\.1\.5:80 failed: cannot read the table listing/);
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

  it('verify: a key in only one map, a missing hairpin element, and a hairpin element nobody needs are drift', async () => {
    const batch = renderFullSync('IPv4', [web, dns]);
    const port = (e: unknown) => JSON.stringify(e).includes('61001');
    const cases: [(e: unknown, set: string) => boolean, object, string[]][] = [
      [(e, set) => set === 'ports' && port(e), { missing: [dns], staticDrift: true }, ['map addrs element udp . 61001 : 198.18.1.6 has no ports element']],
      [(e, set) => set === 'hairpin' && JSON.stringify(e).includes('198.18.1.6'), { missing: [dns], staticDrift: false }, []],
      [(e, set) => set !== 'hairpin' && port(e), { missing: [dns], staticDrift: true }, ['set hairpin element 198.18.1.6 . 198.18.1.6: no mapping has this pod IP']],
    ];
    for (const [drop, drift, problems] of cases) {
      const dp = new NftablesDataplane({ family: 'IPv4', runner: fakeNft({ tables: 'table ip npl', table: listingOf(batch, drop) }) });
      const got = await dp.verify([web, dns]);
      expect(got).toMatchObject({ ...drift, unexpected: [], inSync: false });
      expect(got.staticProblems).toEqual(problems);
    }
  });

  it('verify: a table of the old shape (verdict map, per-mapping chains) is static drift', async () => {
    const old = JSON.stringify({
      nftables: [
        { table: { family: 'ip', name: 'npl', handle: 1 } },
        { map: { family: 'ip', table: 'npl', name: 'ports', type: ['inet_proto', 'inet_service'], map: 'verdict', handle: 2, elem: [] } },
        { chain: { family: 'ip', table: 'npl', name: 'm-tcp-61000', handle: 3 } },
      ],
    });
    const dp = new NftablesDataplane({ family: 'IPv4', runner: fakeNft({ tables: 'table ip npl', table: old }) });
    const drift = await dp.verify([web]);
    expect(drift).toMatchObject({ staticDrift: true, missing: [web], inSync: false });
    expect(drift.staticProblems).toEqual(
      expect.arrayContaining(['map addrs is missing', 'set hairpin is missing', expect.stringContaining('map ports differs'), 'unexpected chain m-tcp-61000']),
    );
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

describe('NftablesDataplane group commit', () => {
  const many = (n: number): DnatMapping[] =>
    Array.from({ length: n }, (_, i) => ({ family: 'IPv4', protocol: 'tcp', nodePort: 61100 + i, podIP: `198.18.1.${10 + i}`, podPort: 80 }));

  it('applies changes that wait behind a running transaction as one batch, in call order', async () => {
    const state: Listing = { tables: 'table ip npl\n', batches: [] };
    const dp = new NftablesDataplane({ family: 'IPv4', runner: fakeNft(state) });
    await dp.replaceAll([]);
    const ms = many(5);
    await Promise.all(ms.map((m) => dp.add(m)));
    // All five were queued before the first flush ran: one transaction after the full sync.
    expect(state.batches).toHaveLength(2);
    expect(state.batches![1]).toEqual({ nftables: ms.flatMap((m) => renderAdd('IPv4', m).nftables) });
    const late = many(7).slice(5);
    const busy = dp.add(late[0]!);
    await Promise.resolve();
    await Promise.all([busy, dp.delete(ms[0]!), dp.add(late[1]!)]);
    expect(state.batches!.length).toBeLessThanOrEqual(4);
    expect(state.batches!.slice(2).flatMap((b) => (b as NftBatch).nftables)).toEqual([
      ...renderAdd('IPv4', late[0]!).nftables,
      ...renderDelete('IPv4', ms[0]!, { dropHairpin: true }).nftables,
      ...renderAdd('IPv4', late[1]!).nftables,
    ]);
  });

  it('falls back to one change at a time when the combined batch is refused, so one bad change fails alone', async () => {
    const state: Listing = { tables: 'table ip npl\n', batches: [] };
    const dp = new NftablesDataplane({ family: 'IPv4', runner: fakeNft(state) });
    await dp.replaceAll([]);
    const ms = many(3);
    const first = dp.add(ms[0]!);
    state.failNext = 1;
    const rest = Promise.allSettled([dp.add(ms[1]!), dp.add(ms[2]!)]);
    await first;
    const settled = await rest;
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
    // full sync, the refused group of three, then each change on its own.
    expect(state.batches).toHaveLength(5);
    expect((state.batches![1] as NftBatch).nftables).toHaveLength(9);
    expect(state.batches!.slice(2)).toEqual(ms.map((m) => renderAdd('IPv4', m)));
  });
});

describe('NftModel.copy', () => {
  it('is independent of the original (one copy per applied batch)', () => {
    const a: DnatMapping = { family: 'IPv4', nodePort: 61000, podIP: '198.18.1.5', podPort: 80, protocol: 'tcp' };
    const b: DnatMapping = { family: 'IPv4', nodePort: 61001, podIP: '198.18.1.5', podPort: 81, protocol: 'tcp' };
    const model = new NftModel([a]);
    const next = model.copy();
    next.set(b);
    expect(model.size).toBe(1);
    expect(model.refs('198.18.1.5')).toBe(1);
    expect(next.size).toBe(2);
    expect(next.refs('198.18.1.5')).toBe(2);
    next.remove(a);
    next.remove(b);
    expect(next.refs('198.18.1.5')).toBe(0);
    expect(model.get(a)).toEqual(a);
    expect(model.refs('198.18.1.5')).toBe(1);
  });
});
