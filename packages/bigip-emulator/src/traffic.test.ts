import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { createEmulator } from './server.js';
import type { Emulator } from './server.js';
import { BASIC } from './testing/harness.js';

/** A TCP server answering every connection with its name, then closing. */
async function backend(name: string): Promise<Server> {
  const server = createServer((socket) => socket.end(name));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = portOf(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Connects to the virtual and reads until close; `'reset'` when the connection is refused or reset. */
function fetchThrough(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    socket.on('data', (chunk: Buffer) => { data += chunk.toString(); });
    socket.on('error', () => resolve('reset'));
    socket.on('close', () => resolve(data));
  });
}

let emu: Emulator;
let backends: Server[];

beforeEach(async () => {
  emu = await createEmulator({ partitions: ['k8s'] });
  backends = [await backend('a'), await backend('b')];
});
afterEach(async () => {
  await emu.close();
  await Promise.all(backends.map((b) => new Promise<void>((resolve) => b.close(() => resolve()))));
});

async function call(method: string, url: string, body?: unknown): Promise<number> {
  const res = await emu.app.inject({ method: method as 'GET', url, headers: { authorization: BASIC, 'content-type': 'application/json' }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
  return res.statusCode;
}

/**
 * Declares a virtual through `create(port)` on a free loopback port and returns the port. Another
 * process may take the port between `freePort()` and the emulator's bind: a virtual whose listener
 * failed with EADDRINUSE is removed and declared again on another port (a bounded number of times).
 */
async function onFreePort(create: (port: number) => Promise<void>, remove: () => Promise<unknown>): Promise<number> {
  for (let attempt = 0; ; attempt += 1) {
    const port = await freePort();
    await create(port);
    const listener = emu.traffic.status().find((s) => s.port === port);
    if (listener?.listening || listener?.error !== 'EADDRINUSE' || attempt >= 20) return port;
    await remove();
  }
}

describe('virtual server traffic', () => {
  it('forwards connections round-robin to the enabled members and stops when the virtual goes', async () => {
    const members = backends.map((b) => ({ name: `127.0.0.1:${portOf(b)}` }));
    expect(await call('POST', '/mgmt/tm/ltm/pool', { name: 'web_pool', partition: 'k8s', members })).toBe(200);
    const vsPort = await onFreePort(
      async (port) => expect(await call('POST', '/mgmt/tm/ltm/virtual', { name: 'web_vs', partition: 'k8s', destination: `/k8s/127.0.0.1:${port}`, pool: 'web_pool' })).toBe(200),
      () => call('DELETE', '/mgmt/tm/ltm/virtual/~k8s~web_vs'),
    );
    expect(emu.traffic.status()).toEqual([{ virtual: '/k8s/web_vs', address: '127.0.0.1', port: vsPort, listening: true }]);
    const answers = [];
    for (let i = 0; i < 4; i += 1) answers.push(await fetchThrough(vsPort));
    expect(answers).toEqual(['a', 'b', 'a', 'b']);

    const memberB = `/mgmt/tm/ltm/pool/~k8s~web_pool/members/~k8s~127.0.0.1:${portOf(backends[1] as Server)}`;
    expect(await call('PATCH', memberB, { session: 'user-disabled' })).toBe(200);
    expect([await fetchThrough(vsPort), await fetchThrough(vsPort)]).toEqual(['a', 'a']);

    expect(await call('DELETE', '/mgmt/tm/ltm/virtual/~k8s~web_vs')).toBe(200);
    expect(await fetchThrough(vsPort)).toBe('reset');
  });

  it('resets the client when the pool has no enabled member', async () => {
    expect(await call('POST', '/mgmt/tm/ltm/pool', { name: 'empty', partition: 'k8s' })).toBe(200);
    const vsPort = await onFreePort(
      async (port) => expect(await call('POST', '/mgmt/tm/ltm/virtual', { name: 'vs', partition: 'k8s', destination: `127.0.0.1:${port}`, pool: 'empty' })).toBe(200),
      () => call('DELETE', '/mgmt/tm/ltm/virtual/~k8s~vs'),
    );
    expect(await fetchThrough(vsPort)).toBe('reset');
  });

  it('serves a virtual declared through AS3', async () => {
    const declaration = (vsPort: number) => ({
      class: 'ADC', schemaVersion: '3.52.0',
      web: { class: 'Tenant', Shared: { class: 'Application', template: 'shared',
        pool: { class: 'Pool', members: [{ servicePort: portOf(backends[0] as Server), serverAddresses: ['127.0.0.1'], shareNodes: true }] },
        vs: { class: 'Service_TCP', virtualAddresses: ['127.0.0.1'], virtualPort: vsPort, pool: 'pool' } } },
    });
    const vsPort = await onFreePort(
      async (port) => expect(await call('POST', '/mgmt/shared/appsvcs/declare', declaration(port))).toBe(200),
      () => call('DELETE', '/mgmt/shared/appsvcs/declare/web'),
    );
    expect(await fetchThrough(vsPort)).toBe('a');
  });
});
