/**
 * A stateful stand-in for the API server's Leases, for unit tests of leader election. It keeps what
 * the API server keeps and no more: each write gets a new resourceVersion, a create of an existing
 * Lease and an update with a stale resourceVersion fail with NPL_LEASE_CONFLICT (HTTP 409). Like the
 * API server it never expires a Lease: expiry is the electors' judgement on their clock (drive them
 * with one FakeClock).
 */
import { RuntimeError } from '../errors.js';
import type { LeaseClient, LeaseRecord, StoredLease } from '../lease.js';

export type LeaseOp = 'get' | 'create' | 'update';

/** One process's client of a FakeLeaseStore Lease, with failures injected for this client only. */
export interface FakeLeaseClient extends LeaseClient {
  /** The next `n` calls of `op` fail with `err` (default: an HTTP 500), or never answer (`'hang'`). */
  failNext(op: LeaseOp, n?: number, err?: Error | 'hang'): void;
}

export class FakeLeaseStore {
  private readonly leases = new Map<string, StoredLease>();
  private rv = 0;
  /** Successful writes (create and update), for assertions. */
  writes = 0;

  /** A client of the Lease `key` (`namespace/name`). */
  client(key = 'default/npl-leader'): FakeLeaseClient {
    const failures: Record<LeaseOp, (Error | 'hang')[]> = { get: [], create: [], update: [] };
    const op = <T>(name: LeaseOp, fn: () => T): Promise<T> => run(failures[name].shift(), fn);
    return {
      description: key,
      failNext(name, n = 1, err = new RuntimeError('NPL_LEASE_REQUEST_FAILED', `${name} Lease ${key}: HTTP 500`)) {
        failures[name].push(...Array.from({ length: n }, () => err));
      },
      get: () => op('get', () => this.read(key)),
      create: (record) =>
        op('create', () => {
          if (this.leases.has(key)) throw new RuntimeError('NPL_LEASE_CONFLICT', `create Lease ${key}: HTTP 409 (already exists)`);
          return this.write(key, record);
        }),
      update: (record, resourceVersion) =>
        op('update', () => {
          const current = this.leases.get(key);
          if (!current || current.resourceVersion !== resourceVersion) {
            throw new RuntimeError('NPL_LEASE_CONFLICT', `update Lease ${key}: HTTP 409 (resourceVersion ${resourceVersion} is stale)`);
          }
          return this.write(key, record);
        }),
    };
  }

  /** The stored record, as `kubectl get lease` would show it. */
  record(key = 'default/npl-leader'): LeaseRecord | undefined {
    return this.read(key)?.record;
  }

  /** Overwrite the Lease as another writer would (e.g. a process that steals it). */
  put(record: LeaseRecord, key = 'default/npl-leader'): StoredLease {
    return this.write(key, record);
  }

  /** One line per Lease: `key holder=… duration=…s transitions=… rv=…`, sorted. */
  dump(): string {
    return [...this.leases]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, { record: r, resourceVersion }]) => `${k} holder=${r.holderIdentity || '-'} duration=${r.leaseDurationSeconds}s transitions=${r.leaseTransitions} rv=${resourceVersion}`)
      .join('\n');
  }

  private read(key: string): StoredLease | undefined {
    const l = this.leases.get(key);
    return l ? structuredClone(l) : undefined;
  }

  private write(key: string, record: LeaseRecord): StoredLease {
    const stored: StoredLease = { record: structuredClone(record), resourceVersion: String(++this.rv) };
    this.leases.set(key, stored);
    this.writes++;
    return structuredClone(stored);
  }
}

function run<T>(failure: Error | 'hang' | undefined, fn: () => T): Promise<T> {
  if (failure === 'hang') return new Promise<T>(() => undefined);
  if (failure) return Promise.reject(failure);
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
