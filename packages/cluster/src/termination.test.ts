import { expect, it } from '@jest/globals';
import { CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import type { V1Container, V1EndpointConditions, V1Pod } from '@kubernetes/client-node';
import { listNetns } from './run.js';
import { COMPLETE_AFTER_ANNOTATION, EXIT_CODE_ANNOTATION, EXIT_DELAY_ANNOTATION } from './standin/termination.js';
import { describeWithCluster, eventually } from './testing/jest-cluster.js';

const NS = 'default';
const T = 180_000;

describeWithCluster('local cluster: pod lifecycle (ports while Running, graceful termination)', { name: 'e2eterm', nodes: 2 }, (get) => {
  const api = () => get().kubeConfig.makeApiClient(CoreV1Api);
  const client = () => get().nodes[0]!.netns;

  async function createPod(
    name: string,
    opts: { annotations?: Record<string, string>; container?: Partial<V1Container>; grace?: number; restartPolicy?: string } = {},
  ): Promise<void> {
    await api().createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name, labels: { app: name }, annotations: opts.annotations ?? {} },
        spec: {
          nodeName: get().nodes[1]!.name,
          ...(opts.grace !== undefined ? { terminationGracePeriodSeconds: opts.grace } : {}),
          ...(opts.restartPolicy ? { restartPolicy: opts.restartPolicy } : {}),
          containers: [{ name: 'web', image: 'web:1', ports: [{ containerPort: 80 }], ...opts.container }],
        },
      },
    });
    await api().createNamespacedService({ namespace: NS, body: { metadata: { name }, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 80 }] } } });
  }

  async function readPod(name: string): Promise<V1Pod | undefined> {
    try {
      return await api().readNamespacedPod({ name, namespace: NS });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }

  const running = (name: string) =>
    eventually(async () => {
      const p = await readPod(name);
      return p?.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    }, 60_000, `${name} Running and Ready`);

  /** The pod's answer from the other node ('' when nothing answers). */
  async function answer(ip: string): Promise<string> {
    return (await get().exec(client(), ['curl', '-s', '-m', '3', `http://${ip}/`]).catch(() => '')).trim();
  }

  async function endpointConditions(service: string): Promise<V1EndpointConditions | undefined> {
    const slices = await get().kubeConfig.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: NS, labelSelector: `kubernetes.io/service-name=${service}` });
    const eps = slices.items.flatMap((s) => s.endpoints ?? []);
    return eps.length === 1 ? eps[0]!.conditions : undefined;
  }

  const gone = (name: string, timeoutMs: number) => eventually(async () => (await readPod(name)) === undefined, timeoutMs, `${name} deleted`);

  it('container ports answer as soon as the pod shows Running, not before its sandbox exists', async () => {
    const seen: string[] = [];
    await createPod('early');
    // At the first observation of phase Running (with its IP), the port answers at once.
    const pod = await eventually(async () => {
      const p = await readPod('early');
      if (!p?.status?.podIP) {
        seen.push(p?.status?.phase ?? 'none');
        return undefined;
      }
      return p.status.phase === 'Running' ? p : undefined;
    }, 60_000, 'early Running');
    expect(await answer(pod.status!.podIP!)).toBe('early');
    expect(seen.every((s) => s === 'Pending' || s === 'none')).toBe(true);
  }, T);

  it('a pod whose containers complete (restartPolicy Never) turns Succeeded or Failed, keeps its podIP in the status, and its ports close', async () => {
    await createPod('job', { restartPolicy: 'Never', annotations: { [COMPLETE_AFTER_ANNOTATION]: '4' } });
    const pod = await running('job');
    const ip = pod.status!.podIP!;
    const netns = get().podNetns(pod.metadata!.uid!);
    expect(await answer(ip)).toBe('job');
    const done = await eventually(async () => {
      const p = await readPod('job');
      return p?.status?.phase === 'Succeeded' ? p : undefined;
    }, 60_000, 'job Succeeded');
    expect(done.status?.podIP).toBe(ip);
    expect(done.status?.containerStatuses?.[0]).toMatchObject({ ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    expect(done.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
    await eventually(async () => !(await listNetns()).includes(netns), 30_000, 'job sandbox removed');
    expect(await answer(ip)).toBe('');

    await createPod('crash', { restartPolicy: 'Never', annotations: { [COMPLETE_AFTER_ANNOTATION]: '0', [EXIT_CODE_ANNOTATION]: '3' } });
    const failed = await eventually(async () => {
      const p = await readPod('crash');
      return p?.status?.phase === 'Failed' ? p : undefined;
    }, 60_000, 'crash Failed');
    expect(failed.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
  }, T);

  it('delete with gracePeriodSeconds: the pod keeps serving as a terminating, serving endpoint until the grace period ends, then it and its namespace are gone', async () => {
    // A container that ignores SIGTERM: it runs until the grace period ends (then SIGKILL).
    await createPod('slow', { annotations: { [EXIT_DELAY_ANNOTATION]: '3600' } });
    const pod = await running('slow');
    const ip = pod.status!.podIP!;
    const netns = get().podNetns(pod.metadata!.uid!);
    await eventually(async () => (await endpointConditions('slow'))?.ready === true, 60_000, 'slow endpoint ready');
    const t0 = Date.now();
    await api().deleteNamespacedPod({ name: 'slow', namespace: NS, gracePeriodSeconds: 15 });
    const terminating = await readPod('slow');
    expect(terminating?.metadata?.deletionTimestamp).toBeDefined();
    expect(terminating?.metadata?.deletionGracePeriodSeconds).toBe(15);
    // Still serving, and the EndpointSlice says so.
    const cond = await eventually(async () => {
      const c = await endpointConditions('slow');
      return c?.terminating === true ? c : undefined;
    }, 10_000, 'endpoint terminating');
    expect(cond).toEqual({ ready: false, serving: true, terminating: true });
    expect(await answer(ip)).toBe('slow');
    expect((await readPod('slow'))?.status?.phase).toBe('Running');

    await gone('slow', 60_000);
    // Deletion rounds the deadline to whole seconds.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(14_000);
    expect(await listNetns()).not.toContain(netns);
    expect(await answer(ip)).toBe('');
  }, T);

  it('a container that exits on SIGTERM ends the pod long before its grace period; a preStop sleep keeps it serving that long first', async () => {
    await createPod('quick', { grace: 120 });
    await running('quick');
    const t0 = Date.now();
    await api().deleteNamespacedPod({ name: 'quick', namespace: NS });
    await gone('quick', 30_000);
    expect(Date.now() - t0).toBeLessThan(30_000);

    await createPod('drain', { grace: 120, container: { lifecycle: { preStop: { sleep: { seconds: 6 } } } } });
    const pod = await running('drain');
    const t1 = Date.now();
    await api().deleteNamespacedPod({ name: 'drain', namespace: NS });
    expect(await answer(pod.status!.podIP!)).toBe('drain');
    expect((await readPod('drain'))?.metadata?.deletionGracePeriodSeconds).toBe(120);
    await gone('drain', 60_000);
    const took = Date.now() - t1;
    expect(took).toBeGreaterThanOrEqual(5_000);
    expect(took).toBeLessThan(60_000);
  }, T);
});
