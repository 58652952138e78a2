/** tcpConnect against real loopback servers: one that keeps the connection, one that drops it at once (npl-agent's placeholder socket), none. */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { tcpConnect } from './kube.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function listen(onConnection: (c: Socket) => void): Promise<number> {
  const s = createServer(onConnection);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
}

describe('tcpConnect', () => {
  it('resolves when the server keeps the connection open', async () => {
    const port = await listen(() => undefined);
    await expect(tcpConnect('127.0.0.1', port, 2_000)).resolves.toBeUndefined();
  });

  it('resolves at once when the server speaks first', async () => {
    const port = await listen((c) => c.write('hello\n'));
    await expect(tcpConnect('127.0.0.1', port, 2_000)).resolves.toBeUndefined();
  });

  it("rejects when the server drops the connection at once, as npl-agent's placeholder socket does", async () => {
    const port = await listen((c) => c.destroy());
    await expect(tcpConnect('127.0.0.1', port, 2_000)).rejects.toThrow("npl-agent's placeholder socket answered, not the Pod");
  });

  it('rejects with the error code when nothing listens', async () => {
    const port = await listen(() => undefined);
    await new Promise((r) => servers.pop()!.close(r));
    await expect(tcpConnect('127.0.0.1', port, 2_000)).rejects.toThrow('ECONNREFUSED');
  });
});
