/**
 * A long-lived `nft -j -i` process that applies JSON batches (one per line) over one netlink
 * socket. One `nft` process per change costs a process start (~4 ms from Node) and, after an
 * element deletion, ~10 ms in the kernel when nft closes its netlink socket; in a session both are
 * gone (0.2 ms add or delete with 10,000 mappings, measured on nft 1.0.6).
 *
 * Protocol: stderr is merged into stdout (`2>&1`, so the stream stays in order); after each batch
 * the session sends a marker command (`list flowtables`), whose one-line JSON answer ends the batch.
 * Text before it is nft's error output: empty means the batch was applied, anything else means it
 * was refused (all-or-nothing, as `nft -f`). A session that exits or stops answering is killed and
 * started again on the next batch.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import type { NftBatch } from '@npl/core';

// `list flowtables` answers with one JSON line and needs no set or map cache: 0.2 ms with 10,000
// mappings installed, where `list tables` in JSON mode loads every element (~35 ms).
const MARKER = JSON.stringify({ nftables: [{ list: { flowtables: null } }] });
const MARKER_ANSWER = '{"nftables": [{"metainfo"';

export interface BatchResult {
  readonly exitCode: number;
  readonly stderr: string;
}

interface Waiter {
  readonly lines: string[];
  readonly resolve: (r: BatchResult) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export interface NftSessionOptions {
  /** The nft command and any prefix, e.g. `['nft']` or `['ip', 'netns', 'exec', 'ns1', 'nft']`. */
  readonly command: readonly string[];
  /** Time allowed for one batch before the session is killed. Default 30 s. */
  readonly timeoutMs?: number;
}

export class NftSession {
  private child: ChildProcessWithoutNullStreams | undefined;
  private buffer = '';
  private waiter: Waiter | undefined;
  private closed = false;
  /** Sessions started so far (1 normally; more after crashes or timeouts). */
  starts = 0;

  constructor(private readonly options: NftSessionOptions) {}

  /**
   * Applies one batch. Resolves with exit code 0 when nft printed nothing before the marker, 1 and
   * its error text otherwise. Rejects when the session cannot be started, exits, or times out; the
   * caller may then fall back to a one-shot `nft -f`. One batch at a time (callers serialize).
   */
  run(batch: NftBatch): Promise<BatchResult> {
    if (this.waiter) return Promise.reject(new Error('nft session: a batch is already running'));
    const child = this.ensure();
    return new Promise<BatchResult>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new Error(`nft session did not answer within ${this.options.timeoutMs ?? 30_000} ms`)), this.options.timeoutMs ?? 30_000);
      this.waiter = { lines: [], resolve, reject, timer };
      child.stdin.write(`${JSON.stringify(batch)}\n${MARKER}\n`);
    });
  }

  /** Process id of the running nft (the exec chain keeps it), for tests and logs. */
  pid(): number | undefined {
    return this.child?.pid;
  }

  /** Stops the session for good; later `run` calls reject. Idempotent. */
  close(): void {
    this.closed = true;
    this.fail(new Error('nft session closed'));
  }

  private ensure(): ChildProcessWithoutNullStreams {
    if (this.closed) throw new Error('nft session closed');
    if (this.child) return this.child;
    const command = [...this.options.command, '-j', '-i'].map(quote).join(' ');
    const child = spawn('sh', ['-c', `exec ${command} 2>&1`], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.starts++;
    this.buffer = '';
    // Never keep the process alive for the session alone (a running batch has its own timer).
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.onData(chunk));
    child.stdin.on('error', () => undefined);
    child.once('error', (err) => this.fail(err));
    // 'close', not 'exit': only after stdout has ended is everything the process printed read, so
    // the error names its last words (a partial last line included) however the events interleave.
    child.once('close', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.buffer.trim() !== '') this.waiter?.lines.push(this.buffer.trim());
      this.buffer = '';
      this.fail(new Error(`nft session exited (${signal ?? code}): ${this.waiter?.lines.join(' ').trim() || 'no output'}`));
    });
    this.child = child;
    return child;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    for (let i = this.buffer.indexOf('\n'); i >= 0; i = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    const w = this.waiter;
    if (!w) return;
    if (!line.startsWith(MARKER_ANSWER)) {
      if (line.trim() !== '') w.lines.push(line);
      return;
    }
    this.waiter = undefined;
    clearTimeout(w.timer);
    w.resolve({ exitCode: w.lines.length === 0 ? 0 : 1, stderr: w.lines.join('\n') });
  }

  /** Rejects the running batch (if any) and kills the process; the next `run` starts afresh. */
  private fail(err: Error): void {
    const w = this.waiter;
    this.waiter = undefined;
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (w) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }
}

function quote(arg: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
