import { describe, expect, it } from '@jest/globals';
import type { Clock } from './clock.js';
import { FakeClock } from './clock.js';
import { isRuntimeError } from './errors.js';
import { LeaderElector } from './leader-election.js';
import type { LeaderElectorOptions } from './leader-election.js';
import { createLogger } from './logger.js';
import { Registry } from './metrics.js';
import { FakeLeaseStore } from './testing/fake-lease.js';
import type { FakeLeaseClient } from './testing/fake-lease.js';

const logger = createLogger({ name: 'le-test', level: 'silent' });
const WALL = Date.parse('2026-12-01T12:00:00Z');

interface Candidate {
  readonly elector: LeaderElector;
  readonly client: FakeLeaseClient;
  readonly lost: Error[];
  readonly registry: Registry;
  acquired?: Promise<void>;
}

function candidate(store: FakeLeaseStore, clock: Clock, identity: string, extra: Partial<LeaderElectorOptions> = {}): Candidate {
  const client = store.client();
  const registry = new Registry();
  const elector = new LeaderElector({ lease: client, identity, logger, clock, wallClock: () => WALL + clock.now(), random: () => 0, registry, ...extra });
  return { elector, client, lost: [], registry };
}

function run(c: Candidate, signal = new AbortController().signal): Candidate {
  c.acquired = c.elector.acquire(signal, (err) => c.lost.push(err));
  c.acquired.catch(() => undefined);
  return c;
}

describe('LeaderElector on a fake Lease store', () => {
  it('the first candidate creates the Lease and leads; the other stays follower while it renews', async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock();
    const a = run(candidate(store, clock, 'a'));
    await a.acquired;
    expect(a.elector.isLeader()).toBe(true);
    expect(store.dump()).toBe('default/npl-leader holder=a duration=15s transitions=0 rv=1');
    expect(store.record()?.renewTime).toBe('2026-12-01T12:00:00.000Z');
    const b = run(candidate(store, clock, 'b'));
    await clock.advance(60_000);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.observedHolder()).toBe('a');
    expect(store.writes).toBe(1 + 30);
    expect(a.lost).toEqual([]);
    expect(a.registry.render()).toContain('npl_leader_election_is_leader{lease="default/npl-leader"} 1');
    expect(b.registry.render()).toContain('npl_leader_election_is_leader{lease="default/npl-leader"} 0');
    await a.elector.release();
    await b.elector.release();
  });

  it('release gives the Lease back at once (no holder, 1 s) and the follower takes it at its next retry', async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock();
    const a = run(candidate(store, clock, 'a'));
    await a.acquired;
    const b = run(candidate(store, clock, 'b'));
    await clock.advance(5_000);
    await a.elector.release();
    expect(store.dump()).toMatch(/holder=- duration=1s transitions=0/);
    expect(a.elector.isLeader()).toBe(false);
    expect(a.lost).toEqual([]);
    await clock.advance(2_000);
    await b.acquired;
    expect(store.dump()).toMatch(/holder=b duration=15s transitions=1/);
    expect(a.registry.render()).toContain('npl_leader_election_transitions_total{lease="default/npl-leader"} 2');
    await b.elector.release();
  });

  it('a leader that cannot renew gives up after renewDeadline; the follower takes over after leaseDuration', async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock();
    const a = run(candidate(store, clock, 'a'));
    await a.acquired;
    const b = run(candidate(store, clock, 'b'));
    for (const op of ['get', 'update'] as const) a.client.failNext(op, 100, 'hang');
    await clock.advance(9_999);
    expect(a.lost).toEqual([]);
    await clock.advance(1);
    expect(a.lost.map((e) => isRuntimeError(e, 'NPL_LEADERSHIP_LOST'))).toEqual([true]);
    expect(a.lost[0]!.message).toMatch(/not renewed for 10000 ms \(renew deadline 10000 ms\)/);
    expect(a.elector.isLeader()).toBe(false);
    // b observed a's last write at t=0 and retries every 2 s: it may take the Lease once 15 s passed.
    await clock.advance(15_000 - clock.now() - 1);
    expect(b.elector.isLeader()).toBe(false);
    await clock.advance(2_000);
    await b.acquired;
    expect(clock.now()).toBeLessThanOrEqual(15_000 + 2_000);
    expect(store.dump()).toMatch(/holder=b duration=15s transitions=1/);
    await a.elector.release();
    await b.elector.release();
  });

  it('a Lease taken by another holder is detected at the next renewal and leadership is lost at once', async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock();
    const a = run(candidate(store, clock, 'a'));
    await a.acquired;
    store.put({ holderIdentity: 'intruder', leaseDurationSeconds: 15, leaseTransitions: 1 });
    await clock.advance(2_000);
    expect(a.lost.map((e) => e.message)).toEqual(['leadership lost: Lease default/npl-leader is now held by intruder']);
    expect(a.elector.isLeader()).toBe(false);
    await a.elector.release();
    expect(store.record()?.holderIdentity).toBe('intruder');
  });

  it('two candidates racing for a missing Lease: one create wins, the other gets a conflict and follows', async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock();
    const a = run(candidate(store, clock, 'a'));
    const b = run(candidate(store, clock, 'b'));
    await clock.advance(10_000);
    expect([a.elector.isLeader(), b.elector.isLeader()].sort()).toEqual([false, true]);
    expect(store.record()?.leaseTransitions).toBe(0);
    await a.elector.release();
    await b.elector.release();
  });

  it('a stale resourceVersion loses the write race (409) and the writer stays follower', async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock();
    store.put({ holderIdentity: 'old', leaseDurationSeconds: 15, leaseTransitions: 3 });
    const client = store.client();
    const stale = await client.get();
    store.put({ holderIdentity: 'other', leaseDurationSeconds: 15, leaseTransitions: 4 });
    await expect(client.update({ holderIdentity: 'me', leaseDurationSeconds: 15, leaseTransitions: 4 }, stale!.resourceVersion)).rejects.toMatchObject({ code: 'NPL_LEASE_CONFLICT' });
    await expect(client.create({ holderIdentity: 'me', leaseDurationSeconds: 15, leaseTransitions: 0 })).rejects.toMatchObject({ code: 'NPL_LEASE_CONFLICT' });
    expect(clock.now()).toBe(0);
  });

  it('a restarted process with the same identity takes its own Lease back at once', async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock();
    store.put({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 2, acquireTime: '2026-12-01T11:00:00.000Z' });
    const a = run(candidate(store, clock, 'a'));
    await a.acquired;
    expect(store.record()).toMatchObject({ holderIdentity: 'a', leaseTransitions: 2, acquireTime: '2026-12-01T11:00:00.000Z' });
    await a.elector.release();
  });

  it('acquire aborted: rejects with the reason; release then writes nothing', async () => {
    const store = new FakeLeaseStore();
    const clock = new FakeClock();
    store.put({ holderIdentity: 'other', leaseDurationSeconds: 15, leaseTransitions: 0 });
    const abort = new AbortController();
    const b = run(candidate(store, clock, 'b'), abort.signal);
    await clock.advance(3_000);
    abort.abort(new Error('manager stopping'));
    await expect(b.acquired).rejects.toThrow('manager stopping');
    const writes = store.writes;
    await b.elector.release();
    expect(store.writes).toBe(writes);
  });
});

/** A clock whose time can jump without its timers running: a blocked event loop, as seen by /healthz. */
class StalledClock implements Clock {
  skew = 0;
  private readonly inner: FakeClock;
  constructor(inner: FakeClock) {
    this.inner = inner;
  }
  now(): number {
    return this.inner.now() + this.skew;
  }
  after(ms: number, fn: () => void) {
    return this.inner.after(ms, fn);
  }
  sleep(ms: number, signal?: AbortSignal) {
    return this.inner.sleep(ms, signal);
  }
}

describe('LeaderElector health check (client-go HealthzAdaptor)', () => {
  it('fails only while this process counts itself leader without a renewal for renewDeadline + tolerance', async () => {
    const store = new FakeLeaseStore();
    const fake = new FakeClock();
    const clock = new StalledClock(fake);
    const follower = candidate(store, clock, 'b').elector.healthCheck(5_000);
    expect(follower.check()).toBeUndefined();
    const a = run(candidate(store, clock, 'a'));
    await a.acquired;
    const check = a.elector.healthCheck(5_000);
    expect(check.name).toBe('leader-election');
    clock.skew = 15_000;
    expect(check.check()).toBeUndefined();
    clock.skew = 15_001;
    expect(check.check()).toBe('leader Lease default/npl-leader not renewed for 15001 ms (renew deadline 10000 ms + tolerance 5000 ms)');
    await a.elector.release();
    expect(check.check()).toBeUndefined();
  });
});

describe('LeaderElector options', () => {
  it.each([
    [{ identity: ' ' }, 'identity must not be empty'],
    [{ leaseDurationMs: 1_500 }, 'leaseDuration 1500 ms must be a whole number of seconds'],
    [{ leaseDurationMs: 10_000 }, 'leaseDuration 10000 ms must be greater than renewDeadline 10000 ms'],
    [{ renewDeadlineMs: 2_400 }, 'renewDeadline 2400 ms must be greater than 1.2 x retryPeriod 2000 ms'],
    [{ retryPeriodMs: 0 }, 'retryPeriod 0 ms must be > 0'],
  ])('refuses %j with NPL_LEADER_ELECTION_CONFIG_INVALID', (opts, message) => {
    let err: unknown;
    try {
      new LeaderElector({ lease: new FakeLeaseStore().client(), identity: 'a', logger, ...opts });
    } catch (e) {
      err = e;
    }
    expect(isRuntimeError(err, 'NPL_LEADER_ELECTION_CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain(message);
  });
});
