import { describe, expect, it } from '@jest/globals';
import { createHealthServer, parseListenAddress } from './health.js';
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
