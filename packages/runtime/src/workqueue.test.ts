import { describe, expect, it } from '@jest/globals';
import { backoffDelay, POD_REQUEUE_BACKOFF } from './backoff.js';
import { FakeClock, flushMicrotasks } from './clock.js';
import { runWorkers, WorkQueue } from './workqueue.js';

describe('WorkQueue', () => {
  it('hands out a key once however often it was added while waiting', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.length()).toBe(0);
  });

  it('never gives a key in flight to a second worker, and requeues it when done if re-added', async () => {
    const q = new WorkQueue();
    q.add('a');
    const first = await q.get();
    q.add('a');
    expect(q.length()).toBe(0);
    q.done(first!);
    expect(q.length()).toBe(1);
    expect(await q.get()).toBe('a');
  });

  it('wakes a waiting get when a key arrives', async () => {
    const q = new WorkQueue();
    const pending = q.get();
    q.add('x');
    expect(await pending).toBe('x');
  });

  it('delays rate-limited keys exponentially per key and forget resets the count', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    expect(q.addRateLimited('a')).toBe(2_000);
    expect(q.length()).toBe(0);
    await clock.advance(1_999);
    expect(q.length()).toBe(0);
    await clock.advance(1);
    expect(q.length()).toBe(1);
    q.done((await q.get())!);
    expect(q.addRateLimited('a')).toBe(4_000);
    expect(q.retries('a')).toBe(2);
    q.forget('a');
    expect(q.retries('a')).toBe(0);
    expect(q.addRateLimited('a')).toBe(2_000);
  });

  it('keeps the earlier of two delayed adds of one key', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 5_000);
    q.addAfter('a', 1_000);
    q.addAfter('a', 3_000);
    await clock.advance(1_000);
    expect(q.length()).toBe(1);
    await q.get().then((k) => q.done(k!));
    await clock.advance(10_000);
    expect(q.length()).toBe(0);
  });

  it('resolves waiting gets with undefined and drops delayed keys on shutdown', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('late', 1_000);
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
    await clock.advance(5_000);
    expect(q.length()).toBe(0);
    q.add('after');
    expect(await q.get()).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('follows Antrea: 2 s doubling to a 120 s cap', () => {
    const delays = Array.from({ length: 9 }, (_, i) => backoffDelay(POD_REQUEUE_BACKOFF, i));
    expect(delays).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 120_000, 120_000, 120_000]);
  });

  it('adds jitter within the given fraction', () => {
    const policy = { initialMs: 1_000, factor: 1.5, maxMs: 5_000, jitter: 0.1 };
    expect(backoffDelay(policy, 0, () => 0)).toBe(1_000);
    expect(backoffDelay(policy, 1, () => 0.5)).toBeCloseTo(1_500 * 1.05);
    expect(backoffDelay(policy, 10, () => 0.999)).toBeLessThan(5_500);
  });
});

describe('runWorkers', () => {
  it('retries a failing key with backoff and stops when the queue shuts down', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const calls: string[] = [];
    const errors: number[] = [];
    let failuresLeft = 2;
    const running = runWorkers(
      q,
      (key) => {
        calls.push(key);
        if (key === 'bad' && failuresLeft-- > 0) return Promise.reject(new Error('boom'));
        return Promise.resolve();
      },
      { workers: 2, onError: (_k, _e, retryIn) => errors.push(retryIn) },
    );
    q.add('bad');
    q.add('good');
    await flushMicrotasks();
    expect(calls).toEqual(['bad', 'good']);
    await clock.advance(2_000);
    await clock.advance(4_000);
    expect(calls).toEqual(['bad', 'good', 'bad', 'bad']);
    expect(errors).toEqual([2_000, 4_000]);
    expect(q.retries('bad')).toBe(0);
    q.shutDown();
    await running;
    expect(q.idle()).toBe(true);
  });

  it('processes one key at a time even with many workers', async () => {
    const q = new WorkQueue();
    let inFlight = 0;
    let maxInFlight = 0;
    let runs = 0;
    const release: (() => void)[] = [];
    const running = runWorkers(
      q,
      async () => {
        inFlight++;
        runs++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise<void>((r) => release.push(r));
        inFlight--;
      },
      { workers: 4 },
    );
    q.add('k');
    await flushMicrotasks();
    q.add('k');
    q.add('k');
    await flushMicrotasks();
    expect(maxInFlight).toBe(1);
    release.shift()!();
    await flushMicrotasks();
    expect(runs).toBe(2);
    release.shift()!();
    await flushMicrotasks();
    q.shutDown();
    await running;
    expect(runs).toBe(2);
    expect(maxInFlight).toBe(1);
  });
});

describe('WorkQueue.stalledForMs (liveness input)', () => {
  it('is 0 without work, counts from when work arrived, resets on each finished key, ignores delayed keys', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    await clock.advance(10_000);
    expect(q.stalledForMs()).toBe(0);
    q.addRateLimited('later');
    await clock.advance(1_000);
    expect(q.stalledForMs()).toBe(0);
    q.add('a');
    q.add('b');
    await clock.advance(500);
    expect(q.stalledForMs()).toBe(500);
    const a = await q.get();
    await clock.advance(30_000);
    expect(q.stalledForMs()).toBe(30_500);
    q.done(a!);
    expect(q.stalledForMs()).toBe(0 + 0);
    await clock.advance(200);
    expect(q.stalledForMs()).toBe(200);
    q.done((await q.get())!);
    expect(q.stalledForMs()).toBe(0);
    await clock.advance(1_000);
    expect(q.stalledForMs()).toBe(1_000);
    q.done((await q.get())!);
    expect(q.stalledForMs()).toBe(0);
    expect(q.failingKeys()).toBe(1);
    q.forget('later');
    expect(q.failingKeys()).toBe(0);
  });
});
