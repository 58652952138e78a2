import { expect, it } from '@jest/globals';
import { CoreV1Api, DiscoveryV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Container, V1EndpointConditions, V1Pod } from '@kubernetes/client-node';
import { READY_ANNOTATION } from './standin/termination.js';
import { describeWithCluster, eventually } from './testing/jest-cluster.js';

const NS = 'default';
const T = 180_000;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

const condition = (p: V1Pod | undefined, type: string): string | undefined => p?.status?.conditions?.find((c) => c.type === type)?.status;

describeWithCluster('local cluster: readiness probes and on-demand unreadiness', { name: 'e2eready', nodes: 2 }, (get) => {
  const api = () => get().kubeConfig.makeApiClient(CoreV1Api);

  async function createPod(name: string, container: Partial<V1Container>, annotations: Record<string, string> = {}): Promise<void> {
    await api().createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name, labels: { app: name }, annotations },
        spec: { nodeName: get().nodes[1]!.name, containers: [{ name: 'web', image: 'web:1', ports: [{ name: 'http', containerPort: 80 }], ...container }] },
      },
    });
    await api().createNamespacedService({ namespace: NS, body: { metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 80 }] } } });
  }

  const readPod = (name: string) => api().readNamespacedPod({ name, namespace: NS });

  async function endpointConditions(service: string): Promise<V1EndpointConditions | undefined> {
    const slices = await get().kubeConfig.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: NS, labelSelector: `kubernetes.io/service-name=${service}` });
    const eps = slices.items.flatMap((s) => s.endpoints ?? []);
    return eps.length === 1 ? eps[0]!.conditions : undefined;
  }

  /** HTTP status and body of GET / on the pod IP, from the other node's namespace. */
  async function get200(pod: V1Pod): Promise<{ code: string; body: string }> {
    const out = await get().exec(get().nodes[0]!.netns, ['curl', '-s', '-m', '5', '-w', '\n%{http_code}', `http://${pod.status!.podIP}/`]);
    const lines = out.trim().split('\n');
    return { code: lines.at(-1)!, body: lines.slice(0, -1).join('\n').trim() };
  }

  it('an httpGet readiness probe gates Ready; npl.test/ready=false makes the probe fail and the endpoint unready, removing it makes it ready again', async () => {
    await createPod('probed', { readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1, failureThreshold: 2, successThreshold: 1 } });
    const pod = await eventually(async () => {
      const p = await readPod('probed');
      return condition(p, 'Ready') === 'True' ? p : undefined;
    }, 60_000, 'probed pod Ready');
    expect(condition(pod, 'ContainersReady')).toBe('True');
    expect(pod.status?.containerStatuses?.[0]).toMatchObject({ ready: true, started: true });
    await eventually(async () => (await endpointConditions('probed'))?.ready === true, 60_000, 'endpoint ready');

    await api().patchNamespacedPod({ name: 'probed', namespace: NS, body: { metadata: { annotations: { [READY_ANNOTATION]: 'false' } } } }, mergePatch);
    const unready = await eventually(async () => {
      const p = await readPod('probed');
      return condition(p, 'Ready') === 'False' ? p : undefined;
    }, 60_000, 'probed pod not Ready');
    expect(condition(unready, 'ContainersReady')).toBe('False');
    expect(unready.status?.phase).toBe('Running');
    expect(unready.status?.containerStatuses?.[0]).toMatchObject({ ready: false, started: true });
    expect(unready.status?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('ContainersNotReady');
    await eventually(async () => (await endpointConditions('probed'))?.ready === false, 60_000, 'endpoint not ready');
    expect(await endpointConditions('probed')).toMatchObject({ ready: false, serving: false, terminating: false });
    // The application is still there: it answers, with 503, and still says who it is.
    expect(await get200(unready)).toEqual({ code: '503', body: 'probed' });

    await api().patchNamespacedPod({ name: 'probed', namespace: NS, body: { metadata: { annotations: { [READY_ANNOTATION]: null } } } }, mergePatch);
    await eventually(async () => condition(await readPod('probed'), 'Ready') === 'True', 60_000, 'probed pod Ready again');
    await eventually(async () => (await endpointConditions('probed'))?.ready === true, 60_000, 'endpoint ready again');
    expect(await get200(unready)).toEqual({ code: '200', body: 'probed' });
  }, T);

  it('a tcpSocket probe waits for initialDelaySeconds: Running but not Ready first, then Ready', async () => {
    await createPod('delayed', { readinessProbe: { tcpSocket: { port: 80 }, initialDelaySeconds: 6, periodSeconds: 1 } });
    const running = await eventually(async () => {
      const p = await readPod('delayed');
      return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
    }, 60_000, 'delayed pod Running');
    const startedAt = new Date(running.status!.startTime!).getTime();
    expect(condition(running, 'Ready')).toBe('False');
    // Already serving while not yet Ready (the container runs; only the probe waits).
    expect((await get200(running)).code).toBe('200');
    const ready = await eventually(async () => {
      const p = await readPod('delayed');
      return condition(p, 'Ready') === 'True' ? p : undefined;
    }, 60_000, 'delayed pod Ready');
    const readyAt = new Date(ready.status!.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime!).getTime();
    // API times have 1 s resolution.
    expect(readyAt - startedAt).toBeGreaterThanOrEqual(5_000);
  }, T);

  it('a probe of a port nothing listens on keeps the pod Running but never Ready', async () => {
    await createPod('closed', { readinessProbe: { tcpSocket: { port: 8081 }, periodSeconds: 1 } });
    const running = await eventually(async () => {
      const p = await readPod('closed');
      return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
    }, 60_000, 'closed pod Running');
    expect(condition(running, 'Ready')).toBe('False');
    await eventually(async () => (await endpointConditions('closed'))?.ready === false, 60_000, 'endpoint listed, not ready');
    // Several probe periods later it is still not Ready.
    const later = await eventually(async () => {
      const p = await readPod('closed');
      return Date.now() - new Date(p.status!.startTime!).getTime() > 5_000 ? p : undefined;
    }, 30_000, '5 s after the start');
    expect(condition(later, 'Ready')).toBe('False');
    expect(later.status?.containerStatuses?.[0]?.ready).toBe(false);
  }, T);
});
