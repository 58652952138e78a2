import { describe, expect, it } from '@jest/globals';
import type { CoreV1Event, V1ObjectReference } from '@kubernetes/client-node';
import { FakeClock, flushMicrotasks } from './clock.js';
import type { ApiEventRecorderOptions } from './events.js';
import { ApiEventRecorder } from './events.js';

/** Keeps the Events created, in order; fails the next create when told to. */
class EventSink {
  readonly created: { namespace: string; body: CoreV1Event }[] = [];
  failNext: Error | undefined;
  readonly core: ApiEventRecorderOptions['core'] = {
    createNamespacedEvent: (param) => {
      const err = this.failNext;
      this.failNext = undefined;
      if (err) return Promise.reject(err);
      this.created.push(param);
      return Promise.resolve(param.body);
    },
  };
  lines(): string[] {
    return this.created.map(({ namespace, body: b }) => `${namespace} ${b.involvedObject.name} ${b.type} ${b.reason}: ${b.message} (${b.reportingInstance})`);
  }
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
});
