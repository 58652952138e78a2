/**
 * Antrea controller cases (spec §8.1) that need the controller loop — informers, queue, start-up
 * order, annotation patches — run against the local cluster's real API server, with the agent
 * in-process on a stateful fake dataplane and port reserver (no kernel needed for these).
 */
import { afterEach, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import type { IPFamily } from '@npl/core';
import { NPL_ANNOTATION_KEY } from '@npl/core';
import { FakePortReserver } from '@npl/core/testing';
import { AGENT_IDENTITY, serviceAccountKubeconfig } from '@npl/cluster';
import { describeWithCluster, eventually } from '@npl/cluster/testing';
import { createLogger } from '@npl/runtime';
import { KubeConfig } from '@kubernetes/client-node';
import type { AgentHandle } from '../src/agent.js';
import { startAgent } from '../src/agent.js';
import { parseAgentConfig } from '../src/config.js';
import { FakeDataplane } from '../src/testing/fake-dataplane.js';
import { annotation, createPod, createService, deletePod, deleteService, NS, waitAnnotation, waitPodRunning } from './harness.js';

const T = 180_000;

describeWithCluster('npl-agent controller loop against a real API server (Antrea §8.1)', { name: 'nplactl', nodes: 1 }, (get) => {
  let agent: AgentHandle | undefined;
  const dataplanes = new Map<IPFamily, FakeDataplane>();
  const node = () => get().nodes[0]!;
  const cleanup: (() => Promise<void>)[] = [];

  async function start(extra: string[] = [], prepare?: (dp: FakeDataplane) => void): Promise<AgentHandle> {
    const kc = new KubeConfig();
    kc.loadFromFile(await serviceAccountKubeconfig(get(), AGENT_IDENTITY));
    const parsed = parseAgentConfig(['--node-name', node().name, '--health-address', '127.0.0.1:0', '--verify-period', '500ms', ...extra], {});
    if (parsed.help) throw new Error('unexpected');
    dataplanes.clear();
    agent = await startAgent(parsed.config, createLogger({ name: 'npl-agent-test', level: 'silent' }), {
      kubeConfig: kc,
      reserver: new FakePortReserver(),
      dataplane: (family) => {
        const dp = new FakeDataplane(family);
        prepare?.(dp);
        dataplanes.set(family, dp);
        return dp;
      },
    });
    return agent;
  }

  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    for (const c of cleanup.splice(0)) await c();
  }, T);

  async function podWithService(name: string, annotations?: Record<string, string>): Promise<void> {
    await createPod(get(), { name, node: node().name, labels: { app: name }, ports: [{ containerPort: 80 }] });
    if (annotations) {
      await get()
        .kubeConfig.makeApiClient(CoreV1Api)
        .patchNamespacedPod({ name, namespace: NS, body: [{ op: 'add', path: '/metadata/annotations', value: annotations }] });
    }
    await createService(get(), name, { app: name }, [{ port: 80, targetPort: 80 }]);
    cleanup.push(() => deleteService(get(), name), () => deletePod(get(), name));
    await waitPodRunning(get(), name);
  }

  it('TestSyncRulesError: while the start-up sync fails, workers do not run and no Pod is annotated; after retries it is', async () => {
    await podWithService('syncerr');
    // The sync fails until the test lets it succeed, so the checks in between cannot race a retry.
    const a = await start([], (dp) => dp.failNext('replaceAll', 1_000));
    await eventually(() => Promise.resolve(dataplanes.get('IPv4')!.calls.replaceAll >= 2), 30_000, 'two failed start-up syncs');
    expect(a.isReady()).toBe(false);
    expect(await annotation(get(), 'syncerr')).toEqual([]);
    const failed = dataplanes.get('IPv4')!.calls.replaceAll;
    for (const dp of dataplanes.values()) dp.failNext('replaceAll', 0);
    await a.ready;
    expect(dataplanes.get('IPv4')!.calls.replaceAll).toBe(failed + 1);
    const [e] = await waitAnnotation(get(), 'syncerr', 1);
    expect(e!.nodePort).toBe(61000);
  }, T);

  it('TestInitInvalidAnnotation: an unparseable annotation found at start-up is removed, then the real mapping written', async () => {
    await podWithService('initinvalid', { [NPL_ANNOTATION_KEY]: '' });
    await start();
    await waitAnnotation(get(), 'initinvalid', 1);
  }, T);

  it('TestInitNodePortOutOfRange: an annotated node port outside the range is not restored and gets reallocated', async () => {
    const text = `[{"podPort":80,"nodeIP":"${node().ip}","nodePort":30000,"protocol":"tcp","ipFamily":"IPv4"}]`;
    await podWithService('initrange', { [NPL_ANNOTATION_KEY]: text });
    await start();
    await waitAnnotation(get(), 'initrange', 1, (a) => a[0]!.nodePort >= 61000 && a[0]!.nodePort <= 62000);
  }, T);

  it('restart restores node ports from annotations (same ports after a restart)', async () => {
    await podWithService('restore-a');
    await podWithService('restore-b');
    await start();
    const a = (await waitAnnotation(get(), 'restore-a', 1))[0]!.nodePort;
    const b = (await waitAnnotation(get(), 'restore-b', 1))[0]!.nodePort;
    await agent!.stop();
    await start();
    await agent!.ready;
    expect(dataplanes.get('IPv4')!.mappings().map((m) => m.nodePort).sort()).toEqual([a, b].sort());
    expect((await waitAnnotation(get(), 'restore-a', 1))[0]!.nodePort).toBe(a);
  }, T);

  it('drift repair: a mapping removed behind the agent is reinstalled by the periodic check and counted', async () => {
    await podWithService('drift');
    await start();
    const [e] = await waitAnnotation(get(), 'drift', 1);
    const dp = dataplanes.get('IPv4')!;
    await eventually(() => Promise.resolve(dp.mappings().some((m) => m.nodePort === e!.nodePort)), 30_000, 'mapping installed');
    await dp.tamper(e!.nodePort, 'tcp');
    await eventually(() => Promise.resolve(dp.mappings().some((m) => m.nodePort === e!.nodePort)), 30_000, 'mapping repaired');
    expect(agent!.metrics.dataplaneRepairs.get({ family: 'IPv4' })).toBeGreaterThanOrEqual(1);
    const metrics = await agent!.health.inject('/metrics');
    expect(metrics.body).toContain('npl_agent_dataplane_repairs_total{family="IPv4"}');
    expect(metrics.body).toContain('npl_agent_mappings{family="IPv4",protocol="tcp"} 1');
    expect(metrics.body).toContain('npl_agent_ports_free{family="IPv4",protocol="tcp"} 1000');
  }, T);

  it('an exhausted port range leaves the Pod unannotated and raises a Warning Event on it', async () => {
    await podWithService('exhaust-a');
    await podWithService('exhaust-b');
    await start(['--port-range', '61000-61001']);
    const annotated = async () => (await annotation(get(), 'exhaust-a')).length + (await annotation(get(), 'exhaust-b')).length;
    await eventually(async () => (await annotated()) === 2, 30_000, 'both pods mapped');
    await podWithService('exhaust-c');
    await eventually(
      async () => {
        const events = await get().kubeConfig.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=exhaust-c' });
        return events.items.some((ev) => ev.reason === 'NodePortLocalPortsExhausted' && ev.type === 'Warning');
      },
      60_000,
      'exhaustion Event',
    );
    expect(await annotation(get(), 'exhaust-c')).toEqual([]);
  }, T);

  it('an opted-in Service of type NodePort raises a Warning Event saying the annotation has no effect', async () => {
    await createService(get(), 'np-svc', { app: 'none' }, [{ port: 80, targetPort: 80 }], { type: 'NodePort' });
    cleanup.push(() => deleteService(get(), 'np-svc'));
    await start();
    await eventually(
      async () => {
        const events = await get().kubeConfig.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=np-svc' });
        return events.items.some((ev) => ev.reason === 'NodePortLocalIgnored' && /type NodePort/.test(ev.message ?? ''));
      },
      30_000,
      'NodePortLocalIgnored Event',
    );
  }, T);
});
