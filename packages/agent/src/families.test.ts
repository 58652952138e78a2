import { describe, expect, it } from '@jest/globals';
import type { IPFamily, PortTable as PortTableType } from '@npl/core';
import { PortTable } from '@npl/core';
import { FakePortReserver } from '@npl/core/testing';
import { createLogger, FakeClock } from '@npl/runtime';
import type { Dataplane } from './dataplane/types.js';
import type { FamilyParts } from './families.js';
import { DetachableRules, familyChanges, FamilySync } from './families.js';
import { FakeDataplane } from './testing/index.js';

describe('familyChanges: dataplanes follow the node IPs', () => {
  const cases: { name: string; have: IPFamily[]; ips: { IPv4?: string; IPv6?: string }; add: IPFamily[]; remove: IPFamily[] }[] = [
    { name: 'unchanged dual stack', have: ['IPv4', 'IPv6'], ips: { IPv4: '192.0.2.1', IPv6: '2001:db8::1' }, add: [], remove: [] },
    { name: 'gains IPv6', have: ['IPv4'], ips: { IPv4: '192.0.2.1', IPv6: '2001:db8::1' }, add: ['IPv6'], remove: [] },
    { name: 'loses IPv6', have: ['IPv4', 'IPv6'], ips: { IPv4: '192.0.2.1' }, add: [], remove: ['IPv6'] },
    { name: 'swaps family', have: ['IPv4'], ips: { IPv6: '2001:db8::1' }, add: ['IPv6'], remove: ['IPv4'] },
    { name: 'an empty address counts as none', have: ['IPv4', 'IPv6'], ips: { IPv4: '192.0.2.1', IPv6: '' }, add: [], remove: ['IPv6'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(familyChanges(c.have, c.ips)).toEqual({ add: c.add, remove: c.remove });
    });
  }
});

describe('DetachableRules', () => {
  it('writes through until detached; then delete and replaceAll do nothing and add fails naming the family', async () => {
    const dp = new FakeDataplane('IPv6');
    const rules = new DetachableRules(dp, 'IPv6');
    const m = { family: 'IPv6' as const, protocol: 'tcp' as const, nodePort: 61000, podIP: '2001:db8::5', podPort: 80 };
    await rules.add(m);
    expect(dp.mappings()).toHaveLength(1);
    rules.detach();
    await rules.delete(m);
    await rules.replaceAll([]);
    expect(dp.mappings()).toHaveLength(1);
    await expect(rules.add(m)).rejects.toMatchObject({ code: 'NPL_DATAPLANE_FAILED', message: expect.stringContaining('no IPv6 address any more') });
  });
});

describe('FamilySync', () => {
  function setup(ips: { IPv4?: string; IPv6?: string }) {
    const tables = new Map<IPFamily, PortTableType>();
    const dataplanes = new Map<IPFamily, Dataplane>();
    const made = new Map<IPFamily, FakeDataplane>();
    const reserver = new FakePortReserver();
    const counts: string[] = [];
    let enqueued = 0;
    let failCreate = 0;
    const state = { ips };
    const create = (family: IPFamily): Promise<FamilyParts> => {
      if (failCreate > 0) {
        failCreate--;
        return Promise.reject(new Error('nft: Operation not permitted'));
      }
      const dataplane = new FakeDataplane(family);
      made.set(family, dataplane);
      const rules = new DetachableRules(dataplane, family);
      return Promise.resolve({ dataplane, rules, table: new PortTable({ family, range: { start: 61000, end: 61010 }, reserver, rules }) });
    };
    const clock = new FakeClock();
    const sync = new FamilySync({
      tables,
      dataplanes,
      nodeIPs: () => state.ips,
      create,
      enqueueAll: () => void enqueued++,
      clock,
      logger: createLogger({ name: 't', level: 'silent' }),
      count: (family, op) => counts.push(`${op} ${family}`),
    });
    return { tables, dataplanes, made, reserver, counts, sync, state, clock, enqueued: () => enqueued, failCreates: (n: number) => (failCreate = n), create };
  }

  it('adds a gained family: dataplane emptied of leftovers, table registered, Pods queued', async () => {
    const w = setup({ IPv4: '192.0.2.1' });
    const v4 = await w.create('IPv4');
    w.tables.set('IPv4', v4.table);
    w.dataplanes.set('IPv4', v4.dataplane);
    w.sync.adopt('IPv4', v4);
    w.sync.start();
    await w.sync.idle();
    expect(w.counts).toEqual([]);
    w.state.ips = { IPv4: '192.0.2.1', IPv6: '2001:db8::1' };
    w.sync.trigger();
    await w.sync.idle();
    expect([...w.tables.keys()]).toEqual(['IPv4', 'IPv6']);
    expect(w.dataplanes.get('IPv6')).toBe(w.made.get('IPv6'));
    expect(w.made.get('IPv6')!.calls.replaceAll).toBe(1);
    expect(w.counts).toEqual(['add IPv6']);
    expect(w.enqueued()).toBe(1);
  });

  it('removes a lost family: table unregistered, dataplane torn down and closed, entries dropped and sockets released', async () => {
    const w = setup({ IPv4: '192.0.2.1', IPv6: '2001:db8::1' });
    for (const f of ['IPv4', 'IPv6'] as const) {
      const parts = await w.create(f);
      w.tables.set(f, parts.table);
      w.dataplanes.set(f, parts.dataplane);
      w.sync.adopt(f, parts);
    }
    const v6 = w.tables.get('IPv6')!;
    await v6.addRule('default/web', '2001:db8::5', 80, 'tcp');
    expect(w.reserver.isHeld(61000, 'tcp', 'IPv6')).toBe(true);
    w.sync.start();
    w.state.ips = { IPv4: '192.0.2.1' };
    w.sync.trigger();
    await w.sync.idle();
    expect([...w.tables.keys()]).toEqual(['IPv4']);
    expect([...w.dataplanes.keys()]).toEqual(['IPv4']);
    const dp = w.made.get('IPv6')!;
    expect(dp.tornDown).toBe(true);
    expect(dp.closed).toBe(true);
    expect(v6.entries()).toEqual([]);
    expect(w.reserver.isHeld(61000, 'tcp', 'IPv6')).toBe(false);
    expect(w.counts).toEqual(['remove IPv6']);
    await expect(v6.addRule('default/late', '2001:db8::6', 80, 'tcp')).rejects.toMatchObject({ code: 'NPL_DATAPLANE_FAILED' });
    expect(v6.entries()).toEqual([]);
  });

  it('a failed add is counted and retried with backoff until it succeeds', async () => {
    const w = setup({ IPv4: '192.0.2.1', IPv6: '2001:db8::1' });
    w.failCreates(2);
    w.sync.start();
    await w.sync.idle();
    expect(w.tables.size).toBe(0);
    for (let i = 0; i < 2; i++) {
      await w.clock.advance(10_000);
      await w.sync.idle();
    }
    expect([...w.tables.keys()]).toEqual(['IPv4', 'IPv6']);
    expect(w.counts).toEqual(['error IPv4', 'error IPv4', 'add IPv4', 'add IPv6']);
  });

  it('does nothing before start and after stop', async () => {
    const w = setup({ IPv4: '192.0.2.1' });
    w.sync.trigger();
    await w.sync.idle();
    expect(w.tables.size).toBe(0);
    w.sync.start();
    await w.sync.idle();
    expect(w.counts).toEqual(['add IPv4']);
    w.sync.stop();
    w.state.ips = { IPv4: '192.0.2.1', IPv6: '2001:db8::1' };
    w.sync.trigger();
    await w.sync.idle();
    expect(w.counts).toEqual(['add IPv4']);
  });
});
