/**
 * Holds node ports with real sockets, as kube-proxy's LocalPortOpener and Antrea do: a TCP socket
 * listening on all addresses of the family (never serving: DNAT sends the traffic to the pod
 * before it could reach it), or a bound UDP socket. IPv6 sockets are v6-only, so the IPv4 and IPv6
 * tables hold their ports independently.
 */
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import type { IPFamily, PortReservation, PortReserver, Protocol } from '@npl/core';
import { NplError } from '@npl/core';

function anyAddress(family: IPFamily): string {
  return family === 'IPv4' ? '0.0.0.0' : '::';
}

function listenTcp(port: number, family: IPFamily): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((conn) => conn.destroy());
    server.once('error', reject);
    server.listen({ port, host: anyAddress(family), ipv6Only: family === 'IPv6', exclusive: true, backlog: 1 }, () => {
      server.off('error', reject);
      server.on('error', () => undefined);
      resolve(server);
    });
  });
}

function bindUdp(port: number, family: IPFamily): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: family === 'IPv4' ? 'udp4' : 'udp6', ipv6Only: family === 'IPv6' });
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.bind({ port, address: anyAddress(family), exclusive: true }, () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      socket.on('message', () => undefined);
      resolve(socket);
    });
  });
}

function closeTcp(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

function closeUdp(socket: UdpSocket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

interface Held {
  readonly release: () => Promise<void>;
  readonly isOpen: () => boolean;
}

/** A closed or unbound dgram socket throws from address() (ERR_SOCKET_DGRAM_NOT_RUNNING). */
function udpBound(socket: UdpSocket): boolean {
  try {
    socket.address();
    return true;
  } catch {
    return false;
  }
}

/** Counts what it holds, for the `npl_reserved_ports` gauge and for leak checks in tests. */
export class SocketPortReserver implements PortReserver {
  private readonly held = new Set<string>();
  /** key -> whether its socket is open now (a TCP server listening, a UDP socket bound). */
  private readonly open = new Map<string, () => boolean>();

  async reserve(port: number, protocol: Protocol, family: IPFamily): Promise<PortReservation> {
    const key = `${family}/${protocol}/${port}`;
    try {
      const { release, isOpen } = protocol === 'tcp' ? await this.reserveTcp(port, family) : await this.reserveUdp(port, family);
      this.held.add(key);
      this.open.set(key, isOpen);
      let released = false;
      return {
        release: async () => {
          if (released) return;
          await release();
          released = true;
          this.held.delete(key);
          this.open.delete(key);
        },
      };
    } catch (err) {
      throw new NplError('NPL_PORT_RESERVE_FAILED', `cannot hold ${family} ${protocol} port ${port}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** `IPv4/tcp/61000` for every port held now, sorted. */
  heldPorts(): string[] {
    return [...this.held].sort();
  }

  /**
   * True while this reserver holds `port` with a socket that is open now (the TCP server listening,
   * the UDP socket still bound): the socket itself is asked, not only the record of the reservation.
   */
  isHeld(port: number, protocol: Protocol, family: IPFamily): boolean {
    return this.open.get(`${family}/${protocol}/${port}`)?.() ?? false;
  }

  private async reserveTcp(port: number, family: IPFamily): Promise<Held> {
    const server = await listenTcp(port, family);
    return { release: () => closeTcp(server), isOpen: () => server.listening };
  }

  private async reserveUdp(port: number, family: IPFamily): Promise<Held> {
    const socket = await bindUdp(port, family);
    return { release: () => closeUdp(socket), isOpen: () => udpBound(socket) };
  }
}
