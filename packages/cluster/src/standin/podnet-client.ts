import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';

export interface ListenPort {
  readonly port: number;
  readonly protocol: string;
  /** Namespace to listen in instead of the pod's (hostPort: the node's namespace). */
  readonly netns?: string;
  readonly hostIP?: string;
  /** Families to listen on (wildcard address of each); default IPv4. Ignored with hostIP. */
  readonly families?: readonly string[];
}

export interface ProbeTarget {
  /** `host:port` (IPv6 hosts in brackets). */
  readonly target: string;
  readonly kind: 'tcp' | 'http';
  readonly path?: string;
  readonly timeoutMs: number;
}

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * Client of the podnet helper (go/podnet): one child process serving every pod's listeners.
 * If the helper exits it is restarted and `onRestart` is called so that listeners are reopened.
 */
export class PodnetClient {
  private child: ChildProcess | undefined;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  onRestart: () => void = () => undefined;
  private readonly binary: string;
  private readonly log: Logger;

  constructor(binary: string, log: Logger) {
    this.binary = binary;
    this.log = log;
  }

  start(): void {
    const child = spawn(this.binary, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    child.on('exit', (code, sig) => {
      for (const p of this.pending.values()) p.reject(new Error(`podnet exited (${code ?? sig})`));
      this.pending.clear();
      if (this.closed) return;
      this.log.error({ code, sig }, 'podnet exited; restarting');
      setTimeout(() => {
        this.start();
        this.onRestart();
      }, 500);
    });
    child.stdin.on('error', () => undefined);
  }

  stop(): void {
    this.closed = true;
    this.child?.stdin?.end();
  }

  /** Opens the pod's listeners; while `unhealthy` its TCP listeners answer HTTP 503 instead of 200. */
  open(id: string, netns: string, name: string, ports: readonly ListenPort[], unhealthy = false): Promise<void> {
    return this.request({ op: 'open', id, netns, name, ports, unhealthy });
  }

  /** Switches the pod's listeners between answering 200 and 503 (see `open`). */
  setUnhealthy(id: string, unhealthy: boolean): Promise<void> {
    return this.request({ op: 'health', id, unhealthy });
  }

  /**
   * One probe from inside namespace `netns`, as kubelet's prober: `tcp` succeeds when the
   * connection opens, `http` when GET `path` answers 200-399. Rejects with the reason otherwise.
   */
  probe(netns: string, target: ProbeTarget): Promise<void> {
    return this.request({ op: 'probe', netns, ...target });
  }

  close(id: string): Promise<void> {
    return this.request({ op: 'close', id });
  }

  private request(body: Record<string, unknown>): Promise<void> {
    const req = ++this.seq;
    return new Promise((resolve, reject) => {
      if (!this.child?.stdin?.writable) {
        reject(new Error('podnet is not running'));
        return;
      }
      this.pending.set(req, { resolve, reject });
      this.child.stdin.write(JSON.stringify({ req, ...body }) + '\n');
    });
  }

  private onLine(line: string): void {
    let msg: { req?: number; ok?: boolean; error?: string };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    const p = msg.req === undefined ? undefined : this.pending.get(msg.req);
    if (!p) return;
    this.pending.delete(msg.req!);
    if (msg.ok) p.resolve();
    else p.reject(new Error(msg.error ?? 'podnet error'));
  }
}
