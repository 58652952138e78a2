import { describe, expect, it } from '@jest/globals';
import { ApiReachability } from './api-reachability.js';
import { FakeClock, flushMicrotasks } from './clock.js';

/** A stand-in API server for the probe: up or down, or hung (a probe never answered). */
class ProbeTarget {
  mode: 'up' | 'down' | 'hung' = 'down';
  probes = 0;
  readonly probe = (signal: AbortSignal): Promise<boolean> => {
    this.probes++;
    if (this.mode === 'hung') return new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    return Promise.resolve(this.mode === 'up');
  };
}

/** random() always 0.5: probes every 2.5 s (2 s + half of 50 %), waits woken 500 ms after a recovery. */
function setup() {
  const clock = new FakeClock();
  const target = new ProbeTarget();
  const changes: string[] = [];
  const reach = new ApiReachability({ probe: target.probe, clock, random: () => 0.5, onChange: (s, p) => changes.push(`${p}->${s}`) });
  return { clock, target, changes, reach };
}

/** When (clock time) `p` settled, or undefined while pending. */
function settledAt(clock: FakeClock, p: Promise<unknown>): { at?: number } {
  const out: { at?: number } = {};
  p.then(
    () => (out.at = clock.now()),
    () => (out.at = -clock.now()),
  );
  return out;
}

describe('ApiReachability', () => {
  it('an unanswered request starts probing; a failed probe then a successful one is a recovery that ends the waits early', async () => {
    const { clock, target, changes, reach } = setup();
    reach.unanswered();
    const waited = settledAt(clock, reach.wait(30_000, reach.recoveries));
    await clock.advance(2_500);
    expect([target.probes, reach.state]).toEqual([1, 'unreachable']);
    await clock.advance(5_000);
    expect([target.probes, reach.state]).toEqual([3, 'unreachable']);
    target.mode = 'up';
    await clock.advance(2_500);
    expect([target.probes, reach.state, reach.recoveries]).toEqual([4, 'reachable', 1]);
    expect(waited.at).toBeUndefined();
    await clock.advance(500);
    expect(waited.at).toBe(10_500);
    // Reachable: probing has stopped.
    await clock.advance(60_000);
    expect(target.probes).toBe(4);
    expect(changes).toEqual(['reachable->suspect', 'suspect->unreachable', 'unreachable->reachable']);
  });

  it('a first probe that succeeds is no recovery: the API server was answering, backoffs keep their length', async () => {
    const { clock, target, changes, reach } = setup();
    target.mode = 'up';
    reach.unanswered();
    const waited = settledAt(clock, reach.wait(30_000, reach.recoveries));
    await clock.advance(29_999);
    expect([target.probes, reach.state, reach.recoveries, waited.at]).toEqual([1, 'reachable', 0, undefined]);
    await clock.advance(1);
    expect(waited.at).toBe(30_000);
    expect(changes).toEqual(['reachable->suspect', 'suspect->reachable']);
  });

  it('level-based: a recovery between the request and the wait ends the wait after the jitter alone', async () => {
    const { clock, reach } = setup();
    const before = reach.recoveries;
    reach.unanswered();
    await clock.advance(2_500);
    reach.answered(); // another informer's list succeeded
    expect(reach.recoveries).toBe(before + 1);
    const waited = settledAt(clock, reach.wait(30_000, before));
    await clock.advance(500);
    expect(waited.at).toBe(3_000);
  });

  it("a caller's success after a failed probe is a recovery for every waiter, each woken after its own random delay", async () => {
    const clock = new FakeClock();
    const target = new ProbeTarget();
    const draws = [0, 0, 0.1, 0.5, 0.9]; // two probe intervals' draws, then one per woken waiter
    const reach = new ApiReachability({ probe: target.probe, clock, random: () => draws.shift() ?? 0 });
    reach.unanswered();
    const waits = [settledAt(clock, reach.wait(30_000, 0)), settledAt(clock, reach.wait(30_000, 0)), settledAt(clock, reach.wait(30_000, 0))];
    await clock.advance(2_000);
    expect(reach.state).toBe('unreachable');
    reach.answered();
    await clock.advance(1_000);
    expect(waits.map((w) => w.at)).toEqual([2_100, 2_500, 2_900]);
  });

  it('a hung probe fails after probeTimeoutMs, and a wake never ends a wait later than its own time', async () => {
    const { clock, target, reach } = setup();
    target.mode = 'hung';
    reach.unanswered();
    const waited = settledAt(clock, reach.wait(10_200, 0));
    await clock.advance(2_500 + 5_000);
    expect([target.probes, reach.state]).toEqual([1, 'unreachable']);
    target.mode = 'up';
    await clock.advance(2_500);
    expect([target.probes, reach.state, waited.at]).toEqual([2, 'reachable', undefined]);
    await clock.advance(1_000);
    expect(waited.at).toBe(10_200);
  });

  it('stop ends probing; an aborted wait rejects with the signal reason', async () => {
    const { clock, target, reach } = setup();
    reach.unanswered();
    await clock.advance(2_500);
    await reach.stop();
    await clock.advance(60_000);
    expect(target.probes).toBe(1);
    reach.unanswered();
    await flushMicrotasks();
    expect(target.probes).toBe(1);
    const ac = new AbortController();
    const waited = reach.wait(30_000, reach.recoveries, ac.signal);
    ac.abort(new Error('informer stopped'));
    await expect(waited).rejects.toThrow('informer stopped');
  });
});
