import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from '@jest/globals';
import { isNplError } from '@npl/core';
import { SocketPortReserver } from './socket-reserver.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '0.0.0.0', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

type Reservation = Awaited<ReturnType<SocketPortReserver['reserve']>>;

/**
 * Reserves some free port: another process on the machine may take a port between `freePort()`
 * and the bind, so a port found taken is replaced by another (a bounded number of times).
 */
async function reserveSomePort(reserver: SocketPortReserver, protocol: 'tcp' | 'udp'): Promise<{ port: number; r: Reservation }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      return { port, r: await reserver.reserve(port, protocol, 'IPv4') };
    } catch (err) {
      if (attempt >= 20 || !isNplError(err, 'NPL_PORT_RESERVE_FAILED')) throw err;
    }
  }
}

function canBindTcp(port: number, host = '0.0.0.0'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

function canBindUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

describe('SocketPortReserver', () => {
  it('holds a TCP port against other listeners until released', async () => {
    const reserver = new SocketPortReserver();
    const { port, r } = await reserveSomePort(reserver, 'tcp');
    expect(reserver.heldPorts()).toEqual([`IPv4/tcp/${port}`]);
    expect([reserver.isHeld(port, 'tcp', 'IPv4'), reserver.isHeld(port, 'udp', 'IPv4'), reserver.isHeld(port, 'tcp', 'IPv6')]).toEqual([true, false, false]);
    expect(await canBindTcp(port)).toBe(false);
    expect(await canBindTcp(port, '127.0.0.1')).toBe(false);
    await r.release();
    await r.release();
    expect(reserver.heldPorts()).toEqual([]);
    expect(reserver.isHeld(port, 'tcp', 'IPv4')).toBe(false);
    expect(await canBindTcp(port)).toBe(true);
  });

  it('holds a UDP port per protocol: TCP on the same number stays free', async () => {
    const reserver = new SocketPortReserver();
    const { port, r } = await reserveSomePort(reserver, 'udp');
    expect([reserver.isHeld(port, 'udp', 'IPv4'), reserver.isHeld(port, 'tcp', 'IPv4')]).toEqual([true, false]);
    expect(await canBindUdp(port)).toBe(false);
    expect(await canBindTcp(port)).toBe(true);
    await r.release();
    expect(reserver.isHeld(port, 'udp', 'IPv4')).toBe(false);
    expect(await canBindUdp(port)).toBe(true);
  });

  it('fails with NPL_PORT_RESERVE_FAILED naming the port when something else holds it', async () => {
    const reserver = new SocketPortReserver();
    const other = createServer();
    await new Promise<void>((r) => other.listen(0, '0.0.0.0', r));
    const { port } = other.address() as { port: number };
    try {
      const err: unknown = await reserver.reserve(port, 'tcp', 'IPv4').catch((e: unknown) => e);
      expect(isNplError(err, 'NPL_PORT_RESERVE_FAILED')).toBe(true);
      expect((err as Error).message).toContain(`cannot hold IPv4 tcp port ${port}`);
      expect(reserver.heldPorts()).toEqual([]);
    } finally {
      await new Promise((r) => other.close(r));
    }
  });

  it('holds IPv4 and IPv6 independently (v6-only sockets)', async () => {
    const reserver = new SocketPortReserver();
    const { port, r: v4 } = await reserveSomePort(reserver, 'tcp');
    let v6: Reservation | undefined;
    try {
      v6 = await reserver.reserve(port, 'tcp', 'IPv6');
    } catch (err) {
      // A machine without IPv6 cannot bind :: at all; the IPv4 hold must be unaffected.
      expect((err as Error).message).toMatch(/EAFNOSUPPORT|EADDRNOTAVAIL/);
    }
    expect(await canBindTcp(port)).toBe(false);
    await v6?.release();
    await v4.release();
  });
});
