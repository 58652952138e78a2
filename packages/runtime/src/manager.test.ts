import { describe, expect, it } from '@jest/globals';
import { FakeClock, flushMicrotasks } from './clock.js';
import type { RuntimeError } from './errors.js';
import { isRuntimeError } from './errors.js';
import { exitOnLeadershipLost, Manager } from './manager.js';
import { createLogger } from './logger.js';
import { FakeLeaderGate, ManagerHarness, testRunnable } from './testing/manager-harness.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

function controllerLike(h: ManagerHarness): ManagerHarness {
  return h.add(
    testRunnable('workers', { needsLeadership: true }),
    testRunnable('resync-loop', { needsLeadership: true }),
    testRunnable('status-loop'),
    testRunnable('informers', { group: 'caches' }),
    testRunnable('health', { group: 'servers' }),
  );
}

describe('Manager start order', () => {
  it('starts servers, caches, others, then the leader gate and the runnables that need leadership; stops in reverse', async () => {
    const h = controllerLike(new ManagerHarness());
    expect(h.manager.startOrder()).toEqual(['health', 'informers', 'status-loop', 'leader-election', 'workers', 'resync-loop']);
    const started = h.manager.start();
    await h.manager.whenStarted('status-loop');
    await flushMicrotasks();
    expect(h.manager.startedNames()).toEqual(['health', 'informers', 'status-loop']);
    expect(h.events).not.toContain('start workers');
    h.gate.grant();
    await started;
    expect(h.events).toEqual(['health', 'informers', 'status-loop', 'workers', 'resync-loop'].flatMap((n) => [`start ${n}`, `started ${n}`]));
    h.events.length = 0;
    await h.manager.stop();
    expect(h.events).toEqual(['resync-loop', 'workers', 'status-loop', 'informers', 'health'].flatMap((n) => [`stop ${n}`, `stopped ${n}`]));
    expect(h.gate.released).toBe(true);
  });

  it('has no leader gate when no runnable needs leadership (a DaemonSet)', async () => {
    const h = new ManagerHarness().add(testRunnable('health', { group: 'servers' }), testRunnable('workers'));
    expect(h.manager.startOrder()).toEqual(['health', 'workers']);
    await h.manager.start();
    await h.manager.stop();
    expect(h.gate.released).toBe(false);
  });

  it('logs every step with the runnable name', async () => {
    const h = new ManagerHarness().add(testRunnable('health', { group: 'servers' }));
    await h.manager.start();
    await h.manager.stop();
    expect(h.messages('health')).toEqual(['Starting runnable', 'Runnable started', 'Stopping runnable', 'Runnable stopped']);
    expect(h.messages()).toContain('Manager stopped');
  });
});

describe('Manager start failure', () => {
  it('stops what began, in reverse, and rejects with NPL_RUNNABLE_START_FAILED naming the runnable', async () => {
    const h = new ManagerHarness().add(
      testRunnable('health', { group: 'servers' }),
      testRunnable('restore', { fail: new Error('dataplane unavailable') }),
      testRunnable('workers'),
    );
    const err = await rejection(h.manager.start());
    expect(isRuntimeError(err, 'NPL_RUNNABLE_START_FAILED')).toBe(true);
    expect((err as Error).message).toBe('runnable restore failed to start: dataplane unavailable');
    expect((err as RuntimeError).cause).toEqual(new Error('dataplane unavailable'));
    expect(h.events).toEqual(['start health', 'started health', 'start restore', 'start-failed restore', 'stop restore', 'stopped restore', 'stop health', 'stopped health']);
    await expect(h.manager.whenStarted('workers')).rejects.toBe(err);
  });

  it('refuses runnables that need leadership without a leader gate, and duplicate names', async () => {
    const m = new Manager({ logger: createLogger({ name: 't', level: 'silent' }) }).add(testRunnable('workers', { needsLeadership: true }));
    const err = await rejection(m.start());
    expect(isRuntimeError(err, 'NPL_RUNNABLE_INVALID')).toBe(true);
    expect((err as Error).message).toContain('workers need leadership');
    expect(() => new ManagerHarness().add(testRunnable('a'), testRunnable('a'))).toThrow('runnable a: the name is already used in this manager');
    expect(() => new ManagerHarness().add(testRunnable('leader-election'))).toThrow('already used');
    await expect(new ManagerHarness().manager.whenStarted('nope')).rejects.toThrow('runnable nope: no such runnable');
  });

  it('refuses runnables added after start', async () => {
    const h = new ManagerHarness().add(testRunnable('a'));
    await h.manager.start();
    expect(() => h.manager.add(testRunnable('b'))).toThrow('cannot be added after the manager started');
  });
});

describe('Manager stop', () => {
  it('stopped while a runnable is starting: aborts it, stops what began, and start rejects with NPL_MANAGER_STOPPED', async () => {
    const never = deferred();
    const h = new ManagerHarness().add(testRunnable('health', { group: 'servers' }), testRunnable('informers', { group: 'caches', ready: never.promise }), testRunnable('workers'));
    const started = h.manager.start();
    await h.manager.whenStarted('health');
    await flushMicrotasks();
    expect(h.events.at(-1)).toBe('start informers');
    await h.manager.stop();
    const err = await rejection(started);
    expect(isRuntimeError(err, 'NPL_MANAGER_STOPPED')).toBe(true);
    expect(h.events).toEqual(['start health', 'started health', 'start informers', 'start-failed informers', 'stop informers', 'stopped informers', 'stop health', 'stopped health']);
  });

  it('is idempotent: a second stop returns the same promise and stops nothing twice', async () => {
    const h = new ManagerHarness().add(testRunnable('a'), testRunnable('b'));
    await h.manager.start();
    const first = h.manager.stop();
    expect(h.manager.stop()).toBe(first);
    await first;
    await h.manager.stop();
    expect(h.events.filter((e) => e.startsWith('stop '))).toEqual(['stop b', 'stop a']);
  });

  it('bounds each stop by the timeout, still stops the rest, and rejects naming the one that hung', async () => {
    const clock = new FakeClock();
    const h = new ManagerHarness({ clock, stopTimeoutMs: 5_000 }).add(
      testRunnable('health', { group: 'servers' }),
      testRunnable('stuck', { stop: () => new Promise<void>(() => undefined) }),
      testRunnable('failing', { stop: () => Promise.reject(new Error('close failed')) }),
    );
    await h.manager.start();
    const stopped = h.manager.stop();
    const outcome = rejection(stopped);
    await clock.advance(4_999);
    expect(h.events).not.toContain('stop health');
    await clock.advance(1);
    const err = await outcome;
    expect(isRuntimeError(err, 'NPL_RUNNABLE_STOP_FAILED')).toBe(true);
    expect((err as Error).message).toBe('runnables did not stop cleanly: failing (failed: close failed), stuck (timed out after 5000 ms)');
    expect(h.events).toContain('stopped health');
    expect(h.messages('stuck')).toContain('Runnable did not stop within its timeout');
    expect(h.messages('failing')).toContain('Runnable failed to stop');
  });
});

describe('Manager leadership loss', () => {
  it('by default stops every runnable when leadership is lost', async () => {
    const h = controllerLike(new ManagerHarness({ gate: new FakeLeaderGate(true) }));
    await h.manager.start();
    h.gate.revoke(new Error('lease taken'));
    await h.manager.stop();
    expect(h.events.filter((e) => e.startsWith('stopped '))).toEqual(['resync-loop', 'workers', 'status-loop', 'informers', 'health'].map((n) => `stopped ${n}`));
    expect(h.logs.some((l) => l.msg === 'Leadership lost' && l.err === 'lease taken')).toBe(true);
  });

  it('calls onLeadershipLost instead when given (the CLI exits non-zero there)', async () => {
    const lost: Error[] = [];
    const h = controllerLike(new ManagerHarness({ gate: new FakeLeaderGate(true), onLeadershipLost: (e) => lost.push(e) }));
    await h.manager.start();
    h.gate.revoke(new Error('lease taken'));
    await flushMicrotasks();
    expect(lost.map((e) => e.message)).toEqual(['lease taken']);
    expect(h.events.some((e) => e.startsWith('stop '))).toBe(false);
    await h.manager.stop();
  });

  it('exitOnLeadershipLost logs and exits with code 1', () => {
    const codes: number[] = [];
    exitOnLeadershipLost(createLogger({ name: 't', level: 'silent' }), (c) => codes.push(c))(new Error('lost'));
    expect(codes).toEqual([1]);
  });
});
