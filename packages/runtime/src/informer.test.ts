import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { FakeClock, flushMicrotasks } from './clock.js';
import { ApiReachability } from './api-reachability.js';
import type { ListWatchSource } from './informer.js';
import { Informer } from './informer.js';
import { FakeListWatch, refusable, refusedError } from './testing/fake-list-watch.js';

function pod(name: string, label = 'a'): V1Pod {
  return { metadata: { namespace: 'default', name, labels: { l: label } } };
}

function setup(relistMs = 60_000) {
  const clock = new FakeClock();
  const source = new FakeListWatch<V1Pod>();
  const events: string[] = [];
  const errors: string[] = [];
  const informer = new Informer<V1Pod>({
    name: 'pods',
    source,
    clock,
    relistMs,
    backoff: { initialMs: 1_000, factor: 2, maxMs: 30_000 }, // the default without its jitter
    onError: (err, ctx) => errors.push(`${ctx}: ${(err as Error).message}`),
  });
  informer.on('add', (p) => events.push(`add ${p.metadata!.name}`));
  informer.on('update', (p, old) => events.push(`update ${p.metadata!.name} ${old.metadata!.labels!.l}->${p.metadata!.labels!.l}`));
  informer.on('delete', (p) => events.push(`delete ${p.metadata!.name}`));
  return { clock, source, events, errors, informer };
}

describe('Informer', () => {
  it('stop while a watch is being set up ends that watch once its handle arrives, and returns', async () => {
    const { source, informer } = setup();
    const release = source.holdWatchHandles();
    informer.start();
    await informer.synced();
    await flushMicrotasks();
    expect(source.openWatches()).toBe(1);
    let stopped = false;
    const stopping = informer.stop().then(() => (stopped = true));
    await flushMicrotasks();
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(source.openWatches()).toBe(0);
  });

  it('lists, reports synced, then follows the watch', async () => {
    const { source, events, informer } = setup();
    source.upsert(pod('p1'));
    informer.start();
    await informer.synced();
    expect(informer.hasSynced()).toBe(true);
    await flushMicrotasks();
    source.upsert(pod('p2'));
    source.upsert(pod('p1', 'b'));
    source.remove('default/p2');
    expect(events).toEqual(['add p1', 'add p2', 'update p1 a->b', 'delete p2']);
    expect(informer.list('default').map((p) => p.metadata!.name)).toEqual(['p1']);
    expect(informer.get('default/p1')?.metadata?.labels?.l).toBe('b');
    await informer.stop();
  });

  it('retries a failed list with backoff and reports the error', async () => {
    const { clock, source, errors, informer } = setup();
    source.failLists(2, new Error('connection refused'));
    informer.start();
    await flushMicrotasks();
    expect(informer.hasSynced()).toBe(false);
    await clock.advance(1_100);
    expect(informer.hasSynced()).toBe(false);
    await clock.advance(2_200);
    expect(informer.hasSynced()).toBe(true);
    expect(errors).toEqual(['pods: list/watch: connection refused', 'pods: list/watch: connection refused']);
    await informer.stop();
  });

  it('counts list/watch failures as one streak from the first failure until a list succeeds (readiness input)', async () => {
    const { clock, source, informer } = setup();
    informer.start();
    await flushMicrotasks();
    expect(informer.hasSynced()).toBe(true);
    expect(informer.failures.failingForMs()).toBe(0);
    source.failLists(3, new Error('connect ECONNREFUSED'));
    source.endWatches(new Error('socket hang up'));
    await flushMicrotasks();
    expect(informer.failures.error()).toBe('socket hang up');
    await clock.advance(1_100);
    expect(informer.failures.failingForMs()).toBe(1_100);
    expect(informer.failures.error()).toBe('connect ECONNREFUSED');
    await clock.advance(2_200 + 4_400);
    expect(informer.failures.failingForMs()).toBeGreaterThanOrEqual(7_000);
    await clock.advance(8_800);
    expect(informer.failures.failingForMs()).toBe(0);
    expect(source.lists).toBe(5);
    await informer.stop();
  });

  it('a hung API server (watches time out unanswered, lists unanswered) starts the failure streak; answering again ends it', async () => {
    const { clock, source, errors, informer } = setup();
    source.upsert(pod('p1'));
    informer.start();
    await flushMicrotasks();
    expect(informer.hasSynced()).toBe(true);
    source.hang();
    await flushMicrotasks();
    // The idle watch timed out (that alone is normal); the next watch was not even answered: a failure.
    expect(informer.failures.failingForMs()).toBe(0);
    expect(informer.failures.error()).toBe('pods: watch not answered (client timeout)');
    await clock.advance(1_100);
    const listsBefore = source.lists;
    expect(listsBefore).toBe(2);
    await clock.advance(60_000);
    expect(informer.failures.failingForMs()).toBeGreaterThanOrEqual(60_000);
    expect(informer.failures.error()).toBe('pods: list not answered within 60000 ms');
    expect(errors).toContain('pods: list/watch: pods: list not answered within 60000 ms');
    source.hang(false);
    await clock.advance(5_000);
    expect(informer.failures.failingForMs()).toBe(0);
    source.upsert(pod('p2'));
    await clock.advance(30_000);
    expect(informer.list().map((p) => p.metadata!.name).sort()).toEqual(['p1', 'p2']);
    await informer.stop();
  });

  it('an idle watch timing out after it was answered is re-watched, not counted as a failure', async () => {
    const { source, informer } = setup();
    informer.start();
    await flushMicrotasks();
    const lists = source.lists;
    source.endWatches(Object.assign(new Error('timeout'), { name: 'TimeoutError' }));
    await flushMicrotasks();
    expect(informer.failures.failingForMs()).toBe(0);
    expect(informer.failures.error()).toBeUndefined();
    expect(source.lists).toBe(lists);
    expect(source.openWatches()).toBe(1);
    await informer.stop();
  });

  it('relists after a watch error and emits the deletes it missed', async () => {
    const { clock, source, events, informer } = setup();
    source.upsert(pod('p1'));
    source.upsert(pod('p2'));
    informer.start();
    await informer.synced();
    await flushMicrotasks();
    source.stallWatches();
    source.remove('default/p1');
    source.upsert(pod('p2', 'z'));
    source.stallWatches(false);
    source.endWatches(new Error('stream reset'));
    await clock.advance(1_100);
    expect(events).toEqual(['add p1', 'add p2', 'delete p1', 'update p2 a->z']);
    await informer.stop();
  });

  it('relists at once on 410 Gone', async () => {
    const { source, informer } = setup();
    informer.start();
    await informer.synced();
    await flushMicrotasks();
    expect(source.lists).toBe(1);
    source.expireWatches();
    await flushMicrotasks();
    expect(source.lists).toBe(2);
    expect(source.openWatches()).toBe(1);
    await informer.stop();
  });

  it('backs off a streak of 410s that each come right after the list (no relist loop), and resets after a healthy watch', async () => {
    const { clock, source, informer } = setup();
    informer.start();
    await informer.synced();
    await flushMicrotasks();
    source.expireWatches();
    await flushMicrotasks();
    expect(source.lists).toBe(2); // the first at once
    source.expireWatches();
    await flushMicrotasks();
    expect(source.lists).toBe(2);
    await clock.advance(1_100);
    expect(source.lists).toBe(3); // then 1 s
    source.expireWatches();
    await clock.advance(1_100);
    expect(source.lists).toBe(3);
    await clock.advance(1_000);
    expect(source.lists).toBe(4); // then 2 s
    await clock.advance(10_000); // the watch stays up: the streak ends
    source.expireWatches();
    await flushMicrotasks();
    expect(source.lists).toBe(5); // at once again
    await informer.stop();
  });

  it('backs off a watch that fails right after every successful list: 1 s, 2 s, 4 s, not a list per second', async () => {
    const { clock, source, informer } = setup();
    informer.start();
    await informer.synced();
    await flushMicrotasks();
    const listsAfter = async (ms: number): Promise<number> => {
      source.endWatches(Object.assign(new Error('Internal Server Error'), { statusCode: 500 }));
      await clock.advance(ms);
      return source.lists;
    };
    expect(await listsAfter(1_100)).toBe(2);
    expect(await listsAfter(1_100)).toBe(2);
    expect(await listsAfter(1_000)).toBe(3);
    expect(await listsAfter(3_900)).toBe(3);
    expect(await listsAfter(200)).toBe(4);
    await informer.stop();
  });

  it('re-watches without relisting after a clean close', async () => {
    const { source, informer } = setup();
    informer.start();
    await informer.synced();
    await flushMicrotasks();
    source.endWatches();
    await flushMicrotasks();
    expect(source.lists).toBe(1);
    expect(source.watches).toBe(2);
    await informer.stop();
  });

  it('repairs a silently stalled watch at the periodic relist', async () => {
    const { clock, source, events, informer } = setup(60_000);
    informer.start();
    await informer.synced();
    await flushMicrotasks();
    source.stallWatches();
    source.upsert(pod('late'));
    expect(events).toEqual([]);
    await clock.advance(60_000);
    expect(events).toEqual(['add late']);
    expect(informer.relists).toBe(2);
    await informer.stop();
  });

  it('keeps going when a handler throws', async () => {
    const { source, errors, events, informer } = setup();
    informer.on('add', () => {
      throw new Error('handler bug');
    });
    informer.start();
    await informer.synced();
    await flushMicrotasks();
    source.upsert(pod('p1'));
    source.upsert(pod('p2'));
    expect(events).toEqual(['add p1', 'add p2']);
    expect(errors).toEqual(['pods: add handler: handler bug', 'pods: add handler: handler bug']);
    await informer.stop();
  });

  it('with a shared reachability, all informers relist within seconds of the API server coming back, not after their 30 s backoff', async () => {
    const clock = new FakeClock();
    let down = false;
    const fakes = [0, 1, 2, 3].map(() => new FakeListWatch<V1Pod>());
    // The API server as seen through the network: while down every list and watch is refused.
    const reachable = (fake: FakeListWatch<V1Pod>): ListWatchSource<V1Pod> => refusable(fake, () => down);
    const reach = new ApiReachability({ probe: () => Promise.resolve(!down), clock, random: () => 0.5 });
    const backoff = { initialMs: 1_000, factor: 2, maxMs: 30_000 };
    const informers = fakes.map(
      (fake, i) =>
        // The last one does not share the reachability: the behaviour before (client-go's backoff alone).
        new Informer<V1Pod>({ name: `i${i}`, source: reachable(fake), clock, backoff, ...(i < 3 ? { reachability: reach } : {}) }),
    );
    for (const i of informers) i.start();
    await flushMicrotasks();
    expect(informers.every((i) => i.hasSynced())).toBe(true);
    down = true;
    for (const fake of fakes) fake.endWatches(refusedError());
    await clock.advance(110_000); // backoffs at their 30 s cap (the last retry at 91 s, the next at 121 s)
    expect(reach.state).toBe('unreachable');
    expect(informers.every((i) => i.failures.failingForMs() > 0)).toBe(true);
    const listsBefore = fakes.map((f) => f.lists);
    down = false;
    fakes[0]!.upsert(pod('p-new'));
    // The next probe (<= 3 s) sees the recovery; each informer relists after its wake delay (<= 1 s).
    await clock.advance(4_000);
    expect(reach.recoveries).toBe(1);
    expect(informers.slice(0, 3).map((i) => i.failures.failingForMs())).toEqual([0, 0, 0]);
    expect(fakes.slice(0, 3).map((f, n) => f.lists - listsBefore[n]!)).toEqual([1, 1, 1]);
    expect(informers[0]!.get('default/p-new')).toBeDefined();
    // Without the shared signal the informer is still waiting out its backoff.
    expect(informers[3]!.failures.failingForMs()).toBeGreaterThan(0);
    await clock.advance(30_000);
    expect(informers[3]!.failures.failingForMs()).toBe(0);
    await Promise.all(informers.map((i) => i.stop()));
    await reach.stop();
  });

  it('with a shared reachability, errors the API server answered (HTTP status) keep the backoff and start no probe', async () => {
    const clock = new FakeClock();
    const source = new FakeListWatch<V1Pod>();
    let probes = 0;
    const reach = new ApiReachability({ probe: () => (probes++, Promise.resolve(true)), clock, random: () => 0.5 });
    const informer = new Informer<V1Pod>({ name: 'pods', source, clock, backoff: { initialMs: 1_000, factor: 2, maxMs: 30_000 }, reachability: reach });
    source.failLists(3, Object.assign(new Error('Forbidden'), { code: 403 }));
    informer.start();
    await clock.advance(1_000 + 2_000 + 3_999);
    expect([informer.hasSynced(), probes, reach.state]).toEqual([false, 0, 'reachable']);
    await clock.advance(1);
    expect(informer.hasSynced()).toBe(true);
    await informer.stop();
  });
});
