/**
 * The API reachability probe against a loopback HTTP server standing in for the API server's
 * /readyz: not ready (500) is a failed probe, ready (200) after it a recovery, both logged once.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { apiServerReachability } from './api-server-reachability.js';
import { realClock } from './clock.js';
import { eventually } from './poll.js';
import { captureLogs } from './testing/log-capture.js';

let ready = false;
const paths: string[] = [];
const server = createServer((req, res) => {
  paths.push(`${req.method} ${req.url}`);
  res.writeHead(ready ? 200 : 500, { 'content-type': 'text/plain' }).end(ready ? 'ok' : '[-]etcd failed');
});
const kc = new KubeConfig();

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((r) => server.close(() => r()));
});

describe('apiServerReachability', () => {
  it('probes GET /readyz: not ready is unreachable, ready again a recovery; both logged', async () => {
    const { lines, logger } = captureLogs();
    const reach = apiServerReachability(kc, realClock, logger);
    reach.unanswered();
    await eventually(() => Promise.resolve(reach.state === 'unreachable'), 10_000, 'a failed probe', 50);
    ready = true;
    await eventually(() => Promise.resolve(reach.state === 'reachable'), 10_000, 'a successful probe', 50);
    await reach.stop();
    expect(reach.recoveries).toBe(1);
    expect(new Set(paths)).toEqual(new Set(['GET /readyz']));
    expect(lines.map((l) => `${String(l.level)} ${String(l.msg)}`)).toEqual(['warn API server unreachable: probing /readyz until it answers', 'info API server reachable again: informers relist now']);
  }, 20_000);
});
