import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@npl/runtime';
import { describeUnless } from '@npl/testkit';
import type { NftBatch } from '@npl/core';
import { NftSession } from './nft-session.js';
import { kernelSkipReason } from './testing/netns.js';

const skip = kernelSkipReason(['ip', 'nft']);
const NS = `npl-nftsess-${process.pid}`;
const table = (op: 'add' | 'delete', name: string): NftBatch => ({
  nftables: [op === 'add' ? { add: { table: { family: 'ip', name } } } : { delete: { table: { family: 'ip', name } } }],
});

describeUnless(skip, 'NftSession (a real nft -j -i in a network namespace)', () => {
  const session = new NftSession({ command: ['ip', 'netns', 'exec', NS, 'nft'] });
  const tables = (): string => execFileSync('ip', ['netns', 'exec', NS, 'nft', 'list', 'tables'], { encoding: 'utf8' });

  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', NS]);
  });
  afterAll(() => {
    session.close();
    execFileSync('ip', ['netns', 'del', NS]);
  });

  it('applies batches over one process and reports a refused batch with nft\'s error, then keeps going', async () => {
    expect(await session.run(table('add', 'sess'))).toEqual({ exitCode: 0, stderr: '' });
    expect(tables()).toContain('table ip sess');
    const refused = await session.run(table('delete', 'absent'));
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('No such file or directory');
    expect(await session.run(table('delete', 'sess'))).toEqual({ exitCode: 0, stderr: '' });
    expect(tables()).not.toContain('sess');
    expect(session.starts).toBe(1);
  });

  it('starts a new process after the old one was killed', async () => {
    const pid = session.pid();
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    await eventually(() => Promise.resolve(session.pid() === undefined), 10_000, 'the session saw its nft exit');
    const r = await session.run(table('add', 'again'));
    expect(r.exitCode).toBe(0);
    expect(tables()).toContain('again');
    expect(session.starts).toBeGreaterThanOrEqual(2);
  });
});

describe('NftSession failures', () => {
  it('rejects a batch the process never answers, after the timeout, and kills it', async () => {
    const s = new NftSession({ command: ['sh', '-c', 'sleep 30'], timeoutMs: 300 });
    await expect(s.run(table('add', 'x'))).rejects.toThrow('did not answer within 300 ms');
    s.close();
  });

  it('rejects when the command exits, naming its output', async () => {
    const s = new NftSession({ command: ['sh', '-c', 'echo no nft here; exit 3'] });
    await expect(s.run(table('add', 'x'))).rejects.toThrow(/nft session exited \(3\): .*no nft here/);
    s.close();
  });
});
