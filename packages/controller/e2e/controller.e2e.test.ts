/**
 * The Kubernetes side against the local cluster's real API server: informers -> desired state ->
 * engine -> the emulator's pools. Pods get NPL annotations written by the test (no agent needed);
 * EndpointSlices come from the controller-manager (plus one written by the test to mark a pod not
 * ready, as a readiness probe would).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import type { RunningEmulator } from '@npl/bigip-emulator';
import { startEmulator } from '@npl/bigip-emulator';
import { serviceAccountKubeconfig } from '@npl/cluster';
import { describeWithCluster, eventually } from '@npl/cluster/testing';
import { createLogger } from '@npl/runtime';
import { parseControllerConfig } from '../src/config.js';
import type { RunningController } from '../src/controller.js';
import { startController } from '../src/controller.js';
import { dumpDesired } from '../src/model.js';

const T = 180_000;
const NS = 'default';
/** The controller runs as its ServiceAccount with the RBAC of manifests/rbac.yaml (least privilege). */
const IDENTITY = { namespace: 'kube-system', name: 'npl-controller', manifests: [fileURLToPath(new URL('../manifests/rbac.yaml', import.meta.url))] };

describeWithCluster('npl-controller against a real API server and the BIG-IP emulator', { name: 'nplctl', nodes: 1 }, (get) => {
  let emu: RunningEmulator;
  let controller: RunningController | undefined;
  const core = () => get().kubeConfig.makeApiClient(CoreV1Api);
  const nodeIP = () => get().nodes[0]!.ip;

  /** Pools and members of partition k8s, as the emulator dumps them. */
  const pools = () => emu.state.dump().split('\n').filter((l) => l.startsWith('pool /k8s/') || l.startsWith('  member /k8s/')).join('\n');

  /** Polls until `ok(pools())`; a timeout shows the pools and the desired state. */
  const poolsUntil = (ok: (text: string) => boolean, what: string) =>
    eventually(() => {
      const text = pools();
      if (ok(text)) return Promise.resolve(true);
      return Promise.reject(new Error(`pools:\n${text}\ndesired:\n${controller ? dumpDesired(controller.desired()) : ''}`));
    }, 60_000, what);

  async function startControllerWith(args: string[]): Promise<RunningController> {
    const parsed = parseControllerConfig(
      ['--bigip-url', emu.url, '--bigip-ca-file', emu.caFile ?? '', '--bigip-username', 'admin', '--health-address', '127.0.0.1:0', '--resync-period', '1s', ...args],
      { BIGIP_PASSWORD: 'admin' },
    );
    if (parsed.help) throw new Error('unexpected help');
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(await serviceAccountKubeconfig(get(), IDENTITY));
    return startController(parsed.config, createLogger({ name: 'npl-controller-test', level: 'silent' }), { kubeConfig, env: { BIGIP_PASSWORD: 'admin' } });
  }

  async function createPod(name: string, nodePort: number, namespace = NS): Promise<void> {
    await core().createNamespacedPod({
      namespace,
      body: {
        metadata: {
          name, labels: { app: 'web' },
          annotations: { 'nodeportlocal.antrea.io': JSON.stringify([{ podPort: 80, nodeIP: nodeIP(), nodePort, protocol: 'tcp', ipFamily: 'IPv4' }]) },
        },
        spec: { nodeName: get().nodes[0]!.name, containers: [{ name: 'server', image: 'npl-e2e/server:1', ports: [{ name: 'http', containerPort: 80 }] }] },
      },
    });
  }

  beforeAll(async () => {
    emu = await startEmulator({ partitions: ['k8s'], traffic: false });
    controller = await startControllerWith([]);
  }, T);

  afterAll(async () => {
    await controller?.stop();
    await emu?.close();
  }, T);

  it('a Service opted in gets a pool whose members follow its pods: added, drained, removed; opt-out removes the pool', async () => {
    await createPod('web-a', 61001);
    await createPod('web-b', 61002);
    await core().createNamespacedService({
      namespace: NS,
      body: {
        metadata: { name: 'my-app', annotations: { 'nodeportlocal.antrea.io/enabled': 'true', 'bigip.nodeportlocal.io/monitor': 'tcp' } },
        spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 8080, targetPort: 'http' }] },
      },
    });
    const ip = nodeIP();
    const both = ['pool /k8s/my_app_8080_default lb=round-robin monitor=/Common/tcp', `  member /k8s/${ip}:61001 user-enabled user-up`, `  member /k8s/${ip}:61002 user-enabled user-up`].join('\n');
    await poolsUntil((t) => t === both, 'pool with both members');

    // A not-ready endpoint (as a failing readiness probe makes it) drains its member.
    await get().kubeConfig.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
      namespace: NS,
      body: {
        metadata: { name: 'my-app-probe', labels: { 'kubernetes.io/service-name': 'my-app', 'endpointslice.kubernetes.io/managed-by': 'npl-controller-test' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['198.18.0.77'], conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'web-b', namespace: NS } }],
        ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      },
    });
    await poolsUntil((t) => t.includes(`member /k8s/${ip}:61002 user-disabled`), 'web-b drained');

    // A pod that is gone is removed.
    await core().deleteNamespacedPod({ name: 'web-a', namespace: NS, gracePeriodSeconds: 0 });
    await poolsUntil((t) => !t.includes(`${ip}:61001`), 'web-a removed');

    // Events on the Service.
    const events = await core().listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=my-app' });
    expect(events.items.map((e) => e.reason)).toContain('PoolSynced');

    // Opt-out removes the pool (and the nodes the controller created).
    await core().patchNamespacedService({ name: 'my-app', namespace: NS, body: [{ op: 'replace', path: '/metadata/annotations/nodeportlocal.antrea.io~1enabled', value: 'false' }] });
    await poolsUntil((t) => t === '', 'pool removed');
    expect(emu.state.dump()).not.toContain(`node /k8s/${ip}`);
  }, T);

  it('serves /healthz, /readyz and /metrics', async () => {
    const base = `http://${controller!.healthAddress.replace(/^http:\/\//, '')}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/npl_controller_syncs_total\{result="success"\} [1-9]/);
    expect(metrics).toMatch(/npl_controller_bigip_requests_total\{method="GET",status="200"\}/);
  }, T);

  it('as3 backend, namespaces chosen by label: a pod in two Services feeds both pools; other namespaces are not watched', async () => {
    await controller?.stop();
    controller = await startControllerWith(['--backend', 'as3', '--namespace-label-selector', 'bigip=yes']);
    await core().createNamespace({ body: { metadata: { name: 'team-a', labels: { bigip: 'yes' } } } });
    await createPod('api-1', 61010, 'team-a');
    await createPod('ignored-1', 61020);
    const opted = { 'nodeportlocal.antrea.io/enabled': 'true' };
    for (const [namespace, name] of [['team-a', 'front'], ['team-a', 'back'], [NS, 'elsewhere']] as const) {
      await core().createNamespacedService({ namespace, body: { metadata: { name, annotations: opted }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] } } });
    }
    const ip = nodeIP();
    const as3Pools = () => emu.state.dump().split('\n').filter((l) => l.startsWith('pool /k8s/Shared/') || l.startsWith('  member /Common/')).join('\n');
    const want = ['pool /k8s/Shared/back_80_team_a lb=round-robin', `  member /Common/${ip}:61010 user-enabled user-up`, 'pool /k8s/Shared/front_80_team_a lb=round-robin', `  member /Common/${ip}:61010 user-enabled user-up`].join('\n');
    await eventually(() => (as3Pools() === want ? Promise.resolve(true) : Promise.reject(new Error(as3Pools()))), 60_000, 'AS3 pools of team-a');
    expect(emu.requestLog.count({ method: 'POST', path: '/mgmt/shared/appsvcs/declare/*' })).toBeGreaterThanOrEqual(1);
  }, T);
});
