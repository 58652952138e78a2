import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { commandsSkipReason, describeUnless } from '@npl/testkit';
import { isNplError } from './errors.js';
import {
  parseNftRuleset,
  parseNftTable,
  renderAdd,
  renderDelete,
  renderFullSync,
  renderRefresh,
  renderTeardown,
  type NftBatch,
} from './render-nftables.js';
import type { DnatMapping, IPFamily } from './types.js';

const v4a: DnatMapping = { family: 'IPv4', protocol: 'tcp', nodePort: 61000, podIP: '198.18.1.2', podPort: 80 };
const v4b: DnatMapping = { family: 'IPv4', protocol: 'udp', nodePort: 61001, podIP: '198.18.1.3', podPort: 53 };
const v6a: DnatMapping = { family: 'IPv6', protocol: 'tcp', nodePort: 61000, podIP: '2001:db8::5', podPort: 8080 };

const T = { family: 'ip', table: 'npl' } as const;
const localJump = [
  { match: { op: '==', left: { fib: { result: 'type', flags: ['daddr'] } }, right: 'local' } },
  { jump: { target: 'mappings' } },
];
const portKey = { concat: [{ meta: { key: 'l4proto' } }, { payload: { protocol: 'th', field: 'dport' } }] };
const el = (name: string, ...elem: unknown[]) => ({ element: { ...T, name, elem } });
const key = (m: DnatMapping) => ({ concat: [m.protocol, m.nodePort] });
const pair = (ip: string) => ({ concat: [ip, ip] });

describe('renderFullSync', () => {
  it('replaces the table atomically: add, delete, re-create chains, maps, set, rules, then one element command per map/set', () => {
    expect(renderFullSync('IPv4', [v4a])).toEqual({
      nftables: [
        { add: { table: { family: 'ip', name: 'npl' } } },
        { delete: { table: { family: 'ip', name: 'npl' } } },
        { add: { table: { family: 'ip', name: 'npl' } } },
        { add: { chain: { ...T, name: 'prerouting', type: 'nat', hook: 'prerouting', prio: -100, policy: 'accept' } } },
        { add: { chain: { ...T, name: 'output', type: 'nat', hook: 'output', prio: -100, policy: 'accept' } } },
        { add: { chain: { ...T, name: 'postrouting', type: 'nat', hook: 'postrouting', prio: 100, policy: 'accept' } } },
        { add: { chain: { ...T, name: 'mappings' } } },
        { add: { map: { ...T, name: 'addrs', type: ['inet_proto', 'inet_service'], map: 'ipv4_addr' } } },
        { add: { map: { ...T, name: 'ports', type: ['inet_proto', 'inet_service'], map: 'inet_service' } } },
        { add: { set: { ...T, name: 'hairpin', type: ['ipv4_addr', 'ipv4_addr'] } } },
        { add: { rule: { ...T, chain: 'prerouting', expr: localJump } } },
        { add: { rule: { ...T, chain: 'output', expr: localJump } } },
        {
          add: {
            rule: {
              ...T,
              chain: 'postrouting',
              expr: [
                { match: { op: 'in', left: { ct: { key: 'status' } }, right: 'dnat' } },
                {
                  match: {
                    op: '==',
                    left: { concat: [{ payload: { protocol: 'ip', field: 'saddr' } }, { payload: { protocol: 'ip', field: 'daddr' } }] },
                    right: '@hairpin',
                  },
                },
                { masquerade: null },
              ],
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
                  dnat: {
                    family: 'ip',
                    addr: { map: { key: portKey, data: '@addrs' } },
                    port: { map: { key: portKey, data: '@ports' } },
                  },
                },
              ],
            },
          },
        },
        { add: el('addrs', [key(v4a), '198.18.1.2']) },
        { add: el('ports', [key(v4a), 80]) },
        { add: el('hairpin', pair('198.18.1.2')) },
      ],
    });
  });

  it('with no mapping creates the static table without an element command', () => {
    const batch = renderFullSync('IPv6', [], { table: 'npl-test' });
    expect(batch.nftables.some((c) => 'add' in c && 'element' in c.add)).toBe(false);
    expect(batch.nftables[0]).toEqual({ add: { table: { family: 'ip6', name: 'npl-test' } } });
    expect(batch.nftables).toHaveLength(3 + 7 + 4);
  });

  it('uses the ip6 forms for IPv6, and one hairpin element per pod IP (compared canonically)', () => {
    const batch = renderFullSync('IPv6', [v6a, { ...v6a, nodePort: 61001, podIP: '2001:DB8:0::5' }]);
    const text = JSON.stringify(batch);
    expect(text).toContain('{"map":{"family":"ip6","table":"npl","name":"addrs","type":["inet_proto","inet_service"],"map":"ipv6_addr"}}');
    expect(text).toContain('{"set":{"family":"ip6","table":"npl","name":"hairpin","type":["ipv6_addr","ipv6_addr"]}}');
    expect(text).toContain('{"payload":{"protocol":"ip6","field":"saddr"}},{"payload":{"protocol":"ip6","field":"daddr"}}');
    expect(text).toContain('{"dnat":{"family":"ip6",');
    const hairpin = batch.nftables.find((c) => 'add' in c && JSON.stringify(c).includes('"name":"hairpin","elem"'));
    expect(hairpin).toEqual({ add: { element: { family: 'ip6', table: 'npl', name: 'hairpin', elem: [pair('2001:db8::5')] } } });
  });

  it('rejects a mapping of the other family', () => {
    let err: unknown;
    try {
      renderFullSync('IPv6', [v4a]);
    } catch (e) {
      err = e;
    }
    expect(isNplError(err, 'NPL_ADDRESS_INVALID')).toBe(true);
    expect(() => renderAdd('IPv4', { ...v4a, podIP: '2001:db8::1' })).toThrow('does not belong in the IPv4 table');
  });
});

describe('renderAdd / renderDelete', () => {
  const addOf = (m: DnatMapping) => [
    { add: el('addrs', [key(m), m.podIP]) },
    { add: el('ports', [key(m), m.podPort]) },
    { add: el('hairpin', pair(m.podIP)) },
  ];
  const removalOf = (m: DnatMapping) => [
    { add: el('addrs', [key(m), m.podIP]) },
    { add: el('ports', [key(m), m.podPort]) },
    { delete: el('addrs', key(m)) },
    { delete: el('ports', key(m)) },
  ];
  const hairpinRemovalOf = (ip: string) => [{ add: el('hairpin', pair(ip)) }, { delete: el('hairpin', pair(ip)) }];

  it('adds a mapping: one element in each map and its pod IP pair in the hairpin set', () => {
    expect(renderAdd('IPv4', v4b)).toEqual({ nftables: addOf(v4b) });
  });

  it('replaces the target of an installed key: add-then-delete the old elements first', () => {
    const moved = { ...v4b, podIP: '198.18.1.9', podPort: 54 };
    expect(renderAdd('IPv4', moved, { replaces: v4b })).toEqual({ nftables: [...removalOf(v4b), ...addOf(moved)] });
    expect(renderAdd('IPv4', moved, { replaces: v4b, dropReplacedHairpin: true })).toEqual({
      nftables: [...removalOf(v4b), ...hairpinRemovalOf('198.18.1.3'), ...addOf(moved)],
    });
  });

  it('keeps the hairpin element when only the pod port changes, and ignores a replaces with the same target', () => {
    const port = { ...v4b, podPort: 54 };
    expect(renderAdd('IPv4', port, { replaces: v4b, dropReplacedHairpin: true })).toEqual({ nftables: [...removalOf(v4b), ...addOf(port)] });
    expect(renderAdd('IPv4', v4b, { replaces: { ...v4b }, dropReplacedHairpin: true })).toEqual({ nftables: addOf(v4b) });
  });

  it('rejects a replaces of another key', () => {
    expect(() => renderAdd('IPv4', v4b, { replaces: v4a })).toThrow('cannot replace tcp/61000');
  });

  it('deletes a mapping idempotently: add then delete each element; the hairpin element only on request', () => {
    expect(renderDelete('IPv4', v4b)).toEqual({ nftables: removalOf(v4b) });
    expect(renderDelete('IPv4', v4b, { dropHairpin: true })).toEqual({ nftables: [...removalOf(v4b), ...hairpinRemovalOf('198.18.1.3')] });
  });

  it('tears the table down idempotently', () => {
    expect(renderTeardown('IPv6', { table: 'x' })).toEqual({
      nftables: [{ add: { table: { family: 'ip6', name: 'x' } } }, { delete: { table: { family: 'ip6', name: 'x' } } }],
    });
  });
});

describe('parseNftRuleset / parseNftTable', () => {
  const listing = (family: 'ip' | 'ip6', ip: string) => ({
    nftables: [
      { metainfo: { version: '1.0.6', json_schema_version: 1 } },
      { table: { family, name: 'npl', handle: 1 } },
      {
        map: {
          family,
          name: 'addrs',
          table: 'npl',
          type: ['inet_proto', 'inet_service'],
          handle: 5,
          map: family === 'ip' ? 'ipv4_addr' : 'ipv6_addr',
          elem: [
            [{ concat: ['tcp', 61000] }, ip],
            [{ concat: ['udp', 61000] }, ip],
          ],
        },
      },
      {
        map: {
          family,
          name: 'ports',
          table: 'npl',
          type: ['inet_proto', 'inet_service'],
          handle: 6,
          map: 'inet_service',
          elem: [
            [{ concat: ['tcp', 61000] }, 80],
            [{ concat: ['tcp', 61009] }, 81],
          ],
        },
      },
      { set: { family, name: 'hairpin', table: 'npl', type: ['ipv4_addr', 'ipv4_addr'], handle: 7, elem: [{ concat: [ip, ip] }] } },
    ],
  });

  it('joins the two maps by key', () => {
    expect(parseNftRuleset(listing('ip', '198.18.1.2'))).toEqual([v4a]);
    expect(parseNftRuleset(JSON.stringify(listing('ip6', '2001:db8::5')))).toEqual([{ ...v6a, podPort: 80 }]);
  });

  it('reports keys present in only one map, and the hairpin pairs', () => {
    expect(parseNftTable(listing('ip', '198.18.1.2'))).toEqual({
      mappings: [v4a],
      inconsistent: [
        { protocol: 'tcp', nodePort: 61009, map: 'ports', value: 81 },
        { protocol: 'udp', nodePort: 61000, map: 'addrs', value: '198.18.1.2' },
      ],
      hairpin: [['198.18.1.2', '198.18.1.2']],
      present: { addrs: true, ports: true, hairpin: true },
    });
  });

  it('returns [] for another table name, an empty listing or no map', () => {
    expect(parseNftRuleset(listing('ip', '198.18.1.2'), { table: 'other' })).toEqual([]);
    expect(parseNftRuleset({ nftables: [] })).toEqual([]);
    expect(parseNftRuleset('{}')).toEqual([]);
    expect(parseNftTable('{}').present).toEqual({ addrs: false, ports: false, hairpin: false });
  });

  it('round-trips what renderFullSync renders (elements moved into their map, as nft lists them)', () => {
    const batch = renderFullSync('IPv4', [v4b, v4a]);
    const adds = batch.nftables.flatMap((c) => ('add' in c ? [c.add] : []));
    const elems = (name: string) =>
      adds.flatMap((o) => {
        const e = o['element'] as { name: string; elem: unknown[] } | undefined;
        return e?.name === name ? e.elem : [];
      });
    const withElems = adds
      .filter((o) => !('element' in o))
      .map((o) => {
        const [kind, body] = Object.entries(o)[0] as [string, { name: string }];
        return kind === 'map' || kind === 'set' ? { [kind]: { ...body, elem: elems(body.name) } } : o;
      });
    expect(parseNftTable({ nftables: withElems })).toMatchObject({
      mappings: [v4a, v4b],
      inconsistent: [],
      hairpin: [['198.18.1.3', '198.18.1.3'], ['198.18.1.2', '198.18.1.2']],
    });
  });
});

// Real kernel: nft 1.0.6 must accept every batch, list back what was rendered, and carry traffic.

describeUnless(commandsSkipReason('nft in a network namespace', ['nft', 'ip']), 'nft in a throwaway netns', () => {
  const suffix = randomBytes(4).toString('hex');
  const node = `npl-core-test-${suffix}`;
  const pod = `npl-core-testpod-${suffix}`;
  const created: string[] = [];

  const sh = (args: string[], input?: string): string =>
    execFileSync(args[0] ?? '', args.slice(1), { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  const inNode = (...args: string[]): string => sh(['ip', 'netns', 'exec', node, ...args]);
  const inPod = (...args: string[]): string => sh(['ip', 'netns', 'exec', pod, ...args]);
  // nft opens /dev/stdin, which fails (ENXIO) on the socket Node gives a child: feed it through a pipe.
  const apply = (batch: NftBatch): string =>
    sh(['ip', 'netns', 'exec', node, 'sh', '-c', 'cat | nft -j -f -'], JSON.stringify(batch));
  const fam = (family: IPFamily): string => (family === 'IPv4' ? 'ip' : 'ip6');
  const content = (family: IPFamily) => parseNftTable(inNode('nft', '-j', 'list', 'table', fam(family), 'npl'));
  const listed = (family: IPFamily): DnatMapping[] => content(family).mappings;
  const hairpinIPs = (family: IPFamily): string[] => content(family).hairpin.map(([a]) => a).sort();
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

  const cases = {
    IPv4: {
      ms: [v4a, v4b],
      extra: { family: 'IPv4', protocol: 'tcp', nodePort: 61002, podIP: '198.18.1.9', podPort: 9090 },
      other: '198.18.1.10',
    },
    IPv6: {
      ms: [v6a, { family: 'IPv6', protocol: 'udp', nodePort: 61001, podIP: '2001:db8::6', podPort: 53 }],
      extra: { family: 'IPv6', protocol: 'tcp', nodePort: 61002, podIP: '2001:db8::9', podPort: 9090 },
      other: '2001:db8::10',
    },
  } satisfies Record<IPFamily, { ms: DnatMapping[]; extra: DnatMapping; other: string }>;

  it.each(['IPv4', 'IPv6'] as const)('%s: full sync, incremental add and delete, re-sync over a stale set, teardown', (family) => {
    const { ms, extra } = cases[family];
    apply(renderFullSync(family, ms));
    expect(listed(family)).toEqual(ms);
    expect(hairpinIPs(family)).toEqual(ms.map((m) => m.podIP).sort());

    apply(renderAdd(family, extra));
    apply(renderAdd(family, extra));
    expect(listed(family)).toEqual(sortMappings([...ms, extra]));

    apply(renderDelete(family, extra, { dropHairpin: true }));
    apply(renderDelete(family, extra, { dropHairpin: true }));
    expect(listed(family)).toEqual(ms);
    expect(hairpinIPs(family)).toEqual(ms.map((m) => m.podIP).sort());

    apply(renderFullSync(family, [extra]));
    expect(listed(family)).toEqual([extra]);
    expect(hairpinIPs(family)).toEqual([extra.podIP]);
    apply(renderFullSync(family, []));
    expect(content(family)).toMatchObject({ mappings: [], inconsistent: [], hairpin: [] });

    apply(renderTeardown(family));
    apply(renderTeardown(family));
    expect(tables()).not.toContain(`table ${fam(family)} npl`);
  });

  it.each(['IPv4', 'IPv6'] as const)('%s: add of an absent key, of the same target again, and of a key that holds another target', (family) => {
    const { ms, extra, other } = cases[family];
    apply(renderFullSync(family, ms));
    // (a) absent key, (b) the identical mapping again.
    apply(renderAdd(family, extra));
    apply(renderAdd(family, extra));
    expect(listed(family)).toEqual(sortMappings([...ms, extra]));
    // (c) the key holds another target: a plain add is rejected as a whole, nothing changes ...
    const moved: DnatMapping = { ...extra, podIP: other, podPort: 9191 };
    expect(() => apply(renderAdd(family, moved))).toThrow(/File exists/);
    expect(listed(family)).toEqual(sortMappings([...ms, extra]));
    // ... with the installed target as `replaces` it succeeds, and drops the old pod IP's pair on request.
    apply(renderAdd(family, moved, { replaces: extra, dropReplacedHairpin: true }));
    expect(listed(family)).toEqual(sortMappings([...ms, moved]));
    expect(hairpinIPs(family)).toEqual([...ms.map((m) => m.podIP), other].sort());
    // ... and also when the old elements were already deleted behind our back.
    inNode('nft', 'delete', 'element', fam(family), 'npl', 'addrs', `{ tcp . ${extra.nodePort} }`);
    apply(renderAdd(family, extra, { replaces: moved }));
    expect(listed(family)).toEqual(sortMappings([...ms, extra]));
    // A delete whose target is not the installed one is rejected (the dataplane then re-syncs).
    expect(() => apply(renderDelete(family, moved))).toThrow(/File exists/);
    apply(renderTeardown(family));
  });

  it('rejects a delete batch when our table is absent (the agent then re-syncs)', () => {
    expect(() => apply(renderDelete('IPv4', v4a))).toThrow();
  });

  const connect = (ns: string, host: string, timeoutMs = 5000): string =>
    sh([
      'ip', 'netns', 'exec', ns, process.execPath, '-e',
      `const s = require('net').connect(61000, '${host}'); let d = ''; s.on('data', (c) => (d += c)); ` +
        "s.on('end', () => { console.log(d); }); s.on('error', (e) => { console.error(e.message); process.exit(1); }); " +
        `setTimeout(() => process.exit(2), ${timeoutMs}).unref();`,
    ]);

  it('carries real TCP (IPv4 and IPv6) from the node, and hairpin from the pod itself, to the pod through its node port', async () => {
    const veth = `npl${suffix}`;
    sh(['ip', 'link', 'add', `${veth}a`, 'netns', node, 'type', 'veth', 'peer', 'name', `${veth}b`, 'netns', pod]);
    inNode('ip', 'addr', 'add', '198.18.0.1/24', 'dev', `${veth}a`);
    inNode('ip', 'addr', 'add', '2001:db8:1::1/64', 'dev', `${veth}a`, 'nodad');
    inNode('ip', 'link', 'set', `${veth}a`, 'up');
    inNode('ip', 'link', 'set', 'lo', 'up');
    inNode('sysctl', '-qw', 'net.ipv4.ip_forward=1');
    inNode('sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1');
    inPod('ip', 'addr', 'add', '198.18.0.2/24', 'dev', `${veth}b`);
    inPod('ip', 'addr', 'add', '2001:db8:1::2/64', 'dev', `${veth}b`, 'nodad');
    inPod('ip', 'link', 'set', `${veth}b`, 'up');
    apply(renderFullSync('IPv4', [{ family: 'IPv4', protocol: 'tcp', nodePort: 61000, podIP: '198.18.0.2', podPort: 8080 }]));
    apply(renderFullSync('IPv6', [{ family: 'IPv6', protocol: 'tcp', nodePort: 61000, podIP: '2001:db8:1::2', podPort: 8080 }]));

    const server = spawn('ip', [
      'netns', 'exec', pod, process.execPath, '-e',
      "require('net').createServer((s) => s.end('hello from pod')).listen(8080, '::', () => console.log('ready'))",
    ]);
    try {
      await waitForLine(server, 'ready');
      expect(connect(node, '198.18.0.1').trim()).toBe('hello from pod');
      expect(connect(pod, '198.18.0.1').trim()).toBe('hello from pod');
      expect(connect(node, '2001:db8:1::1').trim()).toBe('hello from pod');
      expect(connect(pod, '2001:db8:1::1').trim()).toBe('hello from pod');
      // Without its hairpin element the pod can no longer reach itself; the node still can.
      inNode('nft', 'delete', 'element', 'ip6', 'npl', 'hairpin', '{ 2001:db8:1::2 . 2001:db8:1::2 }');
      expect(() => connect(pod, '2001:db8:1::1', 1000)).toThrow();
      expect(connect(node, '2001:db8:1::1').trim()).toBe('hello from pod');
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

describe('renderRefresh', () => {
  it('keeps the table: adds every object, flushes chains, maps and set, then refills, with no delete', () => {
    const m = { family: 'IPv4' as const, protocol: 'tcp' as const, nodePort: 61000, podIP: '198.18.1.2', podPort: 80 };
    const refresh = renderRefresh('IPv4', [m]).nftables;
    const full = renderFullSync('IPv4', [m]).nftables;
    expect(refresh.some((c) => 'delete' in c)).toBe(false);
    const flushed = refresh.flatMap((c) => ('flush' in c ? [Object.keys(c.flush)[0] + ' ' + String((Object.values(c.flush)[0] as { name: string }).name)] : []));
    expect(flushed).toEqual(['chain prerouting', 'chain output', 'chain postrouting', 'chain mappings', 'map addrs', 'map ports', 'set hairpin']);
    // The full sync adds the same objects, rules and elements (after its add/delete/add of the table).
    expect(refresh.filter((c) => 'add' in c)).toEqual(full.filter((c) => 'add' in c).slice(1));
  });
});
