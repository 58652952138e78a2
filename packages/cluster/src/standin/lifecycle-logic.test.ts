import { describe, expect, it } from '@jest/globals';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { requireIPv4ForExternalIPs, validateExternalIP } from '../node-address.js';
import { nodeStatus } from './node-status.js';
import { completedStatus, runningStatus } from './pod-controller.js';
import { probeTarget, readinessProbeOf, ReadinessState } from './prober.js';
import {
  COMPLETE_AFTER_ANNOTATION,
  completionOf,
  containersExitAt,
  EXIT_CODE_ANNOTATION,
  EXIT_DELAY_ANNOTATION,
  markedUnhealthy,
  preStopSeconds,
  READY_ANNOTATION,
} from './termination.js';

const podWith = (containers: V1Container[], meta: V1Pod['metadata'] = {}): V1Pod => ({
  metadata: { name: 'web-1', namespace: 'default', uid: 'u-1', ...meta },
  spec: { containers },
});

describe('ReadinessState (kubelet prober worker thresholds)', () => {
  const run = (s: ReadinessState, results: boolean[]): string => results.map((r) => `${s.record(r) ? '*' : ''}${s.ready ? 'R' : 'u'}`).join(' ');

  it('starts unready, becomes ready after successThreshold successes in a row, unready after failureThreshold failures in a row', () => {
    const s = new ReadinessState(2, 3);
    expect(s.ready).toBe(false);
    expect(run(s, [true, false, true, true, false, false, true, false, false, false, true, true])).toBe('u u u *R R R R R R *u u *R');
  });

  it('with thresholds 1 follows every result and reports only changes', () => {
    const s = new ReadinessState(1, 1);
    expect(run(s, [false, true, true, false, false])).toBe('u *R R *u u');
  });
});

describe('readinessProbeOf', () => {
  const web: V1Container = { name: 'web', image: 'w', ports: [{ name: 'http', containerPort: 8080 }] };

  it('reads httpGet probes with a named port and the API defaults', () => {
    const pod = podWith([{ ...web, readinessProbe: { httpGet: { path: '/healthz', port: 'http' } } }]);
    expect(readinessProbeOf(pod, pod.spec!.containers[0]!)).toEqual({
      kind: 'http', port: 8080, path: '/healthz', initialDelayMs: 0, periodMs: 10_000, timeoutMs: 1_000, successThreshold: 1, failureThreshold: 3,
    });
  });

  it('reads tcpSocket probes with their timing', () => {
    const c: V1Container = { ...web, readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1, initialDelaySeconds: 2, failureThreshold: 1, successThreshold: 2, timeoutSeconds: 3 } };
    expect(readinessProbeOf(podWith([c]), c)).toEqual({ kind: 'tcp', port: 8080, initialDelayMs: 2_000, periodMs: 1_000, timeoutMs: 3_000, successThreshold: 2, failureThreshold: 1 });
  });

  it('ignores exec probes (nothing to run them in) and containers without a probe', () => {
    const c: V1Container = { ...web, readinessProbe: { exec: { command: ['true'] } } };
    expect(readinessProbeOf(podWith([c]), c)).toBeUndefined();
    expect(readinessProbeOf(podWith([web]), web)).toBeUndefined();
  });

  it('names pod, container and field when a named port does not exist', () => {
    const c: V1Container = { ...web, readinessProbe: { httpGet: { port: 'metrics' } } };
    expect(() => readinessProbeOf(podWith([c]), c)).toThrow('pod default/web-1 container web: readinessProbe.httpGet.port names port "metrics", which the container does not declare');
  });

  it('probes the pod IP, or httpGet.host when set, with brackets for IPv6', () => {
    const base = { kind: 'http' as const, port: 80, path: '/', initialDelayMs: 0, periodMs: 1, timeoutMs: 500, successThreshold: 1, failureThreshold: 1 };
    expect(probeTarget(base, '198.19.16.5')).toEqual({ target: '198.19.16.5:80', kind: 'http', path: '/', timeoutMs: 500 });
    expect(probeTarget({ ...base, host: '2001:db8::5' }, '198.19.16.5').target).toBe('[2001:db8::5]:80');
  });
});

describe('runningStatus with readiness', () => {
  it('marks unready containers and the pod not Ready / not ContainersReady, with kubelet reason and message', () => {
    const pod = podWith([{ name: 'a', image: 'a' }, { name: 'b', image: 'b' }]);
    const t0 = new Date('2026-01-01T00:00:00Z');
    const t1 = new Date('2026-01-01T00:00:05Z');
    const sb = { uid: 'u-1', namespace: 'default', name: 'web-1', netnsPath: '/x', nodeNetnsPath: '/n', ip: '198.19.16.5', ips: ['198.19.16.5'], hostNetwork: false, startedAt: t0 };
    const s = runningStatus(pod, sb, ['198.18.1.10'], { ready: (c) => c === 'a', lastChange: () => t1 });
    expect(s.containerStatuses?.map((c) => `${c.name}=${c.ready}`)).toEqual(['a=true', 'b=false']);
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [b]', lastTransitionTime: t1 });
    expect(s.conditions?.find((c) => c.type === 'ContainersReady')?.status).toBe('False');
    expect(s.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'True', lastTransitionTime: t0 });
    expect(s.phase).toBe('Running');
  });
});

describe('graceful termination timing (containersExitAt)', () => {
  const deleted = (grace: number, extra: Partial<V1Pod['metadata']> = {}, containers: V1Container[] = [{ name: 'web', image: 'w' }]): V1Pod =>
    podWith(containers, { deletionTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, grace)), deletionGracePeriodSeconds: grace, ...extra });
  const requested = Date.UTC(2026, 0, 1);

  it('is undefined for a pod that is not being deleted', () => {
    expect(containersExitAt(podWith([{ name: 'web', image: 'w' }]))).toBeUndefined();
  });

  it('exits at once on SIGTERM by default', () => {
    expect(containersExitAt(deleted(30))).toBe(requested);
  });

  it('adds the exit delay annotation and the longest preStop sleep, cut at the end of the grace period', () => {
    expect(containersExitAt(deleted(30, { annotations: { [EXIT_DELAY_ANNOTATION]: '4' } }))).toBe(requested + 4_000);
    const withHooks: V1Container[] = [
      { name: 'a', image: 'a', lifecycle: { preStop: { sleep: { seconds: 3 } } } },
      { name: 'b', image: 'b', lifecycle: { preStop: { exec: { command: ['sh', '-c', 'sleep 5'] } } } },
    ];
    expect(containersExitAt(deleted(30, { annotations: { [EXIT_DELAY_ANNOTATION]: '1.5' } }, withHooks))).toBe(requested + 6_500);
    expect(containersExitAt(deleted(10, { annotations: { [EXIT_DELAY_ANNOTATION]: '3600' } }))).toBe(requested + 10_000);
  });

  it('rejects a malformed exit delay naming the pod and annotation', () => {
    expect(() => containersExitAt(deleted(30, { annotations: { [EXIT_DELAY_ANNOTATION]: 'soon' } }))).toThrow(
      'pod default/web-1: annotation npl.test/exit-delay-seconds="soon": expected a number of seconds >= 0',
    );
  });

  it('reads preStop sleep forms and ignores other hooks', () => {
    expect(preStopSeconds({ name: 'a', lifecycle: { preStop: { exec: { command: ['sleep', '2'] } } } })).toBe(2);
    expect(preStopSeconds({ name: 'a', lifecycle: { preStop: { exec: { command: ['/bin/drain'] } } } })).toBe(0);
    expect(preStopSeconds({ name: 'a', lifecycle: { preStop: { httpGet: { port: 80 } } } })).toBe(0);
    expect(preStopSeconds({ name: 'a' })).toBe(0);
  });

  it('reads the npl.test/ready switch', () => {
    expect(markedUnhealthy(podWith([], { annotations: { [READY_ANNOTATION]: 'false' } }))).toBe(true);
    expect(markedUnhealthy(podWith([], { annotations: { [READY_ANNOTATION]: 'true' } }))).toBe(false);
    expect(markedUnhealthy(podWith([]))).toBe(false);
  });
});

describe('completion (npl.test/complete-after-seconds)', () => {
  const started = new Date('2026-01-01T00:00:00Z');
  const job = (restartPolicy: string | undefined, annotations: Record<string, string>): V1Pod => ({
    ...podWith([{ name: 'work', image: 'w' }], { annotations }),
    spec: { containers: [{ name: 'work', image: 'w' }], ...(restartPolicy ? { restartPolicy } : {}) },
  });

  it('completes where kubelet would not restart: Never (any code), OnFailure (code 0)', () => {
    expect(completionOf(job('Never', { [COMPLETE_AFTER_ANNOTATION]: '5' }), started)).toEqual({ at: started.getTime() + 5_000, exitCode: 0, phase: 'Succeeded' });
    expect(completionOf(job('Never', { [COMPLETE_AFTER_ANNOTATION]: '0', [EXIT_CODE_ANNOTATION]: '3' }), started)).toEqual({ at: started.getTime(), exitCode: 3, phase: 'Failed' });
    expect(completionOf(job('OnFailure', { [COMPLETE_AFTER_ANNOTATION]: '1' }), started)?.phase).toBe('Succeeded');
  });

  it('does not complete pods kubelet would restart, or pods without the annotation', () => {
    expect(completionOf(job(undefined, { [COMPLETE_AFTER_ANNOTATION]: '1' }), started)).toBeUndefined();
    expect(completionOf(job('Always', { [COMPLETE_AFTER_ANNOTATION]: '1' }), started)).toBeUndefined();
    expect(completionOf(job('OnFailure', { [COMPLETE_AFTER_ANNOTATION]: '1', [EXIT_CODE_ANNOTATION]: '1' }), started)).toBeUndefined();
    expect(completionOf(job('Never', {}), started)).toBeUndefined();
  });

  it('rejects malformed annotations naming pod, annotation and expectation', () => {
    expect(() => completionOf(job('Never', { [COMPLETE_AFTER_ANNOTATION]: '' }), started)).toThrow('pod default/web-1: annotation npl.test/complete-after-seconds="": expected a number of seconds >= 0');
    expect(() => completionOf(job('Never', { [COMPLETE_AFTER_ANNOTATION]: '1', [EXIT_CODE_ANNOTATION]: '256' }), started)).toThrow(
      'pod default/web-1: annotation npl.test/exit-code="256": expected an integer from 0 to 255',
    );
  });

  it('writes a kubelet-like terminal status: containers terminated with the exit code, not Ready (PodCompleted)', () => {
    const s = completedStatus(job('Never', {}), { uid: 'u-1', startedAt: started }, { at: started.getTime() + 2_000, exitCode: 3, phase: 'Failed' });
    expect(s.phase).toBe('Failed');
    expect(s.containerStatuses?.[0]).toMatchObject({ ready: false, started: false, state: { terminated: { exitCode: 3, reason: 'Error', startedAt: started, finishedAt: new Date(started.getTime() + 2_000) } } });
    expect(s.conditions?.map((c) => `${c.type}=${c.status}${c.reason ? `/${c.reason}` : ''}`)).toEqual([
      'PodReadyToStartContainers=False', 'Initialized=True', 'Ready=False/PodCompleted', 'ContainersReady=False/PodCompleted', 'PodScheduled=True',
    ]);
    expect(s.podIP).toBeUndefined();
  });
});

describe('node addresses', () => {
  it('reports ExternalIPs before the InternalIP', () => {
    const node = { name: 'node-0', ip: '198.18.1.10', ips: ['198.18.1.10'], netns: 'n', podCIDR: '198.19.16.0/23', podCIDRs: ['198.19.16.0/23'], kubeconfig: 'k' };
    const s = nodeStatus(node, 'v1.37.2', new Date(), ['203.0.113.16']);
    expect(s.addresses).toEqual([
      { type: 'ExternalIP', address: '203.0.113.16' },
      { type: 'InternalIP', address: '198.18.1.10' },
      { type: 'Hostname', address: 'node-0' },
    ]);
  });

  it('reports ExternalIPs before the InternalIPs of both families on a dual-stack node', () => {
    const node = {
      name: 'node-0', ip: '198.18.1.10', ips: ['198.18.1.10', '2001:db8:18:1::10'], netns: 'n',
      podCIDR: '198.19.16.0/23', podCIDRs: ['198.19.16.0/23', '2001:db8:19:100::/64'], kubeconfig: 'k',
    };
    const s = nodeStatus(node, 'v1.37.2', new Date(), ['203.0.113.16']);
    expect(s.addresses).toEqual([
      { type: 'ExternalIP', address: '203.0.113.16' },
      { type: 'InternalIP', address: '198.18.1.10' },
      { type: 'InternalIP', address: '2001:db8:18:1::10' },
      { type: 'Hostname', address: 'node-0' },
    ]);
  });

  it('reports only the InternalIPs it is given (a dual-stack node whose IPv6 InternalIP is hidden)', () => {
    const node = {
      name: 'node-0', ip: '198.18.1.10', ips: ['198.18.1.10', '2001:db8:18:1::10'], netns: 'n',
      podCIDR: '198.19.16.0/23', podCIDRs: ['198.19.16.0/23', '2001:db8:19:100::/64'], kubeconfig: 'k',
    };
    const s = nodeStatus(node, 'v1.37.2', new Date(), [], ['198.18.1.10']);
    expect(s.addresses).toEqual([
      { type: 'InternalIP', address: '198.18.1.10' },
      { type: 'Hostname', address: 'node-0' },
    ]);
  });

  it('refuses ExternalIPs on an IPv6-only cluster, which cannot route them', () => {
    expect(() => requireIPv4ForExternalIPs('v6', 'ipv6')).toThrow(
      expect.objectContaining({ code: 'NPL_CLUSTER_ADDRESS_INVALID', message: expect.stringMatching(/^cluster v6: externalIP: .*IPv6-only/) }),
    );
    expect(() => requireIPv4ForExternalIPs('d', 'dual')).not.toThrow();
    expect(() => requireIPv4ForExternalIPs('d', 'ipv4')).not.toThrow();
  });

  it('accepts ExternalIPs only from 203.0.113.0/24 and 198.51.100.0/24', () => {
    expect(validateExternalIP('node-0', '198.51.100.7')).toBe('198.51.100.7');
    expect(() => validateExternalIP('node-0', '10.0.0.1')).toThrow('node node-0: externalIP "10.0.0.1": expected an IPv4 address in 203.0.113.0/24 or 198.51.100.0/24');
    expect(() => validateExternalIP('node-0', 'x')).toThrow(/node node-0: externalIP "x"/);
  });
});
