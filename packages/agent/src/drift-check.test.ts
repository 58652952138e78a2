/**
 * The drift check (verifyOnce) against rule changes that workers make outside the table lock: a
 * rule already in the kernel whose install has not returned, or one still in the kernel while its
 * deletion runs, is not drift (no repair, no Event); real drift found meanwhile is repaired without
 * undoing the install in flight. Found by npl-api-outage.e2e: a check during a burst of adds
 * reported their rules "unexpected" and recorded a spurious NodePortLocalDriftRepaired.
 */
import { describe, expect, it } from '@jest/globals';
import type { DnatMapping, IPFamily } from '@npl/core';
import { PortTable } from '@npl/core';
import { FakePortReserver } from '@npl/core/testing';
import { createLogger } from '@npl/runtime';
import { settledDrift, verifyOnce } from './agent.js';
import { createAgentMetrics } from './metrics.js';
import { FakeDataplane, FakeEventRecorder } from './testing/index.js';

/** A dataplane whose held adds reach the kernel at once but return only on release; held deletes reach it only on release. */
class HeldDataplane extends FakeDataplane {
  private held: (() => void)[] = [];
  hold = false;

  override async add(m: DnatMapping): Promise<void> {
    await super.add(m);
    if (this.hold) await new Promise<void>((r) => this.held.push(r));
  }

  override async delete(m: DnatMapping): Promise<void> {
    if (this.hold) await new Promise<void>((r) => this.held.push(r));
    await super.delete(m);
  }

  waiting(): number {
    return this.held.length;
  }

  release(): void {
    const held = this.held;
    this.held = [];
    for (const r of held) r();
  }
}

function rig() {
  const dp = new HeldDataplane('IPv4');
  const table = new PortTable({ family: 'IPv4', range: { start: 61000, end: 61010 }, reserver: new FakePortReserver(), rules: dp });
  const events = new FakeEventRecorder();
  const metrics = createAgentMetrics();
  const deps = {
    tables: new Map<IPFamily, PortTable>([['IPv4', table]]),
    dataplanes: new Map<IPFamily, HeldDataplane>([['IPv4', dp]]),
    metrics, events, nodeName: 'node-0',
    logger: createLogger({ name: 't', level: 'silent' }),
  };
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  return { dp, table, events, deps, settle };
}

const ports = (ms: readonly DnatMapping[]): number[] => ms.map((m) => m.nodePort).sort((a, b) => a - b);

describe('verifyOnce with rule changes in flight', () => {
  it('a rule in the kernel whose install has not returned is no drift', async () => {
    const { dp, table, events, deps, settle } = rig();
    await table.addRule('ns/a', '198.18.1.1', 80, 'tcp');
    dp.hold = true;
    const adding = table.addRule('ns/b', '198.18.1.2', 80, 'tcp');
    await settle();
    expect(dp.waiting()).toBe(1);
    expect(ports(dp.mappings())).toEqual([61000, 61001]);
    expect(await verifyOnce(deps)).toBe(0);
    expect([dp.repairs, events.events.length]).toEqual([0, 0]);
    dp.release();
    await adding;
    expect(await verifyOnce(deps)).toBe(0);
  });

  it('a rule still in the kernel while its deletion runs is no drift', async () => {
    const { dp, table, events, deps, settle } = rig();
    await table.addRule('ns/a', '198.18.1.1', 80, 'tcp');
    await table.addRule('ns/b', '198.18.1.2', 80, 'tcp');
    dp.hold = true;
    const deleting = table.deleteRule('ns/b', 80, 'tcp');
    await settle();
    expect(dp.waiting()).toBe(1);
    expect(await verifyOnce(deps)).toBe(0);
    expect([dp.repairs, events.events.length]).toEqual([0, 0]);
    dp.release();
    await deleting;
    expect(ports(dp.mappings())).toEqual([61000]);
    expect(await verifyOnce(deps)).toBe(0);
  });

  it('real drift found meanwhile is repaired, keeping the install in flight', async () => {
    const { dp, table, events, deps, settle } = rig();
    await table.addRule('ns/a', '198.18.1.1', 80, 'tcp');
    dp.hold = true;
    const adding = table.addRule('ns/b', '198.18.1.2', 80, 'tcp');
    await settle();
    await dp.tamper(61000, 'tcp');
    expect(await verifyOnce(deps)).toBe(1);
    expect(events.events.map((e) => `${e.object} ${e.reason} ${e.message}`)).toEqual([
      'Node/node-0 NodePortLocalDriftRepaired IPv4 NodePortLocal rules differed from the mappings (1 missing, 0 unexpected); repaired',
    ]);
    expect(ports(dp.mappings())).toEqual([61000, 61001]);
    dp.release();
    await adding;
    expect(await verifyOnce(deps)).toBe(0);
    expect(ports(dp.mappings())).toEqual([61000, 61001]);
  });
});

describe('settledDrift', () => {
  const m = (nodePort: number): DnatMapping => ({ family: 'IPv4', protocol: 'udp', nodePort, podIP: '198.18.1.9', podPort: 53 });
  const drift = { missing: [m(61002)], unexpected: [m(61000), m(61001)], tableMissing: false, staticDrift: false, staticProblems: [], inSync: false };

  it('drops the node ports being changed, keeps the rest, and recomputes inSync', () => {
    expect(settledDrift(drift, { installing: [m(61000)], defunct: [m(61001)] })).toEqual({ ...drift, unexpected: [], inSync: false });
    expect(settledDrift({ ...drift, missing: [] }, { installing: [m(61000)], defunct: [m(61001)] }).inSync).toBe(true);
    expect(settledDrift(drift, { installing: [], defunct: [] })).toBe(drift);
  });

  it('a changed node port of the other protocol still counts', () => {
    expect(settledDrift(drift, { installing: [{ ...m(61000), protocol: 'tcp' }], defunct: [] }).unexpected).toHaveLength(2);
  });
});
