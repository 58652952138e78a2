/**
 * Throwaway network namespaces for benchmarks: a "node" and a "pod" joined by a veth pair,
 * addressed from 198.18.0.0/15 (RFC 2544 benchmark range). Everything created is removed by
 * `destroy`, also after a failure.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function sh(cmd: string, args: readonly string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
}

export function inNs(ns: string, cmd: string, args: readonly string[], input?: string): string {
  return sh('ip', ['netns', 'exec', ns, cmd, ...args], input);
}

export interface PairTopology {
  readonly node: string;
  readonly pod: string;
  readonly nodeIP: string;
  readonly podIP: string;
  destroy(): void;
}

/** `node` (198.18.<net>.1) <-veth-> `pod` (198.18.<net>.2), loopback up in both. */
export function createPair(prefix: string, net: number): PairTopology {
  const id = randomBytes(3).toString('hex');
  const node = `${prefix}-n-${id}`;
  const pod = `${prefix}-p-${id}`;
  const nodeIP = `198.18.${net}.1`;
  const podIP = `198.18.${net}.2`;
  const destroy = (): void => {
    for (const ns of [node, pod]) {
      try {
        sh('ip', ['netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  };
  try {
    sh('ip', ['netns', 'add', node]);
    sh('ip', ['netns', 'add', pod]);
    inNs(node, 'ip', ['link', 'add', 'veth-n', 'type', 'veth', 'peer', 'name', 'veth-p', 'netns', pod]);
    inNs(node, 'ip', ['addr', 'add', `${nodeIP}/24`, 'dev', 'veth-n']);
    inNs(pod, 'ip', ['addr', 'add', `${podIP}/24`, 'dev', 'veth-p']);
    for (const [ns, dev] of [[node, 'veth-n'], [pod, 'veth-p']] as const) {
      inNs(ns, 'ip', ['link', 'set', 'lo', 'up']);
      inNs(ns, 'ip', ['link', 'set', dev, 'up']);
    }
    inNs(pod, 'ip', ['route', 'add', 'default', 'via', nodeIP]);
    return { node, pod, nodeIP, podIP, destroy };
  } catch (err) {
    destroy();
    throw err;
  }
}

/** A Node.js script run inside a namespace (Node cannot enter one itself). */
export function spawnInNs(ns: string, script: string, args: readonly string[] = []): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '--input-type=module', '-e', script, '--', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolve with the first stdout line of `child` (e.g. a "ready" line), reject on early exit. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i));
    });
    child.once('exit', (code) => reject(new Error(`process exited (${code}) before its first line: ${err.trim()}`)));
  });
}

/** Collect all of stdout; reject on a non-zero exit with stderr in the message. */
export function allOutput(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err.trim()}`))));
  });
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
