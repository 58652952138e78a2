import { describe, expect, it } from '@jest/globals';
import type { CoreV1Event, V1ObjectReference } from '@kubernetes/client-node';
import { HttpMethod, RequestContext } from '@kubernetes/client-node';
import { FakeClock, flushMicrotasks } from './clock.js';
import { eventually } from './poll.js';
import type { ApiEventRecorderOptions } from './events.js';
import { ApiEventRecorder } from './events.js';

/**
 * Keeps the Events created, in order; fails the next create when told to. While `hung` (a stopped API
 * server) a create is never answered: it ends only when the signal the call's middleware puts on the
 * request aborts, as client-node's fetch does.
 */
class EventSink {
  readonly created: { namespace: string; body: CoreV1Event }[] = [];
  failNext: Error | undefined;
  hung = false;
  readonly core: ApiEventRecorderOptions['core'] = {
    createNamespacedEvent: (param, options) => {
      const err = this.failNext;
      this.failNext = undefined;
      if (err) return Promise.reject(err);
      if (this.hung) return unanswered(options);
      this.created.push(param);
      return Promise.resolve(param.body);
    },
  };
  lines(): string[] {
    return this.created.map(({ namespace, body: b }) => `${namespace} ${b.involvedObject.name} ${b.type} ${b.reason}: ${b.message} (${b.reportingInstance})`);
  }
}

async function unanswered(options: Parameters<ApiEventRecorderOptions['core']['createNamespacedEvent']>[1]): Promise<never> {
  let ctx = new RequestContext('https://api.test/api/v1/namespaces/prod/events', HttpMethod.POST);
  for (const m of (options?.middleware ?? []) as { pre(c: RequestContext): { toPromise(): Promise<RequestContext> } }[]) ctx = await m.pre(ctx).toPromise();
  const signal = ctx.getSignal();
  return new Promise<never>((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error)));
}

const pod: V1ObjectReference = { kind: 'Pod', apiVersion: 'v1', namespace: 'prod', name: 'web-0', uid: 'u1' };

describe('ApiEventRecorder', () => {
  it('sends an identical Event at most once per dedupe interval, distinct ones always', async () => {
    const sink = new EventSink();
    const clock = new FakeClock();
    const rec = new ApiEventRecorder({ core: sink.core, component: 'npl-test', host: 'node-a', clock, dedupeMs: 1000 });
    rec.record(pod, 'Warning', 'Reason', 'first');
    rec.record(pod, 'Warning', 'Reason', 'first');
    rec.record(pod, 'Warning', 'Reason', 'second');
    await clock.advance(1000);
    rec.record(pod, 'Warning', 'Reason', 'first');
    rec.record({ kind: 'Service', name: 'svc' }, 'Normal', 'Other', 'x'.repeat(2000));
    expect(sink.lines()).toEqual([
      'prod web-0 Warning Reason: first (npl-test-node-a)',
      'prod web-0 Warning Reason: second (npl-test-node-a)',
      'prod web-0 Warning Reason: first (npl-test-node-a)',
      `default svc Normal Other: ${'x'.repeat(1024)} (npl-test-node-a)`,
    ]);
    expect(sink.created[0]?.body.metadata?.generateName).toBe('web-0.');
  });

  it('never throws: a failed create goes to onError', async () => {
    const sink = new EventSink();
    const errors: unknown[] = [];
    const rec = new ApiEventRecorder({ core: sink.core, component: 'npl-test', host: 'node-a', onError: (err) => errors.push(err) });
    sink.failNext = new Error('forbidden');
    expect(() => rec.record(pod, 'Normal', 'Reason', 'm')).not.toThrow();
    await flushMicrotasks();
    expect(errors).toEqual([new Error('forbidden')]);
    expect(sink.created).toEqual([]);
  });

  it('a hung API server: writes time out and are dropped (counted), at most maxInFlight wait, the caller never blocks', async () => {
    const sink = new EventSink();
    const dropped: string[] = [];
    const rec = new ApiEventRecorder({ core: sink.core, component: 'npl-test', host: 'node-a', timeoutMs: 50, maxInFlight: 2, onDropped: (r) => dropped.push(r) });
    sink.hung = true;
    for (const m of ['a', 'b', 'c', 'd']) rec.record(pod, 'Warning', 'Reason', m);
    expect(rec.pending()).toBe(2);
    expect(dropped).toEqual(['overload', 'overload']);
    await eventually(() => Promise.resolve(rec.pending() === 0), 5_000, 'the hung writes time out', 20);
    expect(dropped).toEqual(['overload', 'overload', 'timeout', 'timeout']);
    sink.hung = false;
    // Dropped for overload: never sent, so not deduplicated; timed out: dropped, not retried.
    for (const m of ['a', 'c', 'e']) rec.record(pod, 'Warning', 'Reason', m);
    await flushMicrotasks();
    expect(sink.lines()).toEqual(['prod web-0 Warning Reason: c (npl-test-node-a)', 'prod web-0 Warning Reason: e (npl-test-node-a)']);
    expect(rec.pending()).toBe(0);
  });

  it('a failed write is dropped as an error and goes to onError', async () => {
    const sink = new EventSink();
    const dropped: string[] = [];
    const rec = new ApiEventRecorder({ core: sink.core, component: 'npl-test', host: 'node-a', onDropped: (r) => dropped.push(r) });
    sink.failNext = new Error('forbidden');
    rec.record(pod, 'Normal', 'Reason', 'm');
    await flushMicrotasks();
    expect(dropped).toEqual(['error']);
    expect(rec.pending()).toBe(0);
  });
});
