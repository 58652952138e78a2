import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import type { LtmConfig } from './state/config.js';
import { fullPathOf } from './state/names.js';
import type { MemberRecord, VirtualRecord } from './state/types.js';

/** One virtual server the emulator listens for. */
export interface ListenerStatus {
  virtual: string;
  address: string;
  port: number;
  listening: boolean;
  /** Why binding failed (EADDRINUSE, EACCES, ...). */
  error?: string;
}

interface Listener {
  status: ListenerStatus;
  server?: Server;
  sockets: Set<Socket>;
}

/** True for loopback and addresses of this host's interfaces (never the any-address). */
export function isLocalAddress(ip: string): boolean {
  if (ip.startsWith('127.') || ip === '::1') return true;
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((i) => i.address === ip));
}

function listenerKey(v: VirtualRecord): string | undefined {
  const [ip, rd] = v.destination.address.split('%');
  if (!ip || (rd !== undefined && rd !== '0') || v.destination.port === 0) return undefined;
  if (!v.enabled || (v.ipProtocol !== 'tcp' && v.ipProtocol !== 'any') || !isLocalAddress(ip)) return undefined;
  return `${ip}|${v.destination.port}|${fullPathOf(v)}`;
}

/**
 * Makes virtual servers carry traffic: each enabled TCP virtual whose destination is a local
 * address and a non-zero port gets a listener that forwards every connection to the next enabled
 * member of its pool (round-robin; node and member must both be enabled and up). With no usable
 * member the client connection is reset, as BIG-IP does. `sync()` follows configuration changes.
 */
export class TrafficForwarder {
  private readonly listeners = new Map<string, Listener>();
  private readonly nextIndex = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly config: LtmConfig, private readonly logger: Logger, private readonly enabled = true) {}

  /** Brings the listeners in line with the configuration; resolves when every bind has finished. */
  sync(): Promise<void> {
    if (!this.enabled) return this.chain;
    this.chain = this.chain.then(() => this.reconcile()).catch((err: unknown) => {
      this.logger.error({ err }, 'virtual server listeners could not be synchronised');
    });
    return this.chain;
  }

  /** Resolves once the pending `sync()` calls have finished. */
  idle(): Promise<void> {
    return this.chain;
  }

  status(): ListenerStatus[] {
    return [...this.listeners.values()].map((l) => ({ ...l.status }));
  }

  async close(): Promise<void> {
    await this.chain;
    await Promise.all([...this.listeners.keys()].map((key) => this.stop(key)));
  }

  private async reconcile(): Promise<void> {
    const wanted = new Map<string, VirtualRecord>();
    for (const v of this.config.listVirtuals()) {
      const key = listenerKey(v);
      if (key) wanted.set(key, v);
    }
    await Promise.all([...this.listeners.keys()].filter((k) => !wanted.has(k)).map((k) => this.stop(k)));
    await Promise.all([...wanted].filter(([k]) => !this.listeners.has(k)).map(([k, v]) => this.start(k, v)));
  }

  private start(key: string, v: VirtualRecord): Promise<void> {
    const address = v.destination.address.split('%')[0] as string;
    const virtual = fullPathOf(v);
    const listener: Listener = { status: { virtual, address, port: v.destination.port, listening: false }, sockets: new Set() };
    this.listeners.set(key, listener);
    const server = createServer((client) => this.forward(virtual, client, listener));
    return new Promise((resolve) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        listener.status.error = err.code ?? err.message;
        this.logger.warn({ virtual, address, port: v.destination.port, err: err.message }, 'virtual server listener failed');
        resolve();
      });
      server.listen({ host: address, port: v.destination.port }, () => {
        listener.server = server;
        listener.status.listening = true;
        this.logger.info({ virtual, address, port: v.destination.port }, 'virtual server listening');
        resolve();
      });
    });
  }

  private async stop(key: string): Promise<void> {
    const listener = this.listeners.get(key);
    this.listeners.delete(key);
    if (!listener?.server) return;
    for (const socket of listener.sockets) socket.destroy();
    await new Promise<void>((resolve) => listener.server?.close(() => resolve()));
  }

  private pickMember(virtualPath: string): MemberRecord | undefined {
    const virtual = this.config.listVirtuals().find((v) => fullPathOf(v) === virtualPath);
    const pool = virtual?.pool ? this.config.listPools().find((p) => fullPathOf(p) === virtual.pool) : undefined;
    if (!pool) return undefined;
    const nodes = this.config.listNodes();
    const usable = pool.members.filter((m) => {
      const node = nodes.find((n) => n.partition === m.partition && n.name === m.nodeName);
      return m.session === 'user-enabled' && m.state === 'user-up' && node?.session === 'user-enabled' && node.state === 'user-up';
    });
    if (usable.length === 0) return undefined;
    const index = (this.nextIndex.get(virtualPath) ?? 0) % usable.length;
    this.nextIndex.set(virtualPath, index + 1);
    return usable[index];
  }

  private forward(virtualPath: string, client: Socket, listener: Listener): void {
    listener.sockets.add(client);
    client.once('close', () => listener.sockets.delete(client));
    client.on('error', () => client.destroy());
    const member = this.pickMember(virtualPath);
    if (!member) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: member.address.split('%')[0] as string, port: member.port });
    listener.sockets.add(upstream);
    upstream.once('close', () => listener.sockets.delete(upstream));
    upstream.on('error', () => client.resetAndDestroy());
    client.on('error', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
