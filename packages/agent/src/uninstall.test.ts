import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { IPFamily } from '@npl/core';
import { parseAgentConfig } from './config.js';
import type { DataplaneKind } from './dataplane/index.js';
import { FakeDataplane } from './testing/index.js';
import { detectRunningAgent, isAgentCommandLine, uninstall } from './uninstall.js';
import { captureLogs } from '@npl/runtime/testing';


function config() {
  const r = parseAgentConfig(['--node-name', 'node-a'], {});
  if (r.help) throw new Error('unexpected');
  return r.config;
}

const M = { nodePort: 61000, podIP: '198.18.1.5', podPort: 80, protocol: 'tcp' as const };

describe('npl-agent uninstall', () => {
  it('removes the state of both dataplanes in both families, whichever the agent ran with', async () => {
    const { logger } = captureLogs();
    const dps = new Map<string, FakeDataplane>();
    const result = await uninstall(config(), logger, {
      dataplane: (kind: DataplaneKind, family: IPFamily) => {
        const dp = new FakeDataplane(family);
        void dp.replaceAll([{ ...M, family, podIP: family === 'IPv4' ? '198.18.1.5' : '2001:db8::5' }]);
        dps.set(`${kind} ${family}`, dp);
        return dp;
      },
      detectAgent: () => Promise.resolve([]),
    });
    expect(result.dataplanesRemoved).toEqual(['nftables IPv4', 'nftables IPv6', 'iptables IPv4', 'iptables IPv6']);
    expect(result.errors).toEqual([]);
    expect(result.agentRunning).toEqual([]);
    for (const dp of dps.values()) {
      expect([dp.tornDown, dp.mappings(), dp.closed]).toEqual([true, [], true]);
    }
  });

  it('skips a dataplane whose tool is not installed, reports teardown errors, and warns when an agent still runs', async () => {
    const { lines, logger } = captureLogs();
    const result = await uninstall(config(), logger, {
      dataplane: (kind, family) => {
        const dp = new FakeDataplane(family);
        if (kind === 'iptables') dp.available = () => Promise.reject(new Error('iptables: command not found'));
        if (kind === 'nftables' && family === 'IPv6') dp.teardown = () => Promise.reject(new Error('nft: Operation not permitted'));
        return dp;
      },
      detectAgent: () => Promise.resolve(['health endpoint http://198.18.0.10:10361/healthz answered HTTP 200']),
    });
    expect(result.dataplanesRemoved).toEqual(['nftables IPv4']);
    expect(result.dataplanesSkipped).toEqual(['iptables IPv4', 'iptables IPv6']);
    expect(result.errors).toEqual(['IPv6 fake IPv6: nft: Operation not permitted']);
    expect(result.agentRunning).toHaveLength(1);
    const warn = lines.find((l) => l.level === 'warn');
    expect(warn?.msg).toMatch(/^An npl-agent still runs on this node: it will reinstall/);
    expect(warn?.evidence).toEqual(['health endpoint http://198.18.0.10:10361/healthz answered HTTP 200']);
  });

  it('a failure on the dataplane the agent was not configured with is a warning, not an error', async () => {
    const { logger } = captureLogs();
    const result = await uninstall(config(), logger, {
      dataplane: (kind, family) => {
        const dp = new FakeDataplane(family);
        if (kind === 'iptables') dp.teardown = () => Promise.reject(new Error('iptables-legacy: Permission denied (you must be root)'));
        return dp;
      },
      detectAgent: () => Promise.resolve([]),
    });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual(['IPv4 fake IPv4: iptables-legacy: Permission denied (you must be root)', 'IPv6 fake IPv6: iptables-legacy: Permission denied (you must be root)']);
    expect(result.dataplanesRemoved).toEqual(['nftables IPv4', 'nftables IPv6']);
  });
});

describe('detectRunningAgent', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'npl-proc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const proc = (pid: number | 'self', argv: string[], netns?: string): void => {
    mkdirSync(path.join(dir, String(pid), 'ns'), { recursive: true });
    writeFileSync(path.join(dir, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
    if (netns) symlinkSync(netns, path.join(dir, String(pid), 'ns', 'net'));
  };

  it("finds an agent by its health endpoint and by its process in this node's network namespace, never itself or an uninstall", async () => {
    const server = createServer((_req, res) => res.end('ok\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    proc(101, ['node', '/app/packages/agent/dist/cli.js', '--node-name', 'node-a']);
    proc(102, ['/usr/local/bin/npl-agent', 'uninstall']);
    proc(103, ['nginx']);
    proc(104, ['/usr/local/bin/npl-agent']);
    proc('self', ['/usr/local/bin/npl-agent', 'uninstall'], 'net:[4026531840]');
    proc(105, ['/usr/local/bin/npl-agent', '--node-name', 'node-b'], 'net:[4026532999]');
    proc(106, ['/usr/local/bin/npl-agent', '--node-name', 'node-a'], 'net:[4026531840]');
    try {
      const found = await detectRunningAgent({ healthAddress: `127.0.0.1:${port}`, procDir: dir, ownPids: [104] });
      expect(found).toEqual([
        `health endpoint http://127.0.0.1:${port}/healthz answered HTTP 200`,
        'process 101: node /app/packages/agent/dist/cli.js --node-name node-a',
        'process 106: /usr/local/bin/npl-agent --node-name node-a',
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await detectRunningAgent({ healthAddress: `127.0.0.1:${port}`, procDir: path.join(dir, 'none'), timeoutMs: 500 })).toEqual([]);
  });

  it.each([
    [['npl-agent'], true],
    [['node', 'dist/cli.js'], false],
    [['node', '--max-semi-space-size=1', '/x/agent/dist/npl-agent.mjs'], true],
    [['node', '/x/agent/dist/npl-agent.mjs', 'uninstall'], false],
    [['node', '/x/agent/dist/cli.js', 'uninstall'], false],
    [['/opt/npl-agent-old/run'], false],
  ])('isAgentCommandLine(%j) is %s', (argv, want) => {
    expect(isAgentCommandLine(argv)).toBe(want);
  });
});
