/**
 * A stateful fake backend for engine tests: it holds pools like a device would, applies desired
 * states (counting writes only for real changes), fails on request with a given error class, and
 * dumps its content as canonical text.
 */
import type { Backend, SyncReport } from '../backend/types.js';
import type { ErrorClass } from '../bigip/classify.js';
import { BigipError } from '../bigip/classify.js';
import type { DesiredPool, DesiredState } from '../model.js';
import { dumpDesired } from '../model.js';

export class FakeBackend implements Backend {
  readonly kind = 'icontrol' as const;
  private pools = new Map<string, DesiredPool>();
  private failures: ErrorClass[] = [];
  /** Calls of `sync`, failed ones included. */
  calls = 0;
  /** Calls that wrote something. */
  writes = 0;
  /** Optional hook run inside each sync before it applies (to hold a sync in flight). */
  gate: (() => Promise<void>) | undefined;

  /** The next `n` syncs fail with `errorClass`. */
  failNext(errorClass: ErrorClass, n = 1): void {
    for (let i = 0; i < n; i++) this.failures.push(errorClass);
  }

  /** Pools as `dumpDesired` prints them. */
  dump(): string {
    return dumpDesired({ partition: 'k8s', pools: [...this.pools.values()].sort((a, b) => (a.name < b.name ? -1 : 1)), ignored: [] });
  }

  /** A hand edit: drop a pool behind the controller's back. */
  deletePool(name: string): void {
    this.pools.delete(name);
  }

  async sync(desired: DesiredState): Promise<SyncReport> {
    this.calls++;
    await this.gate?.();
    const failure = this.failures.shift();
    if (failure) throw new BigipError({ errorClass: failure, method: 'POST', path: '/fake', status: failure === 'busy' ? 503 : 400, f5Message: `fake ${failure}` });
    const next = new Map(desired.pools.map((p) => [p.name, p]));
    const changes: string[] = [];
    for (const [name, pool] of next) if (JSON.stringify(this.pools.get(name)) !== JSON.stringify(pool)) changes.push(`pool ${name}`);
    for (const name of this.pools.keys()) if (!next.has(name)) changes.push(`delete ${name}`);
    this.pools = next;
    if (changes.length > 0) this.writes++;
    return { writes: changes.length, changes, resyncNeeded: false };
  }
}
