import { describe, expect, it } from '@jest/globals';
import { FakeClock, flushMicrotasks } from './clock.js';
import { TokenBucket } from './rate-limiter.js';

describe('TokenBucket', () => {
  it('serves a burst at once, then one call per 1/qps seconds, in order', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 3, clock);
    const done: number[] = [];
    for (let i = 0; i < 5; i++) void bucket.take().then(() => done.push(i));
    await flushMicrotasks();
    expect(done).toEqual([0, 1, 2]);
    await clock.advance(99);
    expect(done).toEqual([0, 1, 2]);
    await clock.advance(1);
    expect(done).toEqual([0, 1, 2, 3]);
    await clock.advance(100);
    expect(done).toEqual([0, 1, 2, 3, 4]);
  });

  it('never waits when unlimited', async () => {
    const bucket = new TokenBucket(0, 1, new FakeClock());
    await Promise.all(Array.from({ length: 100 }, () => bucket.take()));
  });
});

describe('TokenBucket schedule', () => {
  it('keeps to the absolute schedule: 40 calls at 10/s after a burst of 10 end at 3 s', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 10, clock);
    let done = 0;
    for (let i = 0; i < 40; i++) void bucket.take().then(() => done++);
    await flushMicrotasks();
    expect(done).toBe(10);
    await clock.advance(2_999);
    expect(done).toBe(39);
    await clock.advance(1);
    expect(done).toBe(40);
  });

  it('refills while idle, up to the burst', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 3, clock);
    for (let i = 0; i < 3; i++) await bucket.take();
    await clock.advance(10_000);
    let done = 0;
    for (let i = 0; i < 4; i++) void bucket.take().then(() => done++);
    await flushMicrotasks();
    expect(done).toBe(3);
  });
});
