import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { isNplError } from './errors.js';
import { PORT_HINT_TTL_MS, PortTable, restoreBackoff, type RestoredMapping } from './port-table.js';
import { FakeMappingRules, FakePortReserver } from './testing/index.js';
import type { IPFamily, Protocol } from './types.js';

const startPort = 61000;
const endPort = 65000;
const podKey = 'default/test-pod';
const nodePort1 = startPort;
const nodePort2 = startPort + 1;
const FAMILIES: readonly IPFamily[] = ['IPv4', 'IPv6'];
const podIPOf = (family: IPFamily): string => (family === 'IPv4' ? '10.0.0.1' : 'fd00::1');

function setup(family: IPFamily = 'IPv4', range = { start: startPort, end: endPort }) {
  const reserver = new FakePortReserver();
  const rules = new FakeMappingRules(family);
  const table = new PortTable({ family, range, reserver, rules });
  return { reserver, rules, table };
}

async function expectNplError(p: Promise<unknown>, code: Parameters<typeof isNplError>[1], text: string) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isNplError(err, code)).toBe(true);
  expect((err as Error).message).toContain(text);
  return err as Error;
}

describe('TestRestoreRules', () => {
  const restoredFor = (family: IPFamily): RestoredMapping[] => [
    { podKey, nodePort: nodePort1, podPort: 1001, podIP: podIPOf(family), protocol: 'tcp' },
    { podKey, nodePort: nodePort1, podPort: 1001, podIP: podIPOf(family), protocol: 'udp' },
    { podKey, nodePort: nodePort2, podPort: 1002, podIP: podIPOf(family), protocol: 'udp' },
  ];

  for (const family of FAMILIES) {
    for (const failedRuleSyncs of [0, 1, 10]) {
      it(`${family} with ${failedRuleSyncs} failed rule syncs: sockets opened in order, sync retried until it succeeds`, async () => {
        const { reserver, rules, table } = setup(family);
        rules.failNext('replaceAll', failedRuleSyncs, new Error('iptables error'));

        const result = await table.restore(restoredFor(family));
        expect(result.skipped).toEqual([]);
        expect(result.restored.map((e) => `${e.protocol}/${e.nodePort}`)).toEqual(['tcp/61000', 'udp/61000', 'udp/61001']);
        expect(reserver.attempts).toEqual([`${family} tcp 61000`, `${family} udp 61000`, `${family} udp 61001`]);

        let attempts = 0;
        const delays: number[] = [];
        for (;;) {
          try {
            await table.syncAll();
            break;
          } catch (err) {
            expect(isNplError(err, 'NPL_DATAPLANE_FAILED')).toBe(true);
            delays.push(restoreBackoff(attempts++, () => 0));
          }
        }
        expect(attempts).toBe(failedRuleSyncs);
        expect(rules.calls.replaceAll).toBe(failedRuleSyncs + 1);
        const ip = family === 'IPv4' ? '10.0.0.1' : '[fd00::1]';
        expect(rules.dump()).toBe(
          `${family} tcp 61000 -> ${ip}:1001\n${family} udp 61000 -> ${ip}:1001\n${family} udp 61001 -> ${ip}:1002\n`,
        );
        expect(delays).toEqual([1000, 1500, 2250, 3375, 5000, 5000, 5000, 5000, 5000, 5000].slice(0, failedRuleSyncs));
      });
    }
  }

  it('drops a mapping whose port cannot be bound and reports why, keeping the others', async () => {
    const { reserver, table } = setup();
    reserver.makeUnavailable(nodePort1, 'udp');
    const result = await table.restore(restoredFor('IPv4'));
    expect(result.restored.map((e) => `${e.protocol}/${e.nodePort}`)).toEqual(['tcp/61000', 'udp/61001']);
    expect(result.skipped).toHaveLength(1);
    expect(result.skipped[0]?.entry.protocol).toBe('udp');
    expect(result.skipped[0]?.reason).toContain('cannot bind to local port 61000 with protocol udp');
    expect(reserver.dump()).toBe('held IPv4 tcp 61000\nheld IPv4 udp 61001\n');
  });

  it('drops out-of-range and duplicate mappings without binding them', async () => {
    const { reserver, table } = setup();
    const result = await table.restore([
      { podKey, nodePort: 30000, podPort: 80, podIP: '10.0.0.1', protocol: 'tcp' },
      { podKey, nodePort: 61005, podPort: 80, podIP: '10.0.0.1', protocol: 'tcp' },
      { podKey: 'default/other', nodePort: 61005, podPort: 80, podIP: '10.0.0.2', protocol: 'tcp' },
      { podKey, nodePort: 61006, podPort: 80, podIP: '10.0.0.1', protocol: 'tcp' },
    ]);
    expect(result.restored.map((e) => e.nodePort)).toEqual([61005]);
    expect(result.skipped.map((s) => s.reason)).toEqual([
      'node port 30000 is outside 61000-65000',
      'node port 61005 with protocol tcp is already mapped',
      'existing nodeport entry for 10.0.0.1:80:tcp',
    ]);
    expect(reserver.attempts).toEqual(['IPv4 tcp 61005']);
  });

  it('restored entries carry no Services and do not move the search pointer', async () => {
    const { table } = setup();
    await table.restore([{ podKey, nodePort: 61003, podPort: 80, podIP: '10.0.0.1', protocol: 'tcp' }]);
    expect(table.getEntry(podKey, 80, 'tcp')?.services).toEqual([]);
    const next = await table.addRule('default/p2', '10.0.0.2', 80, 'tcp');
    expect(next.nodePort).toBe(startPort);
  });

  it('syncAll installs only non-defunct entries', async () => {
    const { rules, table } = setup();
    await table.addRule(podKey, '10.0.0.1', 80, 'tcp');
    await table.addRule(podKey, '10.0.0.1', 90, 'tcp');
    rules.failNext('delete', 1);
    await expect(table.deleteRule(podKey, 90, 'tcp')).rejects.toThrow();
    await table.syncAll();
    expect(rules.dump()).toBe('IPv4 tcp 61000 -> 10.0.0.1:80\n');
  });
});

describe('restoreBackoff', () => {
  it('follows Antrea: 1 s × 1.5^n capped at 5 s, plus up to 10 % jitter', () => {
    expect([0, 1, 2, 3, 4, 20].map((n) => restoreBackoff(n, () => 0))).toEqual([1000, 1500, 2250, 3375, 5000, 5000]);
    expect(restoreBackoff(0, () => 0.5)).toBe(1050);
    expect(restoreBackoff(9, () => 0.999)).toBeCloseTo(5499.5, 5);
  });
});

describe('TestDeleteRule', () => {
  for (const family of FAMILIES) {
    it(`${family}: rule error keeps the entry, close error leaves it defunct, success removes it, second delete is a no-op`, async () => {
      const { reserver, rules, table } = setup(family);
      const podIP = podIPOf(family);
      await table.addRule(podKey, podIP, 1001, 'tcp');
      expect(table.getEntry(podKey, 1001, 'tcp')?.defunct).toBe(false);

      rules.failNext('delete', 1, new Error('iptables error'));
      const ruleErr = await expectNplError(table.deleteRule(podKey, 1001, 'tcp'), 'NPL_DATAPLANE_FAILED', 'iptables error');
      expect(ruleErr.cause).toEqual(new Error('iptables error'));
      expect(table.getEntry(podKey, 1001, 'tcp')?.defunct).toBe(true);

      reserver.failNextReleases(1, new Error('close error'));
      await expectNplError(
        table.deleteRule(podKey, 1001, 'tcp'),
        'NPL_PORT_RELEASE_FAILED',
        'error when releasing local port 61000 with protocol tcp: close error',
      );
      expect(table.getEntry(podKey, 1001, 'tcp')?.defunct).toBe(true);
      expect(rules.dump()).toBe('');
      expect(reserver.isHeld(nodePort1, 'tcp', family)).toBe(true);

      await table.deleteRule(podKey, 1001, 'tcp');
      expect(table.entries()).toEqual([]);
      expect(reserver.dump()).toBe('');

      const deletesBefore = rules.calls.delete;
      await table.deleteRule(podKey, 1001, 'tcp');
      expect(rules.calls.delete).toBe(deletesBefore);
    });
  }
});

describe('TestAddRule', () => {
  const podPort = 1001;
  const protocol: Protocol = 'tcp';
  for (const family of FAMILIES) {
    const podIP = podIPOf(family);

    it(`${family}/success: first port is the range start and its socket stays open`, async () => {
      const { reserver, rules, table } = setup(family);
      const entry = await table.addRule(podKey, podIP, podPort, protocol);
      expect(entry).toEqual({ family, protocol, nodePort: startPort, podIP, podPort, podKey, services: [], defunct: false });
      expect(reserver.isHeld(startPort, protocol, family)).toBe(true);
      expect(table.entries()).toHaveLength(1);
      expect(rules.mappings()).toEqual([{ family, protocol, nodePort: startPort, podIP, podPort }]);
    });

    it(`${family}/iptables error closes socket: the port is released and the table stays empty`, async () => {
      const { reserver, rules, table } = setup(family);
      rules.failNext('add', 1, new Error('iptables error'));
      const err = await expectNplError(table.addRule(podKey, podIP, podPort, protocol), 'NPL_DATAPLANE_FAILED', 'iptables error');
      expect(err.cause).toEqual(new Error('iptables error'));
      expect(reserver.dump()).toBe('');
      expect(table.entries()).toEqual([]);
    });

    it(`${family}/iptables error with socket close error: the rules error is reported, the close error attached`, async () => {
      const { reserver, rules, table } = setup(family);
      rules.failNext('add', 1, new Error('iptables error'));
      reserver.failNextReleases(1, new Error('socket close error'));
      const err = await expectNplError(table.addRule(podKey, podIP, podPort, protocol), 'NPL_DATAPLANE_FAILED', 'iptables error');
      expect(err.message).toContain('socket close error');
      expect(err.cause).toEqual(new Error('iptables error'));
      expect(table.entries()).toEqual([]);
    });

    it(`${family}/duplicate entry: rejected without binding or touching the dataplane`, async () => {
      const { reserver, rules, table } = setup(family);
      await table.addRule(podKey, podIP, podPort, protocol);
      const attempts = reserver.attempts.length;
      await expectNplError(
        table.addRule(podKey, podIP, podPort, protocol),
        'NPL_DUPLICATE_ENTRY',
        `existing nodeport entry for ${podIP}:${podPort}:${protocol}`,
      );
      expect(reserver.attempts).toHaveLength(attempts);
      expect(rules.calls.add).toBe(1);
    });
  }

  it('reports exhaustion naming the family, protocol and range', async () => {
    const { table } = setup('IPv6', { start: 100, end: 101 });
    await table.addRule('ns/a', 'fd00::1', 80, 'udp');
    await table.addRule('ns/b', 'fd00::2', 80, 'udp');
    await expectNplError(table.addRule('ns/c', 'fd00::3', 80, 'udp'), 'NPL_PORT_EXHAUSTED', 'no free port found: every IPv6 udp node port in 100-101');
  });

  it('rejects a range whose start is not below its end', () => {
    expect(() => setup('IPv4', { start: 100, end: 100 })).toThrow('start port must be smaller than end port');
  });
});

describe('TestNodePortAlreadyBoundTo', () => {
  it('skips a port another process holds: 61000 busy ⇒ 61001', async () => {
    const { reserver, table } = setup();
    reserver.makeUnavailable(61000, 'tcp');
    const entry = await table.addRule(podKey, '192.168.32.10', 80, 'tcp');
    expect(entry.nodePort).toBe(61001);
    expect(reserver.attempts).toEqual(['IPv4 tcp 61000', 'IPv4 tcp 61001']);
  });
});

describe('TestMultipleProtocols', () => {
  it('allocates sequentially from one pointer shared by tcp and udp: the next port follows the last allocated', async () => {
    const { table } = setup();
    const pod1tcp = await table.addRule('default/pod1', '192.168.32.10', 80, 'tcp');
    const pod2udp = await table.addRule('default/pod2', '192.168.32.11', 80, 'udp');
    expect(pod1tcp.nodePort).toBe(61000);
    expect(pod2udp.nodePort).toBe(61001);
    const pod2tcp = await table.addRule('default/pod2', '192.168.32.11', 80, 'tcp');
    expect(pod2tcp.nodePort).toBe(Math.max(pod1tcp.nodePort, pod2udp.nodePort) + 1);
  });

  it('wraps the search pointer to the range start and reuses freed ports', async () => {
    const { table } = setup('IPv4', { start: 100, end: 102 });
    for (const p of [1, 2, 3]) await table.addRule('ns/a', '10.0.0.1', p, 'tcp');
    await table.deleteRule('ns/a', 2, 'tcp');
    const next = await table.addRule('ns/b', '10.0.0.2', 1, 'tcp');
    expect(next.nodePort).toBe(101);
  });
});

describe('TestPreventDefunctRuleReuse', () => {
  it('a defunct entry keeps its port and blocks its endpoint until it is deleted again', async () => {
    const { rules, table } = setup();
    await table.addRule(podKey, '192.168.32.10', 80, 'tcp');
    await table.addRule(podKey, '192.168.32.10', 90, 'tcp');
    rules.failNext('delete', 1);
    await expect(table.deleteRule(podKey, 90, 'tcp')).rejects.toThrow();
    expect(table.getEntry(podKey, 90, 'tcp')).toMatchObject({ nodePort: 61001, defunct: true });

    await expectNplError(table.addRule(podKey, '192.168.32.10', 90, 'tcp'), 'NPL_DUPLICATE_ENTRY', 'existing nodeport entry');
    const other = await table.addRule('default/other', '192.168.32.11', 90, 'tcp');
    expect(other.nodePort).toBe(61002);

    await table.deleteRule(podKey, 90, 'tcp');
    const readded = await table.addRule(podKey, '192.168.32.10', 90, 'tcp');
    expect(readded.defunct).toBe(false);
    expect(readded.nodePort).toBe(61003);
    expect(rules.dump()).toBe(
      'IPv4 tcp 61000 -> 192.168.32.10:80\nIPv4 tcp 61002 -> 192.168.32.11:90\nIPv4 tcp 61003 -> 192.168.32.10:90\n',
    );
  });
});

describe('TestGetServiceForNPLPort', () => {
  it('looks up by node port with a case-insensitive protocol; "" without Service, for another protocol or an unknown port', async () => {
    const { table } = setup();
    await table.addRule(podKey, '10.0.0.1', 80, 'tcp', ['default/test-svc']);
    await table.addRule('default/no-svc', '10.0.0.2', 80, 'tcp');
    expect(table.serviceForNodePort(61000, 'tcp')).toBe('default/test-svc');
    expect(table.serviceForNodePort(61000, 'TCP')).toBe('default/test-svc');
    expect(table.serviceForNodePort(61001, 'tcp')).toBe('');
    expect(table.serviceForNodePort(61000, 'udp')).toBe('');
    expect(table.serviceForNodePort(62000, 'tcp')).toBe('');
  });
});

describe('TestGetServiceForNPLPortMultipleServices', () => {
  it('joins every owning Service, sorted, with "|"', async () => {
    const { table } = setup();
    await table.addRule(podKey, '10.0.0.1', 80, 'tcp', ['myns2/mysvc2', 'myns1/mysvc1', 'myns2/mysvc2']);
    expect(table.serviceForNodePort(61000, 'tcp')).toBe('myns1/mysvc1|myns2/mysvc2');
  });
});

describe('TestSetServiceForPodPort', () => {
  it('backfills the Services of a known entry and ignores an unknown one', async () => {
    const { table } = setup();
    await table.restore([{ podKey, nodePort: 61000, podPort: 80, podIP: '10.0.0.1', protocol: 'tcp' }]);
    expect(table.serviceForNodePort(61000, 'tcp')).toBe('');
    table.setServices(podKey, 80, 'tcp', ['default/z-svc', 'default/test-svc']);
    expect(table.serviceForNodePort(61000, 'tcp')).toBe('default/test-svc|default/z-svc');
    table.setServices(podKey, 81, 'tcp', ['default/other']);
    expect(table.entries()).toHaveLength(1);
    expect(table.getEntry(podKey, 81, 'tcp')).toBeUndefined();
  });
});

describe('deleteAllForPod', () => {
  it('removes every entry of the pod except those kept, leaving other pods alone', async () => {
    const { rules, table } = setup();
    await table.addRule(podKey, '10.0.0.1', 80, 'tcp');
    await table.addRule(podKey, '10.0.0.1', 80, 'udp');
    await table.addRule(podKey, '10.0.0.1', 90, 'tcp');
    await table.addRule('default/other', '10.0.0.2', 80, 'tcp');
    const removed = await table.deleteAllForPod(podKey, (e) => e.podPort === 80 && e.protocol === 'udp');
    expect(removed.map((e) => `${e.podPort}/${e.protocol}`)).toEqual(['80/tcp', '90/tcp']);
    expect(table.entriesForPod(podKey).map((e) => `${e.podPort}/${e.protocol}`)).toEqual(['80/udp']);
    expect(rules.dump()).toBe('IPv4 tcp 61003 -> 10.0.0.2:80\nIPv4 udp 61001 -> 10.0.0.1:80\n');
  });

  it('attempts every entry and throws the first error, leaving failed ones defunct', async () => {
    const { rules, table } = setup();
    await table.addRule(podKey, '10.0.0.1', 80, 'tcp');
    await table.addRule(podKey, '10.0.0.1', 90, 'tcp');
    rules.failNext('delete', 1);
    await expect(table.deleteAllForPod(podKey)).rejects.toThrow('delete error');
    expect(table.entriesForPod(podKey).map((e) => [e.podPort, e.defunct])).toEqual([[80, true]]);
    expect(await table.deleteAllForPod(podKey)).toHaveLength(1);
    expect(table.entries()).toEqual([]);
  });
});

describe('entry lookups', () => {
  it('finds entries by node port and lists them sorted', async () => {
    const { table } = setup();
    await table.addRule('ns/b', '10.0.0.2', 80, 'udp');
    await table.addRule('ns/a', '10.0.0.1', 80, 'tcp');
    expect(table.entryForNodePort(61001, 'tcp')?.podKey).toBe('ns/a');
    expect(table.entryForNodePort(61001, 'udp')).toBeUndefined();
    expect(table.entries().map((e) => e.nodePort)).toEqual([61000, 61001]);
  });
});

type Op =
  | { kind: 'add'; pod: number; podPort: number; protocol: Protocol }
  | { kind: 'delete'; pod: number; podPort: number; protocol: Protocol; fail: boolean }
  | { kind: 'block'; port: number; protocol: Protocol };

const protocolArb = fc.constantFrom<Protocol>('tcp', 'udp');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), pod: fc.nat(3), podPort: fc.nat(4), protocol: protocolArb }),
  fc.record({ kind: fc.constant('delete' as const), pod: fc.nat(3), podPort: fc.nat(4), protocol: protocolArb, fail: fc.boolean() }),
  fc.record({ kind: fc.constant('block' as const), port: fc.integer({ min: 100, max: 109 }), protocol: protocolArb }),
);

async function applyOp(t: ReturnType<typeof setup>, op: Op): Promise<void> {
  if (op.kind === 'block') return t.reserver.makeUnavailable(op.port, op.protocol);
  if (op.kind === 'delete') {
    if (op.fail) t.rules.failNext('delete', 1);
    await t.table.deleteRule(`ns/p${op.pod}`, op.podPort, op.protocol).catch(() => undefined);
    return;
  }
  const taken = new Set(t.table.entries().filter((e) => e.protocol === op.protocol).map((e) => e.nodePort));
  const duplicate = t.table.getEntry(`ns/p${op.pod}`, op.podPort, op.protocol) !== undefined;
  try {
    const e = await t.table.addRule(`ns/p${op.pod}`, `10.0.0.${op.pod + 1}`, op.podPort, op.protocol);
    expect(duplicate).toBe(false);
    expect(e.nodePort).toBeGreaterThanOrEqual(100);
    expect(e.nodePort).toBeLessThanOrEqual(109);
    expect(taken.has(e.nodePort)).toBe(false);
  } catch (err) {
    if (isNplError(err, 'NPL_DUPLICATE_ENTRY')) return expect(duplicate).toBe(true);
    expect(isNplError(err, 'NPL_PORT_EXHAUSTED')).toBe(true);
    const free = Array.from({ length: 10 }, (_, i) => 100 + i).filter(
      (p) => !taken.has(p) && t.reserver.canReserve(p, op.protocol, 'IPv4'),
    );
    expect(free).toEqual([]);
  }
}

describe('port allocation properties (10-port range)', () => {
  it('never maps one port twice per protocol, stays in range, exhausts exactly when every port is taken, never reuses defunct ports', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), async (ops) => {
        const t = setup('IPv4', { start: 100, end: 109 });
        for (const op of ops) {
          await applyOp(t, op);
          const entries = t.table.entries();
          for (const protocol of ['tcp', 'udp'] as const) {
            const ports = entries.filter((e) => e.protocol === protocol).map((e) => e.nodePort);
            expect(new Set(ports).size).toBe(ports.length);
          }
          for (const e of entries) expect(t.reserver.isHeld(e.nodePort, e.protocol, 'IPv4')).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('concurrent allocations (Promise.all) never collide and fill the range exactly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(protocolArb, { minLength: 1, maxLength: 25 }), async (protocols) => {
        const t = setup('IPv6', { start: 100, end: 109 });
        const results = await Promise.allSettled(
          protocols.map((protocol, i) => t.table.addRule(`ns/p${i}`, `fd00::${i + 1}`, 80, protocol)),
        );
        for (const protocol of ['tcp', 'udp'] as const) {
          const asked = protocols.filter((p) => p === protocol).length;
          const got = t.table.entries().filter((e) => e.protocol === protocol).map((e) => e.nodePort);
          expect(got.length).toBe(Math.min(asked, 10));
          expect(new Set(got).size).toBe(got.length);
        }
        const rejected = results.filter((r) => r.status === 'rejected');
        for (const r of rejected) expect(isNplError(r.reason, 'NPL_PORT_EXHAUSTED')).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('PortTable.withActiveMappings', () => {
  it('hands the non-defunct mappings to fn and holds off mutations until it settles', async () => {
    const reserver = new FakePortReserver();
    const rules = new FakeMappingRules('IPv4');
    const t = new PortTable({ family: 'IPv4', range: { start: 61000, end: 61010 }, reserver, rules });
    await t.addRule('ns/a', '192.0.2.1', 80, 'tcp');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: number[][] = [];
    const check = t.withActiveMappings(async (active) => {
      seen.push(active.map((m) => m.nodePort));
      await gate;
      return active.length;
    });
    const add = t.addRule('ns/b', '192.0.2.2', 80, 'tcp');
    await Promise.resolve();
    expect(t.entries().map((e) => e.podKey)).toEqual(['ns/a']);
    release();
    expect(await check).toBe(1);
    await add;
    expect(seen).toEqual([[61000]]);
    expect(t.entries().map((e) => e.podKey)).toEqual(['ns/a', 'ns/b']);
  });
});

describe('PortTable.withActiveMappings unsettled', () => {
  it('reports installs in flight and defunct entries apart from the settled mappings', async () => {
    let release!: () => void;
    let hold = false;
    class HeldRules extends FakeMappingRules {
      override async add(m: Parameters<FakeMappingRules['add']>[0]): Promise<void> {
        if (hold) await new Promise<void>((r) => (release = r));
        return super.add(m);
      }
      override async delete(m: Parameters<FakeMappingRules['delete']>[0]): Promise<void> {
        if (hold) await new Promise<void>((r) => (release = r));
        return super.delete(m);
      }
    }
    const t = new PortTable({ family: 'IPv4', range: { start: 61000, end: 61010 }, reserver: new FakePortReserver(), rules: new HeldRules('IPv4') });
    await t.addRule('ns/a', '192.0.2.1', 80, 'tcp');
    await t.addRule('ns/b', '192.0.2.2', 80, 'tcp');
    hold = true;
    const adding = t.addRule('ns/c', '192.0.2.3', 80, 'tcp');
    const view = () => t.withActiveMappings((active, u) => Promise.resolve([active, u.installing, u.defunct].map((ms) => ms.map((m) => m.nodePort))));
    expect(await view()).toEqual([[61000, 61001], [61002], []]);
    release();
    await adding;
    const deleting = t.deleteRule('ns/a', 80, 'tcp');
    expect(await view()).toEqual([[61001, 61002], [], [61000]]);
    release();
    await deleting;
    expect(await view()).toEqual([[61001, 61002], [], []]);
  });
});

describe('PortTable locking', () => {
  it('installs rules outside the table lock, so concurrent adds reach the dataplane together (group commit)', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    class GatedRules extends FakeMappingRules {
      override async add(m: Parameters<FakeMappingRules['add']>[0]): Promise<void> {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await gate;
        inFlight--;
        return super.add(m);
      }
    }
    const rules = new GatedRules('IPv4');
    const t = new PortTable({ family: 'IPv4', range: { start: 61000, end: 61010 }, reserver: new FakePortReserver(), rules });
    const adds = ['a', 'b', 'c'].map((p) => t.addRule(`ns/${p}`, '192.0.2.1', 80, 'tcp'));
    await new Promise((r) => setImmediate(r));
    expect(maxInFlight).toBe(3);
    expect(t.entries().map((e) => e.nodePort)).toEqual([61000, 61001, 61002]);
    release();
    await Promise.all(adds);
    expect(rules.mappings().map((m) => m.nodePort)).toEqual([61000, 61001, 61002]);
  });

  it('drops the entry and frees its port when the rule cannot be installed, even while other adds run', async () => {
    const rules = new FakeMappingRules('IPv4');
    const reserver = new FakePortReserver();
    const t = new PortTable({ family: 'IPv4', range: { start: 61000, end: 61010 }, reserver, rules });
    rules.failNext('add', 1);
    const [bad, good] = await Promise.allSettled([t.addRule('ns/bad', '192.0.2.1', 80, 'tcp'), t.addRule('ns/good', '192.0.2.2', 80, 'tcp')]);
    expect(bad.status).toBe('rejected');
    expect(good.status).toBe('fulfilled');
    expect(t.entries().map((e) => e.podKey)).toEqual(['ns/good']);
    expect(reserver.isHeld(61000, 'tcp', 'IPv4')).toBe(false);
  });
});

describe('port hints (a Pod that lost its IP gets its node port back)', () => {
  function hinted(range = { start: startPort, end: startPort + 3 }) {
    let now = 1_000;
    const reserver = new FakePortReserver();
    const rules = new FakeMappingRules('IPv4');
    const table = new PortTable({ family: 'IPv4', range, reserver, rules, now: () => now });
    return { table, reserver, advance: (ms: number) => (now += ms) };
  }

  it('gives the hinted endpoint its old port, once; other endpoints skip it while another port is free', async () => {
    const { table } = hinted();
    table.hintPort(podKey, 80, 'tcp', startPort + 2);
    expect((await table.addRule('default/other', '10.0.0.2', 80, 'tcp')).nodePort).toBe(startPort);
    expect((await table.addRule('default/other', '10.0.0.2', 81, 'tcp')).nodePort).toBe(startPort + 1);
    expect((await table.addRule('default/other', '10.0.0.2', 82, 'tcp')).nodePort).toBe(startPort + 3);
    expect((await table.addRule(podKey, '10.0.0.1', 80, 'tcp')).nodePort).toBe(startPort + 2);
    await table.deleteRule(podKey, 80, 'tcp');
    // Consumed: a second add is an ordinary allocation.
    expect((await table.addRule(podKey, '10.0.0.1', 80, 'tcp')).nodePort).toBe(startPort + 2);
  });

  it('is only a preference: another endpoint takes the hinted port when nothing else is free, and the hinted one then gets another', async () => {
    const { table } = hinted({ start: startPort, end: startPort + 1 });
    table.hintPort(podKey, 80, 'tcp', startPort + 1);
    expect((await table.addRule('default/a', '10.0.0.2', 80, 'tcp')).nodePort).toBe(startPort);
    expect((await table.addRule('default/b', '10.0.0.3', 80, 'tcp')).nodePort).toBe(startPort + 1);
    await table.deleteRule('default/a', 80, 'tcp');
    expect((await table.addRule(podKey, '10.0.0.1', 80, 'tcp')).nodePort).toBe(startPort);
  });

  it('is per protocol and family-table, ignores ports outside the range, and expires after PORT_HINT_TTL_MS', async () => {
    const { table, advance } = hinted();
    table.hintPort(podKey, 80, 'tcp', startPort + 2);
    table.hintPort(podKey, 81, 'tcp', 30000);
    // udp does not see tcp's hint.
    expect((await table.addRule('default/other', '10.0.0.2', 80, 'udp')).nodePort).toBe(startPort);
    expect((await table.addRule(podKey, '10.0.0.1', 81, 'tcp')).nodePort).toBe(startPort + 1);
    advance(PORT_HINT_TTL_MS);
    // Expired: no longer skipped by others, no longer preferred.
    expect((await table.addRule('default/other', '10.0.0.2', 81, 'tcp')).nodePort).toBe(startPort + 2);
    expect((await table.addRule(podKey, '10.0.0.1', 80, 'tcp')).nodePort).toBe(startPort + 3);
  });

  it('a hinted port that cannot be bound (taken outside the agent) falls back to a free one', async () => {
    const { table, reserver } = hinted();
    reserver.makeUnavailable(startPort + 2, 'tcp');
    table.hintPort(podKey, 80, 'tcp', startPort + 2);
    expect((await table.addRule(podKey, '10.0.0.1', 80, 'tcp')).nodePort).toBe(startPort);
  });
});
