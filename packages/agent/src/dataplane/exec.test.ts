import { describe, expect, it } from '@jest/globals';
import { isNplError } from '@npl/core';
import { ExecaRunner, RecordingRunner, missingBinaryError, netnsRunner } from './exec.js';

describe('ExecaRunner', () => {
  const runner = new ExecaRunner();

  it('returns a non-zero exit with its output instead of throwing', async () => {
    expect(await runner.run('sh', ['-c', 'echo out; echo err >&2; exit 3'])).toEqual({ exitCode: 3, stdout: 'out', stderr: 'err' });
  });

  it('feeds input through a pipe that a reader of plain stdin (like iptables-restore) consumes', async () => {
    const payload = '*nat\n:ANTREA-NODE-PORT-LOCAL - [0:0]\nCOMMIT\n';
    expect(await runner.run('sh', ['-c', 'cat; test -p /dev/stdin -o -S /dev/stdin && echo piped'], { input: payload })).toMatchObject({
      exitCode: 0,
      stdout: `${payload}piped`,
    });
  });

  it('throws NPL_DATAPLANE_FAILED naming a missing binary', async () => {
    const err: unknown = await runner.run('npl-no-such-tool', ['--version']).then(() => undefined, (e: unknown) => e);
    expect(isNplError(err, 'NPL_DATAPLANE_FAILED')).toBe(true);
    expect((err as Error).message).toBe('npl-no-such-tool not found in PATH');
  });

  it('throws when the command outlives its timeout', async () => {
    await expect(runner.run('sleep', ['5'], { timeoutMs: 100 })).rejects.toThrow('sleep 5 timed out after 100 ms');
  });
});

describe('missingBinaryError', () => {
  it.each([
    ['nft', 'nft not found in PATH: install the Debian package nftables'],
    ['iptables-nft-restore', 'iptables-nft-restore not found in PATH: install the Debian package iptables'],
    ['ip6tables-legacy-save', 'ip6tables-legacy-save not found in PATH: install the Debian package iptables'],
    ['ip', 'ip not found in PATH: install the Debian package iproute2'],
  ])('names %s and its package', (cmd, message) => {
    expect(missingBinaryError(cmd).message).toBe(message);
  });
});

describe('netnsRunner', () => {
  it('prefixes commands with ip netns exec and passes input through', async () => {
    const base = new RecordingRunner(() => ({ stdout: 'ok' }));
    const r = await netnsRunner('npl-node', base).run('iptables-nft-restore', ['--noflush'], { input: 'x' });
    expect(r.stdout).toBe('ok');
    expect(base.calls).toEqual([{ cmd: 'ip', args: ['netns', 'exec', 'npl-node', 'iptables-nft-restore', '--noflush'], input: 'x' }]);
  });

  it('turns a binary missing inside the namespace into the missing-binary error', async () => {
    const base = new RecordingRunner(() => ({ exitCode: 255, stderr: 'exec of "nft" failed: No such file or directory' }));
    await expect(netnsRunner('npl-node', base).run('nft', ['--version'])).rejects.toThrow(
      'nft not found in PATH: install the Debian package nftables',
    );
  });
});
