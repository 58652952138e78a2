import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { describeUnless } from '@npl/testkit';
import type { DnatMapping } from '@npl/core';
import { isDataplaneError } from './dataplane-error.js';
import { NftablesDataplane } from './nftables.js';
import type { PodServer as PodServerType, Topology } from './testing/netns.js';
import { NODE_IP, NODE_OUTSIDE_IP, POD_IP, PodServer, createTopology, kernelSkipReason, request } from './testing/netns.js';

const skip = kernelSkipReason(['ip', 'nft']);

const tcp = (nodePort: number, podPort: number): DnatMapping => ({ family: 'IPv4', protocol: 'tcp', nodePort, podIP: POD_IP, podPort });
const web = tcp(61000, 8080);
const api = tcp(61001, 8081);
const dns: DnatMapping = { family: 'IPv4', protocol: 'udp', nodePort: 61002, podIP: POD_IP, podPort: 5353 };
const extra = tcp(61003, 8082);

describeUnless(skip, 'NftablesDataplane on a real kernel (netns node/pod/outside)', () => {
  let topo: Topology;
  let server: PodServerType;
  let dp: NftablesDataplane;
  const nft = (...args: string[]): string => topo.exec(topo.node, 'nft', ...args);
  const handleOf = (chain: string, needle: string): string => {
    const line = nft('-a', 'list', 'chain', 'ip', 'npl', chain).split('\n').find((l) => l.includes(needle));
    const handle = /# handle (\d+)/.exec(line ?? '')?.[1];
    if (!handle) throw new Error(`no rule with ${needle} in ${chain}`);
    return handle;
  };

  beforeAll(async () => {
    topo = createTopology('nft');
    server = await PodServer.start(topo, { tcp: [8080, 8081, 8082], udp: [5353] });
    // Batches go through a long-lived `nft -j -i` session in the node namespace, as in the agent.
    dp = new NftablesDataplane({ family: 'IPv4', runner: topo.runner, session: ['ip', 'netns', 'exec', topo.node, 'nft'] });
  });

  afterAll(async () => {
    dp?.close();
    await server?.stop();
    topo?.destroy();
  });

  it('reports the nft version and initialises without creating anything', async () => {
    expect(await dp.available()).toMatch(/^nftables v\d+\.\d+/);
    await dp.init();
    expect(nft('list', 'tables')).not.toContain('npl');
  });

  it('full sync: TCP from outside, from the node itself, hairpin from the pod, and UDP all reach the pod', async () => {
    await dp.replaceAll([web, api, dns]);
    expect(request(topo.outside, [['tcp', POD_IP, 8080]], 500)).toEqual([null]);
    expect(
      request(topo.outside, [
        ['tcp', NODE_OUTSIDE_IP, 61000],
        ['tcp', NODE_IP, 61001],
        ['udp', NODE_OUTSIDE_IP, 61002],
      ]),
    ).toEqual(['pod:tcp:8080', 'pod:tcp:8081', 'pod:udp:5353']);
    expect(request(topo.node, [['tcp', NODE_IP, 61000], ['tcp', NODE_OUTSIDE_IP, 61001], ['udp', NODE_IP, 61002]])).toEqual([
      'pod:tcp:8080',
      'pod:tcp:8081',
      'pod:udp:5353',
    ]);
    expect(request(topo.pod, [['tcp', NODE_IP, 61000], ['udp', NODE_IP, 61002]])).toEqual(['pod:tcp:8080', 'pod:udp:5353']);
    expect(await dp.verify([web, api, dns])).toMatchObject({ inSync: true, missing: [], unexpected: [] });
  });

  it('incremental add and delete start and stop traffic, and are idempotent', async () => {
    expect(request(topo.outside, [['tcp', NODE_IP, 61003]])).toEqual([null]);
    await dp.add(extra);
    await dp.add(extra);
    expect(request(topo.outside, [['tcp', NODE_IP, 61003]])).toEqual(['pod:tcp:8082']);
    expect((await dp.verify([web, api, dns, extra])).inSync).toBe(true);
    await dp.delete(extra);
    await dp.delete(extra);
    expect(request(topo.outside, [['tcp', NODE_IP, 61003]])).toEqual([null]);
    expect((await dp.verify([web, api, dns])).inSync).toBe(true);
  });

  it('a full re-sync removes stale mappings', async () => {
    await dp.replaceAll([web]);
    expect(request(topo.outside, [['tcp', NODE_IP, 61000], ['tcp', NODE_IP, 61001]])).toEqual(['pod:tcp:8080', null]);
    expect(await dp.verify([web])).toMatchObject({ inSync: true });
    expect(await dp.verify([web, api])).toMatchObject({ inSync: false, missing: [api], unexpected: [] });
  });

  it('a full re-sync keeps the table and its hooks (same kernel handle), so new connections never miss the DNAT', async () => {
    const handle = (): number | undefined =>
      (JSON.parse(nft('-j', 'list', 'tables')) as { nftables: { table?: { name: string; handle: number } }[] }).nftables.find((o) => o.table?.name === 'npl')?.table?.handle;
    await dp.replaceAll([web]);
    const before = handle();
    expect(before).toBeDefined();
    await dp.replaceAll([web, api]);
    expect(handle()).toBe(before);
    expect(request(topo.outside, [['tcp', NODE_IP, 61001]])).toEqual(['pod:tcp:8081']);
  });

  it('a full re-sync over a table of another shape (an older version, a hand edit) recreates it', async () => {
    nft('delete', 'table', 'ip', 'npl');
    nft('add', 'table', 'ip', 'npl');
    nft('add', 'map', 'ip', 'npl', 'addrs', '{ type inet_service : ipv4_addr ; }');
    await dp.replaceAll([web]);
    expect((await dp.verify([web])).inSync).toBe(true);
    expect(request(topo.outside, [['tcp', NODE_IP, 61000]])).toEqual(['pod:tcp:8080']);
  });

  it('add: an absent mapping, the identical mapping again, and a new target for an installed node port', async () => {
    await dp.replaceAll([web]);
    // (a) absent, (b) identical again.
    await dp.add(extra);
    await dp.add(extra);
    expect(request(topo.outside, [['tcp', NODE_IP, 61003]])).toEqual(['pod:tcp:8082']);
    // (c) the node port now leads to another pod port, then to another pod IP, then back.
    await dp.add({ ...extra, podPort: 8081 });
    expect(request(topo.outside, [['tcp', NODE_IP, 61003]])).toEqual(['pod:tcp:8081']);
    const elsewhere = { ...extra, podIP: '198.18.200.99' };
    await dp.add(elsewhere);
    expect(await dp.verify([web, elsewhere])).toMatchObject({ inSync: true });
    expect(nft('list', 'set', 'ip', 'npl', 'hairpin')).toContain('198.18.200.99 . 198.18.200.99');
    await dp.add(extra);
    expect(nft('list', 'set', 'ip', 'npl', 'hairpin')).not.toContain('198.18.200.99');
    expect(request(topo.outside, [['tcp', NODE_IP, 61003]])).toEqual(['pod:tcp:8082']);
    expect(await dp.verify([web, extra])).toMatchObject({ inSync: true });
  });

  it('add and delete still work when someone else changed or removed the elements (re-sync from the model)', async () => {
    await dp.replaceAll([web, extra]);
    // Someone points 61003 at another port: our batch (which expects 8082) is rejected, the table re-synced.
    nft('delete', 'element', 'ip', 'npl', 'ports', '{ tcp . 61003 }');
    nft('add', 'element', 'ip', 'npl', 'ports', '{ tcp . 61003 : 9999 }');
    expect(await dp.verify([web, extra])).toMatchObject({ inSync: false, missing: [extra] });
    await dp.add(extra);
    expect(await dp.verify([web, extra])).toMatchObject({ inSync: true });
    expect(request(topo.outside, [['tcp', NODE_IP, 61003]])).toEqual(['pod:tcp:8082']);
    nft('delete', 'element', 'ip', 'npl', 'addrs', '{ tcp . 61003 }');
    nft('add', 'element', 'ip', 'npl', 'addrs', '{ tcp . 61003 : 198.18.200.77 }');
    await dp.delete(extra);
    await dp.add(api);
    expect(await dp.verify([web, api])).toMatchObject({ inSync: true });
    // Elements deleted by hand: add re-creates them, delete does not mind.
    nft('delete', 'element', 'ip', 'npl', 'addrs', '{ tcp . 61001 }');
    nft('delete', 'element', 'ip', 'npl', 'ports', '{ tcp . 61001 }');
    await dp.add(api);
    expect(request(topo.outside, [['tcp', NODE_IP, 61001]])).toEqual(['pod:tcp:8081']);
    nft('delete', 'element', 'ip', 'npl', 'addrs', '{ tcp . 61001 }');
    await dp.delete(api);
    expect(await dp.verify([web])).toMatchObject({ inSync: true });
  });

  it('hairpin element lifetime: one per pod IP, removed with the last mapping of that pod IP', async () => {
    await dp.replaceAll([web, api]);
    expect(request(topo.pod, [['tcp', NODE_IP, 61000], ['tcp', NODE_IP, 61001]])).toEqual(['pod:tcp:8080', 'pod:tcp:8081']);
    await dp.delete(web);
    expect(nft('list', 'set', 'ip', 'npl', 'hairpin')).toContain(`${POD_IP} . ${POD_IP}`);
    expect(request(topo.pod, [['tcp', NODE_IP, 61000], ['tcp', NODE_IP, 61001]])).toEqual([null, 'pod:tcp:8081']);
    expect(await dp.verify([api])).toMatchObject({ inSync: true });
    await dp.delete(api);
    expect(nft('list', 'set', 'ip', 'npl', 'hairpin')).not.toContain(POD_IP);
    expect(await dp.verify([])).toMatchObject({ inSync: true });
    await dp.add(web);
    expect(request(topo.pod, [['tcp', NODE_IP, 61000]])).toEqual(['pod:tcp:8080']);
  });

  it('verify finds an element deleted by hand, and repair restores it', async () => {
    await dp.replaceAll([web, api]);
    nft('delete', 'element', 'ip', 'npl', 'addrs', '{ tcp . 61001 }');
    nft('delete', 'element', 'ip', 'npl', 'ports', '{ tcp . 61001 }');
    expect(request(topo.outside, [['tcp', NODE_IP, 61001]])).toEqual([null]);
    const drift = await dp.verify([web, api]);
    expect(drift).toMatchObject({ inSync: false, missing: [api], unexpected: [], tableMissing: false, staticDrift: false });
    await dp.repair([web, api]);
    expect(request(topo.outside, [['tcp', NODE_IP, 61001]])).toEqual(['pod:tcp:8081']);
    expect((await dp.verify([web, api])).inSync).toBe(true);
  });

  it('verify finds a key left in only one map: no DNAT for it, and drift', async () => {
    nft('delete', 'element', 'ip', 'npl', 'ports', '{ tcp . 61001 }');
    expect(request(topo.outside, [['tcp', NODE_IP, 61001], ['tcp', NODE_IP, 61000]])).toEqual([null, 'pod:tcp:8080']);
    const drift = await dp.verify([web, api]);
    expect(drift).toMatchObject({ inSync: false, missing: [api], unexpected: [], staticDrift: true });
    expect(drift.staticProblems).toEqual([`map addrs element tcp . 61001 : ${POD_IP} has no ports element`]);
    await dp.repair([web, api]);
    expect((await dp.verify([web, api])).inSync).toBe(true);
  });

  it('verify finds a deleted jump rule and a removed hairpin element as drift; repair fixes both', async () => {
    nft('delete', 'rule', 'ip', 'npl', 'prerouting', 'handle', handleOf('prerouting', 'jump mappings'));
    nft('delete', 'element', 'ip', 'npl', 'hairpin', `{ ${POD_IP} . ${POD_IP} }`);
    expect(request(topo.outside, [['tcp', NODE_IP, 61001]])).toEqual([null]);
    expect(request(topo.pod, [['tcp', NODE_IP, 61000]])).toEqual([null]);
    const drift = await dp.verify([web, api]);
    expect(drift).toMatchObject({ inSync: false, staticDrift: true, missing: [web, api], unexpected: [] });
    expect(drift.staticProblems).toEqual(['rules of chain prerouting differ: []']);
    await dp.repair([web, api]);
    expect(request(topo.outside, [['tcp', NODE_IP, 61001]])).toEqual(['pod:tcp:8081']);
    expect(request(topo.pod, [['tcp', NODE_IP, 61000]])).toEqual(['pod:tcp:8080']);
    expect((await dp.verify([web, api])).inSync).toBe(true);
  });

  it('verify finds a deleted dnat rule, an altered masquerade rule, a deleted map and a changed hook priority', async () => {
    const tamper: [() => void, string][] = [
      [() => nft('delete', 'rule', 'ip', 'npl', 'mappings', 'handle', handleOf('mappings', 'dnat')), 'rules of chain mappings differ: []'],
      [() => nft('delete', 'rule', 'ip', 'npl', 'postrouting', 'handle', handleOf('postrouting', 'masquerade')), 'rules of chain postrouting differ: []'],
      [
        () => {
          nft('flush', 'chain', 'ip', 'npl', 'postrouting');
          nft('add', 'rule', 'ip', 'npl', 'postrouting', 'ct', 'status', 'dnat', 'masquerade');
        },
        'rules of chain postrouting differ: [',
      ],
      [
        () => {
          nft('delete', 'chain', 'ip', 'npl', 'output');
          nft('add', 'chain', 'ip', 'npl', 'output', '{ type nat hook output priority 0; }');
        },
        'chain output differs',
      ],
      [
        () => {
          nft('flush', 'chain', 'ip', 'npl', 'mappings');
          nft('delete', 'map', 'ip', 'npl', 'ports');
        },
        'map ports is missing',
      ],
      [
        () => {
          nft('flush', 'chain', 'ip', 'npl', 'postrouting');
          nft('delete', 'set', 'ip', 'npl', 'hairpin');
        },
        'set hairpin is missing',
      ],
    ];
    for (const [change, problem] of tamper) {
      await dp.replaceAll([web, api]);
      change();
      const drift = await dp.verify([web, api]);
      expect(drift).toMatchObject({ inSync: false, staticDrift: true });
      expect(drift.staticProblems.join('\n')).toContain(problem);
    }
    await dp.repair([web, api]);
    expect((await dp.verify([web, api])).inSync).toBe(true);
    expect(request(topo.pod, [['tcp', NODE_IP, 61000]])).toEqual(['pod:tcp:8080']);
  });

  it('a table deleted behind our back: add fails with tableMissing and nft stderr, verify says so, repair recovers', async () => {
    nft('delete', 'table', 'ip', 'npl');
    const err: unknown = await dp.add(extra).then(() => undefined, (e: unknown) => e);
    expect(isDataplaneError(err) && err.tableMissing).toBe(true);
    expect((err as Error).message).toMatch(/^nft \(ip npl\): add 61003\/tcp -> 198\.18\.200\.2:8082 failed: Error: No such file or directory \(table ip npl does not exist: repair needed\)$/);
    expect(await dp.verify([web])).toMatchObject({ tableMissing: true, missing: [web], inSync: false });
    await dp.repair([web, extra]);
    expect(request(topo.outside, [['tcp', NODE_IP, 61003]])).toEqual(['pod:tcp:8082']);
  });

  it('loads 2,000 mappings in one batch; the listing and traffic agree', async () => {
    const many = Array.from({ length: 2000 }, (_, i) => tcp(62000 + i, 8080 + (i % 3)));
    await dp.replaceAll(many);
    const drift = await dp.verify(many);
    expect(drift).toMatchObject({ inSync: true, missing: [], unexpected: [] });
    expect(request(topo.outside, [['tcp', NODE_IP, 62000], ['tcp', NODE_IP, 63001], ['tcp', NODE_IP, 63999]])).toEqual([
      'pod:tcp:8080',
      'pod:tcp:8082',
      'pod:tcp:8081',
    ]);
    await dp.delete(many[1000] as DnatMapping);
    expect((await dp.verify(many)).missing).toEqual([many[1000]]);
  });

  it('rules do not depend on the process that installed them', async () => {
    await (async () => {
      const transient = new NftablesDataplane({ family: 'IPv4', runner: topo.runner });
      await transient.replaceAll([web]);
    })();
    expect(request(topo.outside, [['tcp', NODE_IP, 61000]])).toEqual(['pod:tcp:8080']);
  });

  it('IPv6: verify compares pod IPs canonically', async () => {
    const v6 = new NftablesDataplane({ family: 'IPv6', runner: topo.runner });
    const m: DnatMapping = { family: 'IPv6', protocol: 'udp', nodePort: 61000, podIP: '2001:db8:0:0::5', podPort: 53 };
    await v6.replaceAll([m]);
    expect(await v6.verify([{ ...m, podIP: '2001:DB8::5' }])).toMatchObject({ inSync: true });
    await v6.teardown();
    expect(nft('list', 'tables')).not.toContain('table ip6 npl');
  });

  it('teardown removes the table, is idempotent, and verify then reports it missing', async () => {
    await dp.teardown();
    await dp.teardown();
    expect(nft('list', 'tables')).not.toContain('npl');
    expect(request(topo.outside, [['tcp', NODE_IP, 61000]])).toEqual([null]);
    expect(await dp.verify([])).toMatchObject({ tableMissing: true, inSync: false });
  });
});
