/**
 * The controller's ClusterCache through an API server outage: its three informers share one
 * reachability, keep every object they hold while nothing answers, relist within seconds of the
 * recovery (not after their 30 s backoff), and `stop()` ends the probe.
 */
import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject, V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { ApiReachability, FakeClock, flushMicrotasks } from '@npl/runtime';
import { FakeListWatch, refusable, refusedError } from '@npl/runtime/testing';
import { endpointSlice, pod, service } from '../testing/objects.js';
import { ClusterCache } from './cache.js';

const BACKOFF = { initialMs: 1_000, factor: 2, maxMs: 30_000 }; // the default without its jitter

/** Services, Pods and EndpointSlices behind an API server that can go down; `shared`: the informers share a reachability probe. */
function outageWorld(shared = true) {
  const clock = new FakeClock();
  const state = { down: false, probes: 0, changes: 0 };
  const down = (): boolean => state.down;
  const fakes = { services: new FakeListWatch<V1Service>(), pods: new FakeListWatch<V1Pod>(), endpointSlices: new FakeListWatch<V1EndpointSlice>() };
  fakes.services.upsert(service('web'));
  fakes.pods.upsert(pod('web-1', { mappings: [{ podPort: 8080, nodeIP: '192.0.2.11', nodePort: 61001 }] }));
  fakes.endpointSlices.upsert(endpointSlice('web', [{ pod: 'web-1', ready: true }]));
  const reachability = new ApiReachability({ probe: () => (state.probes++, Promise.resolve(!state.down)), clock, random: () => 0.5 });
  const cache = new ClusterCache({
    sources: { services: refusable(fakes.services, down), pods: refusable(fakes.pods, down), endpointSlices: refusable(fakes.endpointSlices, down) },
    clock, backoff: BACKOFF, ...(shared ? { reachability } : {}),
    onChange: () => state.changes++,
  });
  const endWatches = (): void => {
    const err = refusedError('ECONNRESET');
    fakes.services.endWatches(err);
    fakes.pods.endWatches(err);
    fakes.endpointSlices.endWatches(err);
  };
  return { clock, state, fakes, reachability, cache, endWatches };
}

const names = (objs: readonly KubernetesObject[]): string[] => objs.map((o) => o.metadata?.name ?? '').sort();

describe('ClusterCache during an API server outage', () => {
  it('keeps every object while nothing answers, and every informer relists within seconds of the recovery', async () => {
    const { clock, state, fakes, reachability, cache, endWatches } = outageWorld();
    cache.start();
    await cache.synced();
    const before = cache.snapshot();
    expect([names(before.services), names(before.pods), names(before.endpointSlices)]).toEqual([['web'], ['web-1'], ['web-a']]);

    state.down = true;
    endWatches();
    await clock.advance(110_000); // every backoff at its 30 s cap (retries at 1, 3, 7, 15, 31, 61, 91 s; the next at 121 s)
    expect(reachability.state).toBe('unreachable');
    expect(state.probes).toBeGreaterThan(10);
    // Nothing lost: the desired state (and so the BIG-IP pools) stay as they were.
    expect(cache.snapshot()).toEqual(before);
    expect(cache.hasSynced()).toBe(true);

    const lists = [fakes.services.lists, fakes.pods.lists, fakes.endpointSlices.lists];
    const changes = state.changes;
    state.down = false;
    fakes.pods.upsert(pod('web-2', { mappings: [{ podPort: 8080, nodeIP: '192.0.2.12', nodePort: 61002 }] }));
    // The next probe (<= 3 s) sees the recovery; each informer relists after its wake delay (<= 1 s),
    // 7 s before the earliest backoff would have ended.
    await clock.advance(4_000);
    expect(reachability.recoveries).toBe(1);
    expect([fakes.services.lists, fakes.pods.lists, fakes.endpointSlices.lists].map((n, i) => n - lists[i]!)).toEqual([1, 1, 1]);
    expect([cache.services, cache.pods, cache.endpointSlices].map((i) => i.failures.failingForMs())).toEqual([0, 0, 0]);
    expect(names(cache.snapshot().pods)).toEqual(['web-1', 'web-2']);
    expect(state.changes).toBeGreaterThan(changes);
    await cache.stop();
  });

  it('without the shared reachability the informers wait out their backoff (what the probe saves)', async () => {
    const { clock, state, fakes, cache, endWatches } = outageWorld(false);
    cache.start();
    await cache.synced();
    state.down = true;
    endWatches();
    await clock.advance(110_000);
    const lists = fakes.pods.lists;
    state.down = false;
    await clock.advance(4_000);
    expect(fakes.pods.lists - lists).toBe(0);
    expect(cache.pods.failures.failingForMs()).toBeGreaterThan(0);
    await clock.advance(7_000); // the retry at 121 s
    expect(fakes.pods.lists - lists).toBe(1);
    expect(cache.pods.failures.failingForMs()).toBe(0);
    await cache.stop();
  });

  it('stop() also ends the probe: no request to the API server after it', async () => {
    const { clock, state, reachability, cache, endWatches } = outageWorld();
    cache.start();
    await cache.synced();
    state.down = true;
    endWatches();
    await clock.advance(10_000);
    expect(reachability.state).toBe('unreachable');
    await cache.stop();
    const probes = state.probes;
    reachability.unanswered();
    await clock.advance(60_000);
    await flushMicrotasks();
    expect(state.probes).toBe(probes);
  });
});
