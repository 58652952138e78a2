/**
 * Every transition of the README's health table, with an injected clock: /readyz and /healthz are
 * computed from state when probed (nothing latches). Fakes: the informer's failure streak, the work
 * queue, the drift loop's lateness and an in-memory dataplane.
 */
import { describe, expect, it } from '@jest/globals';
import type { DnatMapping } from '@npl/core';
import type { HealthCheck } from '@npl/runtime';
import { FailureStreak, FakeClock, WorkQueue } from '@npl/runtime';
import type { AgentHealthInputs, HealthLimits } from './health.js';
import { DataplaneHealth, livenessChecks, readinessChecks, TrackedDataplane } from './health.js';
import { FakeDataplane } from './testing/index.js';

const LIMITS: HealthLimits = { unreadyAfterMs: 60_000, stallMs: 120_000 };

class FakeInformerState {
  synced = false;
  readonly failures: FailureStreak;
  constructor(clock: FakeClock) {
    this.failures = new FailureStreak(clock);
  }
  hasSynced(): boolean {
    return this.synced;
  }
}

function world() {
  const clock = new FakeClock();
  const queue = new WorkQueue<string>({ clock });
  const informers = [new FakeInformerState(clock), new FakeInformerState(clock), new FakeInformerState(clock)];
  const dataplane = new DataplaneHealth(clock, () => queue.failingKeys());
  const state = { started: false, workersStartedAt: undefined as number | undefined, overdue: 0 };
  const inputs: AgentHealthInputs = {
    clock,
    limits: LIMITS,
    informers,
    informerNames: ['pods', 'services', 'node'],
    started: () => state.started,
    dataplane,
    queue,
    workersStartedAt: () => state.workersStartedAt,
    verifyOverdueMs: () => state.overdue,
  };
  const ready = readinessChecks(inputs);
  const live = livenessChecks(inputs);
  return { clock, queue, informers, dataplane, state, ready, live };
}

/** The failing checks as `name: reason`, [] when the endpoint answers 200. */
function failures(checks: readonly HealthCheck[]): string[] {
  return checks.flatMap((c) => {
    const reason = c.check();
    return reason === undefined ? [] : [`${c.name}: ${reason}`];
  });
}

function started(w: ReturnType<typeof world>): void {
  for (const i of w.informers) i.synced = true;
  w.state.started = true;
  w.state.workersStartedAt = w.clock.now();
}

const M: DnatMapping = { family: 'IPv4', nodePort: 61000, podIP: '198.18.1.5', podPort: 8080, protocol: 'tcp' };

describe('agent readiness (/readyz)', () => {
  it('is not ready until caches synced and start-up done, then ready', () => {
    const w = world();
    expect(failures(w.ready)).toEqual([
      'informers: caches not synced yet',
      'startup: start-up (node IPs, restore, first dataplane sync, workers) not done yet',
    ]);
    for (const i of w.informers) i.synced = true;
    expect(failures(w.ready)).toEqual(['startup: start-up (node IPs, restore, first dataplane sync, workers) not done yet']);
    w.state.started = true;
    expect(failures(w.ready)).toEqual([]);
  });

  it('drops when a watch cannot be re-established for the limit, and comes back at the first successful list', async () => {
    const w = world();
    started(w);
    w.informers[0]!.failures.fail(new Error('connect ECONNREFUSED 198.18.0.1:6443'));
    await w.clock.advance(59_000);
    expect(failures(w.ready)).toEqual([]);
    await w.clock.advance(1_000);
    expect(failures(w.ready)).toEqual(['pods-watch: pods list/watch failing for 60 s (limit 60 s): connect ECONNREFUSED 198.18.0.1:6443']);
    w.informers[2]!.failures.fail(new Error('HTTP 503'));
    await w.clock.advance(60_000);
    expect(failures(w.ready)).toHaveLength(2);
    w.informers[0]!.failures.succeed();
    w.informers[2]!.failures.succeed();
    expect(failures(w.ready)).toEqual([]);
  });

  it('drops when dataplane writes keep failing for the limit; one successful write brings it back', async () => {
    const w = world();
    started(w);
    const fake = new FakeDataplane('IPv4');
    const dp = new TrackedDataplane(fake, w.dataplane);
    fake.failNext('add', 100, new Error('nft: Could not process rule: No such file or directory'));
    await expect(dp.add(M)).rejects.toThrow('nft');
    await w.clock.advance(30_000);
    await expect(dp.add(M)).rejects.toThrow('nft');
    await w.clock.advance(29_999);
    expect(failures(w.ready)).toEqual([]);
    await w.clock.advance(1);
    expect(failures(w.ready)).toEqual(['dataplane: dataplane operations failing for 60 s (limit 60 s): nft: Could not process rule: No such file or directory']);
    fake.failNext('add', 0);
    await dp.add(M);
    expect(failures(w.ready)).toEqual([]);
    expect(fake.mappings()).toEqual([M]);
  });

  it('a clean check ends the streak only while no Pod reconcile is failing; a failed check counts as a failure', async () => {
    const w = world();
    started(w);
    const fake = new FakeDataplane('IPv4');
    const dp = new TrackedDataplane(fake, w.dataplane);
    fake.failNext('delete', 1);
    await expect(dp.delete(M)).rejects.toThrow('delete error');
    w.queue.addRateLimited('default/web-1');
    await w.clock.advance(61_000);
    expect((await dp.verify([])).inSync).toBe(true);
    expect(failures(w.ready)).toEqual(['dataplane: dataplane operations failing for 61 s (limit 60 s): delete error']);
    w.queue.forget('default/web-1');
    await dp.verify([]);
    expect(failures(w.ready)).toEqual([]);

    fake.verify = () => Promise.reject(new Error('nft list table: Operation not permitted'));
    await expect(dp.verify([])).rejects.toThrow('Operation not permitted');
    await w.clock.advance(60_000);
    expect(failures(w.ready)).toEqual(['dataplane: dataplane operations failing for 60 s (limit 60 s): nft list table: Operation not permitted']);
    await dp.repair([]);
    expect(failures(w.ready)).toEqual([]);
  });

  it('a check that finds drift does not end the streak; the repair that follows does', async () => {
    const w = world();
    started(w);
    const fake = new FakeDataplane('IPv4');
    const dp = new TrackedDataplane(fake, w.dataplane);
    fake.failNext('replaceAll', 1);
    await expect(dp.replaceAll([M])).rejects.toThrow();
    await w.clock.advance(60_000);
    const drift = await dp.verify([M]);
    expect(drift.inSync).toBe(false);
    expect(failures(w.ready)).toHaveLength(1);
    await dp.repair([M]);
    expect(failures(w.ready)).toEqual([]);
  });
});

describe('TrackedDataplane for GET /mappings', () => {
  it('inFlight names the mappings a write is changing, until it ends (success or failure)', async () => {
    const w = world();
    const fake = new FakeDataplane('IPv4');
    const dp = new TrackedDataplane(fake, w.dataplane);
    let release: () => void = () => undefined;
    const add = fake.add.bind(fake);
    fake.add = async (m) => {
      await new Promise<void>((r) => (release = r));
      await add(m);
    };
    const adding = dp.add(M);
    expect([...dp.inFlight()]).toEqual(['IPv4/tcp/61000/198.18.1.5/8080']);
    release();
    await adding;
    expect([...dp.inFlight()]).toEqual([]);
    fake.failNext('replaceAll', 1);
    await expect(dp.replaceAll([M])).rejects.toThrow();
    expect([...dp.inFlight()]).toEqual([]);
  });

  it('inspect reads like verify but is not a drift check: it never ends or starts a failure streak', async () => {
    const w = world();
    started(w);
    const fake = new FakeDataplane('IPv4');
    const dp = new TrackedDataplane(fake, w.dataplane);
    fake.failNext('add', 1);
    await expect(dp.add(M)).rejects.toThrow();
    await w.clock.advance(60_000);
    expect((await dp.inspect([])).inSync).toBe(true);
    expect(failures(w.ready)).toHaveLength(1);
    fake.verify = () => Promise.reject(new Error('nft list table: Operation not permitted'));
    await expect(dp.inspect([])).rejects.toThrow('Operation not permitted');
    await dp.repair([]);
    await expect(dp.inspect([])).rejects.toThrow();
    await w.clock.advance(60_000);
    expect(failures(w.ready)).toEqual([]);
  });
});

describe('agent liveness (/healthz)', () => {
  it('passes before the workers start however long keys wait (start-up sync retrying)', async () => {
    const w = world();
    w.queue.add('default/web-1');
    await w.clock.advance(600_000);
    expect(failures(w.live)).toEqual([]);
  });

  it('fails when workers have work and finish nothing for the limit, passes again once a key is done', async () => {
    const w = world();
    started(w);
    await w.clock.advance(300_000);
    expect(failures(w.live)).toEqual([]);
    w.queue.add('default/web-1');
    w.queue.add('default/web-2');
    const key = await w.queue.get();
    await w.clock.advance(119_999);
    expect(failures(w.live)).toEqual([]);
    await w.clock.advance(1);
    expect(failures(w.live)).toEqual(['workers: no Pod reconcile finished for 120 s while 1 wait (limit 120 s)']);
    w.queue.done(key!);
    expect(failures(w.live)).toEqual([]);
  });

  it('counts from the workers start when keys were queued before it', async () => {
    const w = world();
    w.queue.add('default/web-1');
    await w.clock.advance(500_000);
    started(w);
    await w.clock.advance(119_000);
    expect(failures(w.live)).toEqual([]);
    await w.clock.advance(1_000);
    expect(failures(w.live)).toEqual(['workers: no Pod reconcile finished for 120 s while 1 wait (limit 120 s)']);
  });

  it('fails when the drift-repair loop is overdue by the limit, passes when it catches up', () => {
    const w = world();
    started(w);
    w.state.overdue = 119_000;
    expect(failures(w.live)).toEqual([]);
    w.state.overdue = 120_000;
    expect(failures(w.live)).toEqual(['drift-repair: no dataplane check finished for 120 s past its period (limit 120 s)']);
    w.state.overdue = 0;
    expect(failures(w.live)).toEqual([]);
  });

  it('has no drift-repair check with --verify-period 0', () => {
    const clock = new FakeClock();
    const queue = new WorkQueue<string>({ clock });
    const checks = livenessChecks({
      clock,
      limits: LIMITS,
      informers: [],
      informerNames: [],
      started: () => true,
      dataplane: new DataplaneHealth(clock, () => 0),
      queue,
      workersStartedAt: () => 0,
    });
    expect(checks.map((c) => c.name)).toEqual(['workers']);
  });
});
