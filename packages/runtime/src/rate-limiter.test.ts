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
