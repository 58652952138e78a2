import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { isNplError } from './errors.js';
import {
  parseNftRuleset,
  renderAdd,
  renderDelete,
  renderFullSync,
  renderTeardown,
  type NftBatch,
} from './render-nftables.js';
import type { DnatMapping, IPFamily } from './types.js';

const v4a: DnatMapping = { family: 'IPv4', protocol: 'tcp', nodePort: 61000, podIP: '198.18.1.2', podPort: 80 };
const v4b: DnatMapping = { family: 'IPv4', protocol: 'udp', nodePort: 61001, podIP: '198.18.1.3', podPort: 53 };
const v6a: DnatMapping = { family: 'IPv6', protocol: 'tcp', nodePort: 61000, podIP: 'fd00::5', podPort: 8080 };

const T = { family: 'ip', table: 'npl' } as const;
const localJump = [
  { match: { op: '==', left: { fib: { result: 'type', flags: ['daddr'] } }, right: 'local' } },
  { jump: { target: 'mappings' } },
];
const ctMark = { ct: { key: 'mark' } };

describe('renderFullSync', () => {
  it('replaces the table atomically: add, delete, re-create chains, map, rules and elements', () => {
    expect(renderFullSync('IPv4', [v4a])).toEqual({
      nftables: [
        { add: { table: { family: 'ip', name: 'npl' } } },
        { delete: { table: { family: 'ip', name: 'npl' } } },
        { add: { table: { family: 'ip', name: 'npl' } } },
        { add: { chain: { ...T, name: 'prerouting', type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' } } },
        { add: { chain: { ...T, name: 'output', type: 'nat', hook: 'output', prio: -100, policy: 'accept' } } },
        { add: { chain: { ...T, name: 'postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } } },
        { add: { chain: { ...T, name: 'mappings' } } },
        { add: { chain: { ...T, name: 'm-tcp-61000' } } },
        { add: { map: { ...T, name: 'ports', type: ['inet_proto', 'inet_service'], map: 'verdict' } } },
        { add: { rule: { ...T, chain: 'prerouting', expr: localJump } } },
        { add: { rule: { ...T, chain: 'output', expr: localJump } } },
        {
          add: {
            rule: {
              ...T,
              chain: 'postrouting',
              expr: [{ match: { op: '!=', left: { '&': [ctMark, 0x100000] }, right: 0 } }, { masquerade: null }],
            },
          },
        },
        {
          add: {
            rule: {
              ...T,
              chain: 'mappings',
              expr: [
                {
                  vmap: {
                    key: { concat: [{ meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] },
                    data: '@ports',
                  },
                },
              ],
            },
          },
        },
        {
          add: {
            rule: {
              ...T,
              chain: 'm-tcp-61000',
              expr: [
                { match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: '198.18.1.2' } },
                { mangle: { key: ctMark, value: { '|': [ctMark, 0x100000] } } },
              ],
            },
          },
        },
        {
          add: {
            rule: {
              ...T,
              chain: 'm-tcp-61000',
              expr: [
                { match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'tcp' } },
                { dnat: { addr: '198.18.1.2', port: 80 } },
              ],
            },
          },
        },
        {
          add: {
            element: { ...T, name: 'ports', elem: [[{ concat: ['tcp', 61000] }, { goto: { target: 'm-tcp-61000' } }]] },
          },
        },
      ],
    });
  });

  it('with no mapping creates the static table without an element command', () => {
    const batch = renderFullSync('IPv6', [], { table: 'npl-test', hairpinMark: 0x2 });
    expect(batch.nftables.some((c) => 'add' in c && 'element' in c.add)).toBe(false);
    expect(batch.nftables[0]).toEqual({ add: { table: { family: 'ip6', name: 'npl-test' } } });
    expect(JSON.stringify(batch)).toContain('{"&":[{"ct":{"key":"mark"}},2]}');
  });

  it('uses the ip6 forms for IPv6: saddr of ip6 and dnat with family ip6', () => {
    const rules = renderFullSync('IPv6', [v6a]).nftables.filter((c) => 'add' in c && 'rule' in c.add);
    expect(JSON.stringify(rules)).toContain('{"payload":{"protocol":"ip6","field":"saddr"}},"right":"fd00::5"');
    expect(JSON.stringify(rules)).toContain('{"dnat":{"family":"ip6","addr":"fd00::5","port":8080}}');
  });

  it('rejects a mapping of the other family', () => {
    let err: unknown;
    try {
      renderFullSync('IPv6', [v4a]);
    } catch (e) {
      err = e;
    }
    expect(isNplError(err, 'NPL_ADDRESS_INVALID')).toBe(true);
    expect(() => renderAdd('IPv4', { ...v4a, podIP: 'fd00::1' })).toThrow('does not belong in the IPv4 table');
  });
});

describe('renderAdd / renderDelete', () => {
  it('adds a mapping idempotently: chain, flush, mark and dnat rules, element', () => {
    const chain = { chain: { ...T, name: 'm-udp-61001' } };
    expect(renderAdd('IPv4', v4b)).toEqual({
      nftables: [
        { add: chain },
        { flush: chain },
        {
          add: {
            rule: {
              ...T,
              chain: 'm-udp-61001',
              expr: [
                { match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: '198.18.1.3' } },
                { mangle: { key: ctMark, value: { '|': [ctMark, 0x100000] } } },
              ],
            },
          },
        },
        {
          add: {
            rule: {
              ...T,
              chain: 'm-udp-61001',
              expr: [
                { match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'udp' } },
                { dnat: { addr: '198.18.1.3', port: 53 } },
              ],
            },
          },
        },
        { add: { element: { ...T, name: 'ports', elem: [[{ concat: ['udp', 61001] }, { goto: { target: 'm-udp-61001' } }]] } } },
      ],
    });
  });

  it('deletes a mapping idempotently: re-add chain and element, then delete element, flush and delete chain', () => {
    const chain = { chain: { ...T, name: 'm-udp-61001' } };
    expect(renderDelete('IPv4', v4b)).toEqual({
      nftables: [
        { add: chain },
        { add: { element: { ...T, name: 'ports', elem: [[{ concat: ['udp', 61001] }, { goto: { target: 'm-udp-61001' } }]] } } },
        { delete: { element: { ...T, name: 'ports', elem: [{ concat: ['udp', 61001] }] } } },
        { flush: chain },
        { delete: chain },
      ],
    });
  });

  it('tears the table down idempotently', () => {
    expect(renderTeardown('IPv6', { table: 'x' })).toEqual({
      nftables: [{ add: { table: { family: 'ip6', name: 'x' } } }, { delete: { table: { family: 'ip6', name: 'x' } } }],
    });
  });
});

describe('parseNftRuleset', () => {
  const listing = (family: 'ip' | 'ip6', extra: unknown[] = []) => ({
    nftables: [
      { metainfo: { version: '1.0.6', json_schema_version: 1 } },
      { table: { family, name: 'npl', handle: 1 } },
      {
        map: {
          family,
          name: 'ports',
          table: 'npl',
          type: ['inet_proto', 'inet_service'],
          handle: 6,
          map: 'verdict',
          elem: [
            [{ concat: ['tcp', 61000] }, { goto: { target: 'm-tcp-61000' } }],
            [{ concat: ['udp', 61000] }, { goto: { target: 'm-orphan' } }],
          ],
        },
      },
      {
        rule: {
          family,
          table: 'npl',
          chain: 'm-tcp-61000',
          handle: 12,
          expr: [
            { match: { op: '==', left: { meta: { key: 'l4proto' } }, right: 'tcp' } },
            { dnat: { addr: family === 'ip' ? '198.18.1.2' : 'fd00::5', port: 80 } },
          ],
        },
      },
      ...extra,
    ],
  });

  it('reads mappings from a listing and skips elements whose chain has no dnat', () => {
    expect(parseNftRuleset(listing('ip'))).toEqual([v4a]);
    expect(parseNftRuleset(JSON.stringify(listing('ip6')))).toEqual([{ ...v6a, podPort: 80 }]);
  });

  it('returns [] for another table name, an empty listing or no map', () => {
    expect(parseNftRuleset(listing('ip'), { table: 'other' })).toEqual([]);
    expect(parseNftRuleset({ nftables: [] })).toEqual([]);
    expect(parseNftRuleset('{}')).toEqual([]);
  });

  it('round-trips what renderFullSync renders (element and rule objects of the batch)', () => {
    const batch = renderFullSync('IPv4', [v4b, v4a]);
    const objects = batch.nftables.flatMap((c) => ('add' in c && !('map' in c.add) ? [c.add] : []));
    const mapWithElems = {
      map: {
        family: 'ip',
        table: 'npl',
        name: 'ports',
        elem: objects.flatMap((o) => (o['element'] ? ((o['element'] as { elem: unknown[] }).elem) : [])),
      },
    };
    expect(parseNftRuleset({ nftables: [...objects, mapWithElems] })).toEqual([v4a, v4b]);
  });
});

// Real kernel: nft 1.0.6 must accept every batch, and list back what was rendered.

function canRunNft(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const kernel = canRunNft();
const describeKernel = kernel ? describe : describe.skip;
const kernelTitle = kernel ? 'nft 1.0.6 in a throwaway netns' : 'nft in a netns [SKIPPED: needs root, nft and ip]';

describeKernel(kernelTitle, () => {
  const suffix = randomBytes(4).toString('hex');
  const node = `npl-core-test-${suffix}`;
  const pod = `npl-core-testpod-${suffix}`;
  const created: string[] = [];

  const sh = (args: string[], input?: string): string =>
    execFileSync(args[0] ?? '', args.slice(1), { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  const inNode = (...args: string[]): string => sh(['ip', 'netns', 'exec', node, ...args]);
  // nft opens /dev/stdin, which fails (ENXIO) on the socket Node gives a child: feed it through a pipe.
  const apply = (batch: NftBatch): string =>
    sh(['ip', 'netns', 'exec', node, 'sh', '-c', 'cat | nft -j -f -'], JSON.stringify(batch));
  const listed = (family: IPFamily): DnatMapping[] =>
    parseNftRuleset(inNode('nft', '-j', 'list', 'table', family === 'IPv4' ? 'ip' : 'ip6', 'npl'));
  const tables = (): string => inNode('nft', 'list', 'tables');

  beforeAll(() => {
    for (const ns of [node, pod]) {
      sh(['ip', 'netns', 'add', ns]);
      created.push(ns);
    }
  });

  afterAll(() => {
    for (const ns of created) {
      try {
        sh(['ip', 'netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  });

  it.each(['IPv4', 'IPv6'] as const)('%s: full sync, incremental add and delete, re-sync over a stale set, teardown', (family) => {
    const ms: DnatMapping[] =
      family === 'IPv4'
        ? [v4a, v4b]
        : [v6a, { family: 'IPv6', protocol: 'udp', nodePort: 61001, podIP: 'fd00::6', podPort: 53 }];
    const extra: DnatMapping =
      family === 'IPv4'
        ? { family, protocol: 'tcp', nodePort: 61002, podIP: '198.18.1.9', podPort: 9090 }
        : { family, protocol: 'tcp', nodePort: 61002, podIP: 'fd00::9', podPort: 9090 };

    apply(renderFullSync(family, ms));
    expect(listed(family)).toEqual(ms);

    apply(renderAdd(family, extra));
    apply(renderAdd(family, extra));
    expect(listed(family)).toEqual(sortMappings([...ms, extra]));

    apply(renderDelete(family, extra));
    apply(renderDelete(family, extra));
    expect(listed(family)).toEqual(ms);

    apply(renderFullSync(family, [extra]));
    expect(listed(family)).toEqual([extra]);
    apply(renderFullSync(family, []));
    expect(listed(family)).toEqual([]);

    apply(renderTeardown(family));
    apply(renderTeardown(family));
    expect(tables()).not.toContain(`table ${family === 'IPv4' ? 'ip' : 'ip6'} npl`);
  });

  it('rejects a delete batch when our table is absent (the agent then re-syncs)', () => {
    expect(() => apply(renderDelete('IPv4', v4a))).toThrow();
  });

  const connectFrom = (ns: string): string =>
    sh([
      'ip', 'netns', 'exec', ns, process.execPath, '-e',
      "const s = require('net').connect(61000, '198.18.0.1'); let d = ''; s.on('data', (c) => (d += c)); " +
        "s.on('end', () => { console.log(d); }); s.on('error', (e) => { console.error(e.message); process.exit(1); }); " +
        'setTimeout(() => process.exit(2), 5000).unref();',
    ]);

  it('carries real TCP from the node, and hairpin from the pod itself, to the pod through its node port', async () => {
    const veth = `npl${suffix}`;
    sh(['ip', 'link', 'add', `${veth}a`, 'netns', node, 'type', 'veth', 'peer', 'name', `${veth}b`, 'netns', pod]);
    inNode('ip', 'addr', 'add', '198.18.0.1/24', 'dev', `${veth}a`);
    inNode('ip', 'link', 'set', `${veth}a`, 'up');
    inNode('ip', 'link', 'set', 'lo', 'up');
    inNode('sysctl', '-qw', 'net.ipv4.ip_forward=1');
    sh(['ip', 'netns', 'exec', pod, 'ip', 'addr', 'add', '198.18.0.2/24', 'dev', `${veth}b`]);
    sh(['ip', 'netns', 'exec', pod, 'ip', 'link', 'set', `${veth}b`, 'up']);
    apply(renderFullSync('IPv4', [{ family: 'IPv4', protocol: 'tcp', nodePort: 61000, podIP: '198.18.0.2', podPort: 8080 }]));

    const server = spawn('ip', [
      'netns', 'exec', pod, process.execPath, '-e',
      "require('net').createServer((s) => s.end('hello from pod')).listen(8080, '198.18.0.2', () => console.log('ready'))",
    ]);
    try {
      await waitForLine(server, 'ready');
      expect(connectFrom(node).trim()).toBe('hello from pod');
      expect(connectFrom(pod).trim()).toBe('hello from pod');
    } finally {
      server.kill();
    }
  });
});

function sortMappings(ms: DnatMapping[]): DnatMapping[] {
  return [...ms].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.nodePort - b.nodePort);
}

function waitForLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "${line}" from server: ${out}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${out}`));
    });
  });
}
