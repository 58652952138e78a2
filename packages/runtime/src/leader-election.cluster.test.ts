/**
 * Leader election against the local cluster's real API server (one node is enough): the real
 * `kubeLeaseClient`, real resourceVersion conflicts, real time with short durations (lease 4 s,
 * renew deadline 3 s, retry 0.5 s). Needs root (the local cluster); run under the machine lock.
 * `@npl/cluster/testing` resolves through the workspace mapping (tsconfig paths, Jest's
 * moduleNameMapper), not a package.json dependency: @npl/cluster already depends on @npl/runtime and
 * Turborepo refuses the cycle.
 */
import { afterEach, expect, it } from '@jest/globals';
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { describeWithCluster } from '@npl/cluster/testing';
import { isRuntimeError } from './errors.js';
import type { LeaseClient } from './lease.js';
import { kubeLeaseClient } from './lease.js';
import { LeaderElector } from './leader-election.js';
import { createLogger } from './logger.js';
import { eventually } from './poll.js';

const T = 120_000;
const NS = 'default';
const DURATIONS = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 };
/** A candidate retries every retryPeriod × (1 + 1.2 × random): at most 1.1 s here. */
const MAX_RETRY_MS = 1_100;
const logger = createLogger({ name: 'le-cluster-test', level: process.env.NPL_LOG_LEVEL === 'debug' ? 'debug' : 'silent' });

interface Candidate {
  readonly id: string;
  readonly elector: LeaderElector;
  readonly lost: Error[];
  readonly acquired: Promise<void>;
  /** While true, this candidate's Lease calls fail as if the network to the API server were cut. */
  partitioned: boolean;
}

describeWithCluster('LeaderElector against a real API server', { name: 'nplleader', nodes: 1 }, (get) => {
  const electors: LeaderElector[] = [];
  afterEach(async () => {
    for (const e of electors.splice(0)) await e.release();
  });

  function candidate(lease: string, id: string): Candidate {
    const real = kubeLeaseClient(get().kubeConfig, NS, lease);
    const c: Candidate = { id, elector: undefined as unknown as LeaderElector, lost: [], acquired: Promise.resolve(), partitioned: false };
    const cut = (): Promise<never> => Promise.reject(new Error(`${id}: connection refused (partitioned by the test)`));
    const client: LeaseClient = {
      description: real.description,
      get: () => (c.partitioned ? cut() : real.get()),
      create: (r) => (c.partitioned ? cut() : real.create(r)),
      update: (r, rv) => (c.partitioned ? cut() : real.update(r, rv)),
    };
    const elector = new LeaderElector({ lease: client, identity: id, logger, ...DURATIONS });
    electors.push(elector);
    const acquired = elector.acquire(new AbortController().signal, (err) => c.lost.push(err));
    acquired.catch(() => undefined);
    return Object.assign(c, { elector, acquired });
  }

  const readLease = (name: string) => get().kubeConfig.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: NS, name });

  it('two electors: one wins and renews; the holder releases on stop and the other takes over within leaseDuration', async () => {
    const a = candidate('le-release', 'elector-a');
    const b = candidate('le-release', 'elector-b');
    await Promise.race([a.acquired, b.acquired]);
    const [winner, other] = a.elector.isLeader() ? [a, b] : [b, a];
    expect(other.elector.isLeader()).toBe(false);
    const first = await readLease('le-release');
    expect(first.spec).toMatchObject({ holderIdentity: winner.id, leaseDurationSeconds: 4 });
    // Renewals are real writes: the resourceVersion moves while the holder stays.
    await eventually(async () => (await readLease('le-release')).metadata?.resourceVersion !== first.metadata?.resourceVersion, 10_000, 'a renewal', 100);
    expect((await readLease('le-release')).spec?.holderIdentity).toBe(winner.id);
    expect(other.elector.isLeader()).toBe(false);

    const released = Date.now();
    await winner.elector.release();
    const after = await readLease('le-release');
    expect(after.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    await eventually(() => Promise.resolve(other.elector.isLeader()), DURATIONS.leaseDurationMs, 'takeover after release', 50);
    expect(Date.now() - released).toBeLessThan(DURATIONS.leaseDurationMs);
    const taken = await readLease('le-release');
    expect(taken.spec?.holderIdentity).toBe(other.id);
    expect(taken.spec?.leaseTransitions).toBe((first.spec?.leaseTransitions ?? 0) + 1);
    expect(winner.lost).toEqual([]);
  }, T);

  it('a holder cut off from the API server loses leadership after renewDeadline; the other takes over after leaseDuration', async () => {
    const a = candidate('le-partition', 'elector-a');
    await a.acquired;
    const b = candidate('le-partition', 'elector-b');
    await new Promise((r) => setImmediate(r));
    a.partitioned = true;
    const cut = Date.now();
    await eventually(() => Promise.resolve(a.lost.length > 0), DURATIONS.renewDeadlineMs + DURATIONS.retryPeriodMs + 1_000, 'a gives up', 50);
    expect(isRuntimeError(a.lost[0], 'NPL_LEADERSHIP_LOST')).toBe(true);
    expect(a.elector.isLeader()).toBe(false);
    await b.acquired;
    // b may take it only once a's last renewal is leaseDuration old on b's clock.
    expect(Date.now() - cut).toBeGreaterThanOrEqual(DURATIONS.leaseDurationMs - DURATIONS.retryPeriodMs);
    expect((await readLease('le-partition')).spec?.holderIdentity).toBe('elector-b');
  }, T);

  it('a Lease taken over by another holder is detected at the next renewal and leadership is lost', async () => {
    const a = candidate('le-stolen', 'elector-a');
    await a.acquired;
    const api = get().kubeConfig.makeApiClient(CoordinationV1Api);
    const current = await readLease('le-stolen');
    const now = new V1MicroTime(new Date().toISOString());
    await api.replaceNamespacedLease({
      namespace: NS,
      name: 'le-stolen',
      body: { metadata: { name: 'le-stolen', namespace: NS, resourceVersion: current.metadata?.resourceVersion }, spec: { ...current.spec, holderIdentity: 'intruder', renewTime: now, acquireTime: now } },
    }).catch(async () => {
      // Lost the race with a's renewal (409): steal with the fresh resourceVersion.
      const fresh = await readLease('le-stolen');
      await api.replaceNamespacedLease({ namespace: NS, name: 'le-stolen', body: { ...fresh, spec: { ...fresh.spec, holderIdentity: 'intruder', renewTime: now } } });
    });
    await eventually(() => Promise.resolve(a.lost.length > 0), DURATIONS.retryPeriodMs + MAX_RETRY_MS + 1_000, 'loss detected', 50);
    expect(a.lost[0]!.message).toBe('leadership lost: Lease default/le-stolen is now held by intruder');
    expect((await readLease('le-stolen')).spec?.holderIdentity).toBe('intruder');
  }, T);

  it('the real Lease client: absent is undefined, create of an existing Lease and a stale update are NPL_LEASE_CONFLICT', async () => {
    const client = kubeLeaseClient(get().kubeConfig, NS, 'le-client');
    expect(await client.get()).toBeUndefined();
    const record = { holderIdentity: 'x', leaseDurationSeconds: 15, leaseTransitions: 0, acquireTime: '2026-12-01T12:00:00.123Z', renewTime: '2026-12-01T12:00:00.123Z' };
    const created = await client.create(record);
    expect(created.record).toEqual({ ...record, acquireTime: '2026-12-01T12:00:00.123Z', renewTime: '2026-12-01T12:00:00.123Z' });
    await expect(client.create(record)).rejects.toMatchObject({ code: 'NPL_LEASE_CONFLICT' });
    const updated = await client.update({ ...record, holderIdentity: 'y' }, created.resourceVersion);
    expect(updated.record.holderIdentity).toBe('y');
    await expect(client.update({ ...record, holderIdentity: 'z' }, created.resourceVersion)).rejects.toMatchObject({ code: 'NPL_LEASE_CONFLICT' });
    expect((await client.get())?.record.holderIdentity).toBe('y');
  }, T);
});
