/**
 * A stateful stand-in for the API server's list and watch of one collection, for unit tests of
 * informer users. Objects get increasing resourceVersions; watches see changes made after they
 * start; `stallWatches` models the silent-stall failure (events are lost, the stream stays open);
 * `hang` a hung API server (nothing answered, the client's timeouts fire).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ListWatchSource, WatchEventType } from '../informer.js';
import { objectKey } from '../informer.js';

interface Subscriber<T> {
  onEvent: (type: WatchEventType, obj: T) => void;
  onDone: (err?: unknown) => void;
  open: boolean;
}

export class FakeListWatch<T extends KubernetesObject> implements ListWatchSource<T> {
  private readonly objects = new Map<string, T>();
  private readonly subscribers: Subscriber<T>[] = [];
  private rv = 1;
  private listFailures: Error[] = [];
  private stalled = false;
  private held?: Promise<void>;
  private hung?: { until: Promise<void>; release: () => void };
  lists = 0;
  watches = 0;

  list(): Promise<{ items: T[]; resourceVersion: string }> {
    this.lists++;
    const failure = this.listFailures.shift();
    if (failure !== undefined) return Promise.reject(failure);
    // A hung server answers a list only once it runs again.
    if (this.hung) return this.hung.until.then(() => this.list());
    return Promise.resolve({ items: [...this.objects.values()].map(clone), resourceVersion: String(this.rv) });
  }

  watch(_rv: string, onEvent: Subscriber<T>['onEvent'], onDone: Subscriber<T>['onDone']): Promise<{ abort(): void }> {
    this.watches++;
    const sub: Subscriber<T> = { onEvent, onDone, open: true };
    this.subscribers.push(sub);
    const handle = { abort: () => this.close(sub, Object.assign(new Error('aborted'), { name: 'AbortError' })) };
    if (this.hung) {
      // client-node: no response headers within its request timeout ends the watch with a TimeoutError first.
      this.close(sub, timeoutError());
      return Promise.resolve(handle);
    }
    // A held watch is open on the server but its handle is not back yet (the response headers are late).
    return (this.held ?? Promise.resolve()).then(() => handle);
  }

  /** Watches started from now on return their handle only once the returned function is called. */
  holdWatchHandles(): () => void {
    let release!: () => void;
    this.held = new Promise<void>((r) => (release = r));
    return () => {
      this.held = undefined;
      release();
    };
  }

  /** Create or replace an object; open watches see ADDED or MODIFIED unless stalled. */
  upsert(obj: T): T {
    const key = objectKey(obj);
    const type: WatchEventType = this.objects.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = clone({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
    this.objects.set(key, stored);
    this.notify(type, stored);
    return clone(stored);
  }

  /** The stored object (a copy), as a GET would return it. */
  get(key: string): T | undefined {
    const obj = this.objects.get(key);
    return obj ? clone(obj) : undefined;
  }

  remove(key: string): void {
    const obj = this.objects.get(key);
    if (!obj) return;
    this.objects.delete(key);
    this.notify('DELETED', { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
  }

  /** The next `n` list calls fail with `err`. */
  failLists(n: number, err: Error = new Error('list failed')): void {
    this.listFailures.push(...Array.from({ length: n }, () => err));
  }

  /** End every open watch: with `err`, or cleanly when omitted. */
  endWatches(err?: unknown): void {
    for (const sub of [...this.subscribers]) this.close(sub, err);
  }

  /** Send a 410 Gone ERROR event then end the watches, as the API server does for a too-old version. */
  expireWatches(): void {
    for (const sub of [...this.subscribers]) {
      sub.onEvent('ERROR', { kind: 'Status', code: 410 } as unknown as T);
      this.close(sub);
    }
  }

  /**
   * Hang (true) as a SIGSTOPped API server: open watches end with the client's inactivity
   * TimeoutError, new watches with its connect TimeoutError before answering, lists stay unanswered.
   * `hang(false)` answers the waiting lists.
   */
  hang(hung = true): void {
    if (!hung) {
      const h = this.hung;
      this.hung = undefined;
      h?.release();
      return;
    }
    if (this.hung) return;
    let release!: () => void;
    this.hung = { until: new Promise<void>((r) => (release = r)), release };
    for (const sub of [...this.subscribers]) this.close(sub, timeoutError());
  }

  stallWatches(stalled = true): void {
    this.stalled = stalled;
  }

  openWatches(): number {
    return this.subscribers.filter((s) => s.open).length;
  }

  private notify(type: WatchEventType, obj: T): void {
    if (this.stalled) return;
    for (const sub of this.subscribers) if (sub.open) sub.onEvent(type, clone(obj));
  }

  private close(sub: Subscriber<T>, err?: unknown): void {
    if (!sub.open) return;
    sub.open = false;
    this.subscribers.splice(this.subscribers.indexOf(sub), 1);
    sub.onDone(err);
  }
}

function timeoutError(): Error {
  return Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
}

function clone<T>(x: T): T {
  return structuredClone(x);
}

/** The error fetch gives for a connection the API server did not accept (an unanswered request). */
export function refusedError(code: 'ECONNREFUSED' | 'ECONNRESET' = 'ECONNREFUSED'): Error {
  return Object.assign(new TypeError('fetch failed'), { cause: { code } });
}

/**
 * `source` as seen through the network of an API server that may be down: while `down()`, every
 * list and new watch is refused (refusedError), as when the API server process is stopped.
 */
export function refusable<T extends KubernetesObject>(source: ListWatchSource<T>, down: () => boolean): ListWatchSource<T> {
  return {
    list: () => (down() ? Promise.reject(refusedError()) : source.list()),
    watch: (rv, onEvent, onDone) => {
      if (!down()) return source.watch(rv, onEvent, onDone);
      onDone(refusedError());
      return Promise.resolve({ abort: () => undefined });
    },
  };
}
