/**
 * Throwaway network namespaces for the dataplane's kernel tests: a "node", a "pod" routed through
 * it over a veth, and an "outside" host that reaches the node but not the pod. Addresses only from
 * 198.18.0.0/15. Traffic comes from small Node.js helper processes run with `ip netns exec`.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { SkipReason } from '@npl/testkit';
import { commandsSkipReason } from '@npl/testkit';
import type { CommandRunner } from '../exec.js';
import { netnsRunner } from '../exec.js';

/** Why kernel tests cannot run here, or undefined when they can. */
export function kernelSkipReason(tools: readonly string[] = ['ip', 'nft']): SkipReason {
  return commandsSkipReason('network namespaces and the kernel dataplane', tools);
}

export const NODE_IP = '198.18.200.1';
export const POD_IP = '198.18.200.2';
export const NODE_OUTSIDE_IP = '198.19.200.1';
export const OUTSIDE_IP = '198.19.200.2';

export function sh(args: readonly string[], input?: string): string {
  return execFileSync(args[0] ?? '', args.slice(1), { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

export interface Topology {
  readonly node: string;
  readonly pod: string;
  readonly outside: string;
  /** Runs commands in the node namespace (the agent's view). */
  readonly runner: CommandRunner;
  /** Runs a command in a namespace, throwing on a non-zero exit; returns stdout. */
  exec(ns: string, ...args: string[]): string;
  /** Stops helper processes and deletes the namespaces; safe to call twice. */
  destroy(): void;
}

function build(ns: { node: string; pod: string; outside: string }, suffix: string): void {
  const inNs = (n: string, ...args: string[]): string => sh(['ip', 'netns', 'exec', n, ...args]);
  sh(['ip', 'link', 'add', `np${suffix}`, 'netns', ns.node, 'type', 'veth', 'peer', 'name', `pp${suffix}`, 'netns', ns.pod]);
  sh(['ip', 'link', 'add', `no${suffix}`, 'netns', ns.node, 'type', 'veth', 'peer', 'name', `oo${suffix}`, 'netns', ns.outside]);
  inNs(ns.node, 'ip', 'addr', 'add', `${NODE_IP}/24`, 'dev', `np${suffix}`);
  inNs(ns.node, 'ip', 'addr', 'add', `${NODE_OUTSIDE_IP}/24`, 'dev', `no${suffix}`);
  inNs(ns.pod, 'ip', 'addr', 'add', `${POD_IP}/24`, 'dev', `pp${suffix}`);
  inNs(ns.outside, 'ip', 'addr', 'add', `${OUTSIDE_IP}/24`, 'dev', `oo${suffix}`);
  for (const [n, dev] of [[ns.node, `np${suffix}`], [ns.node, `no${suffix}`], [ns.pod, `pp${suffix}`], [ns.outside, `oo${suffix}`]] as const) {
    inNs(n, 'ip', 'link', 'set', dev, 'up');
  }
  for (const n of [ns.node, ns.pod, ns.outside]) inNs(n, 'ip', 'link', 'set', 'lo', 'up');
  inNs(ns.node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  inNs(ns.pod, 'ip', 'route', 'add', 'default', 'via', NODE_IP);
  inNs(ns.outside, 'ip', 'route', 'add', `${NODE_IP}/32`, 'via', NODE_OUTSIDE_IP);
}

/** Creates the three namespaces; `tag` keeps names of concurrent test files apart. */
export function createTopology(tag: string): Topology {
  const suffix = randomBytes(3).toString('hex');
  const ns = { node: `npl-${tag}-node-${suffix}`, pod: `npl-${tag}-pod-${suffix}`, outside: `npl-${tag}-out-${suffix}` };
  const created: string[] = [];
  const destroy = (): void => {
    for (const n of created.splice(0)) {
      try {
        sh(['ip', 'netns', 'del', n]);
      } catch {
        // already gone
      }
    }
  };
  try {
    for (const n of [ns.node, ns.pod, ns.outside]) {
      sh(['ip', 'netns', 'add', n]);
      created.push(n);
    }
    build(ns, suffix);
  } catch (err) {
    destroy();
    throw err;
  }
  return { ...ns, runner: netnsRunner(ns.node), exec: (n, ...args) => sh(['ip', 'netns', 'exec', n, ...args]), destroy };
}

const SERVER = `
const net = require('net'), dgram = require('dgram');
const { tcp, udp } = JSON.parse(process.argv[1]);
let pending = tcp.length + udp.length;
const ready = () => { if (--pending === 0) console.log('ready'); };
for (const p of tcp) net.createServer((s) => s.end('pod:tcp:' + p)).listen(p, '0.0.0.0', ready);
for (const p of udp) {
  const u = dgram.createSocket('udp4');
  u.on('message', (m, r) => u.send('pod:udp:' + p, r.port, r.address));
  u.bind(p, '0.0.0.0', ready);
}
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** A server in the pod namespace answering `pod:<proto>:<port>` on each port; exits with its stdin. */
export class PodServer {
  private constructor(private readonly child: ChildProcess) {}

  static start(topo: Topology, ports: { tcp: number[]; udp: number[] }): Promise<PodServer> {
    const child = spawn('ip', ['netns', 'exec', topo.pod, process.execPath, '-e', SERVER, JSON.stringify(ports)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`pod server not ready: ${out}`)), 10_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready')) {
          clearTimeout(timer);
          resolve(new PodServer(child));
        }
      });
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`pod server exited with ${code}: ${out}`));
      });
    });
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin?.end();
      this.child.kill();
    });
  }
}

const CLIENT = `
const net = require('net'), dgram = require('dgram');
const [targets, timeoutMs] = JSON.parse(process.argv[1]);
const one = ([proto, host, port]) => new Promise((resolve) => {
  const timer = setTimeout(() => done(null), timeoutMs);
  let sock;
  const done = (v) => { clearTimeout(timer); try { sock.destroy ? sock.destroy() : sock.close(); } catch {} resolve(v); };
  if (proto === 'tcp') {
    let d = '';
    sock = net.connect(port, host);
    sock.on('data', (c) => (d += c));
    sock.on('end', () => done(d));
    sock.on('error', () => done(null));
  } else {
    sock = dgram.createSocket('udp4');
    sock.on('message', (m) => done(String(m)));
    sock.on('error', () => done(null));
    sock.send('hello', port, host);
  }
});
Promise.all(targets.map(one)).then((r) => { process.stdout.write(JSON.stringify(r)); process.exit(0); });
`;

export type Target = readonly ['tcp' | 'udp', string, number];

/**
 * Sends one request per target from namespace `ns`, in parallel; each answer is the server's reply
 * or null (refused, unreachable, no reply within `timeoutMs`).
 */
export function request(ns: string, targets: readonly Target[], timeoutMs = 1500): (string | null)[] {
  const out = sh(['ip', 'netns', 'exec', ns, process.execPath, '-e', CLIENT, JSON.stringify([targets, timeoutMs])]);
  return JSON.parse(out) as (string | null)[];
}

const STREAM = `
const dgram = require('dgram');
const [host, port, sport, everyMs] = JSON.parse(process.argv[1]);
const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
s.on('message', (m) => process.stdout.write(String(m) + '\\n'));
s.on('error', () => {});
s.bind(sport, () => {
  setInterval(() => s.send('hello', port, host, () => {}), everyMs);
  process.stdout.write('ready\\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/**
 * A UDP client in namespace `ns` that sends a datagram to `host:port` every `everyMs` from the
 * fixed source port `sport` (so every datagram belongs to one conntrack flow) and records each reply.
 */
export class UdpStream {
  private readonly lines: string[] = [];

  private constructor(private readonly child: ChildProcess) {}

  static start(ns: string, host: string, port: number, sport: number, everyMs = 50): Promise<UdpStream> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', STREAM, JSON.stringify([host, port, sport, everyMs])], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stream = new UdpStream(child);
    return new Promise((resolve, reject) => {
      let buffered = '';
      let err = '';
      const timer = setTimeout(() => reject(new Error(`UDP client not ready: ${err}`)), 10_000);
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        for (const line of parts) {
          if (line === 'ready') {
            clearTimeout(timer);
            resolve(stream);
          } else stream.lines.push(line);
        }
      });
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`UDP client exited with ${code}: ${err}`));
      });
    });
  }

  /** Replies received so far, in order. */
  replies(): readonly string[] {
    return this.lines;
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin?.end();
      this.child.kill();
    });
  }
}
