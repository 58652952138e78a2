import { afterEach, describe, expect, it } from '@jest/globals';
import { FakeClock } from '@npl/runtime';
import type { ErrorClass } from './bigip/classify.js';
import { SyncEngine } from './engine.js';
import { createControllerMetrics } from './metrics.js';
import type { DesiredState } from './model.js';
import { FakeBackend } from './testing/fake-backend.js';
import { desiredPool as pool, desiredState } from './testing/states.js';

let engine: SyncEngine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

function setup(resyncMs = 30_000) {
  const clock = new FakeClock();
  const backend = new FakeBackend();
  const metrics = createControllerMetrics();
  let desired: DesiredState = desiredState(pool('web', [['192.0.2.10', 61001]]));
  const failures: ErrorClass[] = [];
  const synced: DesiredState[] = [];
  engine = new SyncEngine({
    backend, clock, metrics, resyncMs, random: () => 0.5, desired: () => desired,
    onFailed: (_d, _e, c) => failures.push(c), onSynced: (d) => synced.push(d),
  });
  return { clock, backend, metrics, failures, synced, engine, set: (d: DesiredState) => (desired = d) };
}

describe('sync engine', () => {
  it('syncs at start, then writes nothing while nothing changes (resyncs observe only)', async () => {
    const { clock, backend, engine } = setup();
    engine.start();
    await clock.advance(200);
    expect(backend.dump()).toBe('pool /k8s/web prod/web:80/tcp\n  member 192.0.2.10 61001');
    await clock.advance(120_000);
    expect(backend.calls).toBe(5);
    expect(backend.writes).toBe(1);
  });

  it('coalesces a burst of triggers into one sync of the newest state', async () => {
    const { clock, backend, engine, set } = setup();
    engine.start();
    await clock.advance(200);
    for (let i = 0; i < 100; i++) {
      set(desiredState(pool('web', [['192.0.2.10', 61001 + i]])));
      engine.trigger();
    }
    await clock.advance(200);
    expect(backend.calls).toBe(2);
    expect(backend.dump()).toContain('member 192.0.2.10 61100');
  });

  it('one writer: triggers during a sync make exactly one more sync after it', async () => {
    const { clock, backend, engine, set } = setup();
    let release!: () => void;
    backend.gate = () => new Promise<void>((r) => (release = r));
    engine.start();
    await clock.advance(200);
    expect(backend.calls).toBe(1);
    set(desiredState(pool('web', [['192.0.2.11', 61002]])));
    engine.trigger();
    engine.trigger();
    await clock.advance(1_000);
    expect(backend.calls).toBe(1);
    backend.gate = undefined;
    release();
    await clock.advance(200);
    expect(backend.calls).toBe(2);
    expect(backend.dump()).toContain('192.0.2.11 61002');
  });

  it('a 503 storm backs off exponentially with jitter; triggers during the backoff do not add requests', async () => {
    const { clock, backend, engine, failures } = setup(0);
    backend.failNext('busy', 6);
    engine.start();
    const callTimes: number[] = [];
    while (backend.writes === 0 && clock.now() < 200_000) {
      const before = backend.calls;
      engine.trigger();
      await clock.advance(100);
      if (backend.calls > before) callTimes.push(clock.now());
    }
    expect(failures).toEqual(['busy', 'busy', 'busy', 'busy', 'busy', 'busy']);
    expect(backend.calls).toBe(7);
    expect(callTimes).toHaveLength(7);
    const gaps = callTimes.slice(1).map((t, i) => t - (callTimes[i] ?? 0));
    // 1 s, 2 s, 4 s, 8 s, 16 s, 32 s, each with 25 % jitter (random 0.5 of 50 %), rounded to the 100 ms polling.
    expect(gaps.map((g) => Math.round(g / 1000))).toEqual([1, 3, 5, 10, 20, 40]);
    expect(backend.dump()).toContain('member 192.0.2.10 61001');
  });

  it('only the newest desired state is retried after a failure', async () => {
    const { clock, backend, engine, set, synced } = setup(0);
    backend.failNext('transport', 1);
    engine.start();
    await clock.advance(200);
    set(desiredState(pool('web', [['192.0.2.12', 61003]])));
    engine.trigger();
    await clock.advance(2_000);
    expect(synced).toHaveLength(1);
    expect(backend.dump()).toBe('pool /k8s/web prod/web:80/tcp\n  member 192.0.2.12 61003');
  });

  it('invalid: no retry until something changes', async () => {
    const { clock, backend, engine, failures } = setup(0);
    backend.failNext('invalid', 1);
    engine.start();
    await clock.advance(600_000);
    expect(backend.calls).toBe(1);
    expect(failures).toEqual(['invalid']);
    engine.trigger();
    await clock.advance(200);
    expect(backend.calls).toBe(2);
    expect(backend.dump()).toContain('member');
  });

  it('the periodic resync repairs a hand edit', async () => {
    const { clock, backend, engine } = setup(30_000);
    engine.start();
    await clock.advance(200);
    backend.deletePool('web');
    expect(backend.dump()).toBe('');
    await clock.advance(30_000);
    expect(backend.dump()).toContain('pool /k8s/web');
  });

  it('metrics: syncs by result, failures by class, members managed, last success', async () => {
    const { clock, backend, engine, metrics } = setup(0);
    backend.failNext('busy', 1);
    engine.start();
    await clock.advance(2_000);
    expect(metrics.syncs.get({ result: 'failure' })).toBe(1);
    expect(metrics.syncs.get({ result: 'success' })).toBe(1);
    expect(metrics.failures.get({ class: 'busy' })).toBe(1);
    expect(metrics.members.get()).toBe(1);
    expect(metrics.lastSuccess.get()).toBeGreaterThan(0);
    expect(engine.lastSuccessAt).toBeDefined();
  });

  it('stop waits for the sync in flight and ends all timers', async () => {
    const { clock, backend, engine } = setup();
    engine.start();
    await clock.advance(200);
    await engine.stop();
    expect(clock.pending()).toBe(0);
    engine.trigger();
    await clock.advance(60_000);
    expect(backend.calls).toBe(1);
  });
});
