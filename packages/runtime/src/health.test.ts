import { describe, expect, it } from '@jest/globals';
import { FakeClock } from './clock.js';
import { createHealthServer, FailureStreak, parseListenAddress, streakCheck } from './health.js';
import { Registry } from './metrics.js';

describe('health server', () => {
  it('is alive at once, ready only when every check passes, and serves metrics', async () => {
    const registry = new Registry();
    registry.counter('npl_test_total', 'A test counter.').inc();
    let synced = false;
    const app = createHealthServer({
      registry,
      checks: [
        { name: 'informers', check: () => (synced ? undefined : 'pods informer not synced') },
        { name: 'dataplane', check: () => undefined },
      ],
    });
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    const notReady = await app.inject('/readyz');
    expect(notReady.statusCode).toBe(503);
    expect(notReady.body).toBe('[-] informers: pods informer not synced\n[+] dataplane ok\nreadyz check failed\n');
    synced = true;
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.body).toContain('readyz check passed');
    const metrics = await app.inject('/metrics');
    expect(metrics.headers['content-type']).toContain('text/plain; version=0.0.4');
    expect(metrics.body).toContain('npl_test_total 1');
    await app.close();
  });
});

describe('health server liveness checks', () => {
  it('/healthz answers 503 naming a failing liveness check (e.g. a leader Lease not renewed), 200 otherwise', async () => {
    let stale = false;
    const app = createHealthServer({
      registry: new Registry(),
      checks: [],
      liveness: [{ name: 'leader-election', check: () => (stale ? 'leader Lease ns/l not renewed for 31000 ms' : undefined) }],
    });
    const ok = await app.inject('/healthz');
    expect([ok.statusCode, ok.body]).toEqual([200, '[+] leader-election ok\nhealthz check passed\n']);
    stale = true;
    const failing = await app.inject('/healthz');
    expect([failing.statusCode, failing.body]).toEqual([503, '[-] leader-election: leader Lease ns/l not renewed for 31000 ms\nhealthz check failed\n']);
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    await app.close();
  });
});

describe('parseListenAddress', () => {
  it.each([
    [':8080', { host: '0.0.0.0', port: 8080 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:9000', { host: '::1', port: 9000 }],
    ['localhost:10', { host: 'localhost', port: 10 }],
  ])('reads %s', (text, want) => {
    expect(parseListenAddress(text, '--health-address')).toEqual(want);
  });

  it.each(['8080', 'host:', 'a:b', ':65536', '::1:80', ''])('rejects %j naming the flag', (text) => {
    expect(() => parseListenAddress(text, '--health-address')).toThrow(`--health-address ${JSON.stringify(text)}: expected host:port`);
  });
});

describe('FailureStreak and streakCheck (nothing latches)', () => {
  it('passes until failures have lasted the limit, fails naming the last error, passes again after one success', async () => {
    const clock = new FakeClock();
    const streak = new FailureStreak(clock);
    const check = streakCheck('watches', 'pods list/watch', streak, 60_000);
    expect(check.check()).toBeUndefined();
    streak.fail(new Error('connect ECONNREFUSED'));
    await clock.advance(59_999);
    streak.fail(new Error('connect ECONNREFUSED again'));
    expect(check.check()).toBeUndefined();
    await clock.advance(1);
    expect(check.check()).toBe('pods list/watch failing for 60 s (limit 60 s): connect ECONNREFUSED again');
    expect(streak.failingForMs()).toBe(60_000);
    streak.succeed();
    expect(check.check()).toBeUndefined();
    expect(streak.failingForMs()).toBe(0);
    expect(streak.lastFailureAt()).toBe(59_999);
    await clock.advance(10_000);
    streak.fail();
    await clock.advance(59_000);
    expect(check.check()).toBeUndefined();
    await clock.advance(1_000);
    expect(check.check()).toBe('pods list/watch failing for 60 s (limit 60 s)');
  });
});
