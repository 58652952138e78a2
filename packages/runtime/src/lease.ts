/**
 * The one side effect of leader election: reading and writing a `coordination.k8s.io/v1` Lease with
 * optimistic concurrency. `kubeLeaseClient` is the real one; tests use `FakeLeaseStore` (testing/).
 */
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import { ApiException, CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { RuntimeError } from './errors.js';

/** A Lease's spec as leader election uses it (client-go's LeaderElectionRecord). */
export interface LeaseRecord {
  /** '' when nobody holds the Lease (after a release). */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  /** RFC 3339 wall-clock times, for people (`kubectl get lease -o yaml`); electors never compare them. */
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions: number;
}

export interface StoredLease {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
}

export interface LeaseClient {
  /** `namespace/name`, for logs and errors. */
  readonly description: string;
  /** The Lease, or undefined when it does not exist. Other failures: NPL_LEASE_REQUEST_FAILED. */
  get(): Promise<StoredLease | undefined>;
  /** Creates the Lease. NPL_LEASE_CONFLICT when it already exists; else NPL_LEASE_REQUEST_FAILED. */
  create(record: LeaseRecord): Promise<StoredLease>;
  /**
   * Replaces the Lease's spec if its resourceVersion is still `resourceVersion`. NPL_LEASE_CONFLICT
   * when it changed (HTTP 409) or is gone; else NPL_LEASE_REQUEST_FAILED.
   */
  update(record: LeaseRecord, resourceVersion: string): Promise<StoredLease>;
}

/** A Lease time as an RFC 3339 string with milliseconds (the API server sends microseconds). */
function iso(t: unknown): string | undefined {
  if (!(t instanceof Date) && typeof t !== 'string') return undefined;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function fromLease(lease: V1Lease): StoredLease {
  const s = lease.spec ?? {};
  const record: LeaseRecord = {
    holderIdentity: s.holderIdentity ?? '',
    leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
    leaseTransitions: s.leaseTransitions ?? 0,
    ...(iso(s.acquireTime) !== undefined ? { acquireTime: iso(s.acquireTime) } : {}),
    ...(iso(s.renewTime) !== undefined ? { renewTime: iso(s.renewTime) } : {}),
  };
  return { record, resourceVersion: lease.metadata?.resourceVersion ?? '' };
}

function toSpec(record: LeaseRecord): V1Lease['spec'] {
  // MicroTime must carry six fractional digits: the API server rejects a plain Date's three.
  const micro = (t: string | undefined): V1MicroTime | undefined => (t === undefined ? undefined : new V1MicroTime(t));
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
    acquireTime: micro(record.acquireTime),
    renewTime: micro(record.renewTime),
  };
}

function statusOf(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

function requestError(what: string, err: unknown): RuntimeError {
  const status = statusOf(err);
  const code = status === 409 || status === 404 ? 'NPL_LEASE_CONFLICT' : 'NPL_LEASE_REQUEST_FAILED';
  const detail = status !== undefined ? `HTTP ${status}` : err instanceof Error ? err.message : String(err);
  return new RuntimeError(code, `${what}: ${detail}`, { cause: err });
}

/** The Lease `namespace/name` through the API server (the Lease is created on first acquire). */
export function kubeLeaseClient(kc: KubeConfig, namespace: string, name: string): LeaseClient {
  const api = kc.makeApiClient(CoordinationV1Api);
  const description = `${namespace}/${name}`;
  return {
    description,
    async get() {
      try {
        return fromLease(await api.readNamespacedLease({ namespace, name }));
      } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw requestError(`get Lease ${description}`, err);
      }
    },
    async create(record) {
      try {
        return fromLease(await api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: toSpec(record) } }));
      } catch (err) {
        throw requestError(`create Lease ${description}`, err);
      }
    },
    async update(record, resourceVersion) {
      try {
        const body: V1Lease = { metadata: { name, namespace, resourceVersion }, spec: toSpec(record) };
        return fromLease(await api.replaceNamespacedLease({ namespace, name, body }));
      } catch (err) {
        throw requestError(`update Lease ${description}`, err);
      }
    },
  };
}
