import { describe, expect, it } from '@jest/globals';
import { fastify } from 'fastify';
import type { KubernetesObject } from '@kubernetes/client-node';
import { FakeClock, flushMicrotasks } from './clock.js';
import { Informer } from './informer.js';
import { informersRunnable, periodicRunnable, serverRunnable, untilAborted, workersRunnable } from './runnables.js';
import { FakeListWatch } from './testing/fake-list-watch.js';
import { WorkQueue } from './workqueue.js';

const signal = () => new AbortController().signal;

describe('serverRunnable', () => {
  it('listens at start (bound address known), answers, and closes at stop', async () => {
    const app = fastify();
    app.get('/x', () => 'hi');
    const r = serverRunnable('health', app, '127.0.0.1:0');
    expect(r.group).toBe('servers');
    expect(r.address()).toBe('127.0.0.1:0');
    await r.start(signal());
    expect(r.address()).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`http://${r.address()}/x`)).text()).toBe('hi');
    await r.stop!();
    await expect(fetch(`http://${r.address()}/x`)).rejects.toThrow();
  });

  it('refuses a bad address naming the flag', () => {
    expect(() => serverRunnable('health', fastify(), 'nope', '--health-address')).toThrow('--health-address "nope": expected host:port');
  });
});

describe('informersRunnable', () => {
  it('starts when every informer has synced (list failures retried) and stops them', async () => {
    const clock = new FakeClock();
    const a = new FakeListWatch<KubernetesObject>();
    const b = new FakeListWatch<KubernetesObject>();
    b.failLists(2);
    const informers = [new Informer({ name: 'a', source: a, clock }), new Informer({ name: 'b', source: b, clock })];
    const r = informersRunnable('informers', informers);
    let started = false;
    const p = r.start(signal()).then(() => (started = true));
    await clock.advance(1_000);
    expect(started).toBe(false);
    await clock.advance(10_000);
    await p;
    expect(informers.every((i) => i.hasSynced())).toBe(true);
    await r.stop!();
    expect(a.openWatches() + b.openWatches()).toBe(0);
  });

  it('rejects with the signal reason when stopped before syncing', async () => {
    const src = new FakeListWatch<KubernetesObject>();
    src.failLists(100);
    const clock = new FakeClock();
    const abort = new AbortController();
    const r = informersRunnable('informers', [new Informer({ name: 'a', source: src, clock })]);
    const p = r.start(abort.signal);
    abort.abort(new Error('stopping'));
    await expect(p).rejects.toThrow('stopping');
    await r.stop!();
  });
});

describe('workersRunnable', () => {
  it('processes queued keys after start, calls onStarted, and stop waits for the key in flight', async () => {
    const queue = new WorkQueue<string>({ clock: new FakeClock() });
    const done: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    queue.add('a');
    const r = workersRunnable({
      name: 'workers',
      queue,
      workers: 1,
      handle: async (k) => {
        if (k === 'b') await slow;
        done.push(k);
      },
      onStarted: () => queue.add('b'),
    });
    await r.start(signal());
    await flushMicrotasks();
    let stopped = false;
    const stopping = r.stop!().then(() => (stopped = true));
    await flushMicrotasks();
    expect([done, stopped]).toEqual([['a'], false]);
    release();
    await stopping;
    expect(done).toEqual(['a', 'b']);
  });
});

describe('periodicRunnable', () => {
  it('runs every interval after start (once at start when immediate), reports errors, stops between runs', async () => {
    const clock = new FakeClock();
    const runs: number[] = [];
    const errors: unknown[] = [];
    const r = periodicRunnable({
      name: 'loop',
      intervalMs: 1_000,
      clock,
      immediate: true,
      run: () => {
        runs.push(clock.now());
        return runs.length === 2 ? Promise.reject(new Error('boom')) : Promise.resolve();
      },
      onError: (e) => errors.push(e),
    });
    await r.start(signal());
    await clock.advance(3_500);
    expect(runs).toEqual([0, 1_000, 2_000, 3_000]);
    expect(errors).toEqual([new Error('boom')]);
    await r.stop!();
    await clock.advance(5_000);
    expect(runs).toHaveLength(4);
  });
});

describe('untilAborted', () => {
  it('passes the result through, or rejects as soon as the signal aborts', async () => {
    await expect(untilAborted(Promise.resolve(3), signal())).resolves.toBe(3);
    const abort = new AbortController();
    const p = untilAborted(new Promise(() => undefined), abort.signal);
    abort.abort(new Error('bye'));
    await expect(p).rejects.toThrow('bye');
  });
});

describe('periodicRunnable.overdueMs (liveness input)', () => {
  it('is 0 while on time, grows while a run hangs past the interval, and is 0 again once it ends', async () => {
    const clock = new FakeClock();
    let release: (() => void) | undefined;
    const r = periodicRunnable({
      name: 'verify',
      intervalMs: 1_000,
      clock,
      run: () => (clock.now() >= 2_000 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve()),
    });
    expect(r.overdueMs()).toBe(0);
    await r.start(signal());
    await clock.advance(1_500);
    expect(r.overdueMs()).toBe(0);
    await clock.advance(500);
    expect(release).toBeDefined();
    await clock.advance(5_000);
    expect(r.overdueMs()).toBe(5_000);
    release!();
    await clock.advance(0);
    expect(r.overdueMs()).toBe(0);
    await r.stop!();
    expect(r.overdueMs()).toBe(0);
  });
});

