/**
 * charts/npl against the local cluster's real API server: every rendered object passes a
 * server-side dry-run with strict field validation; each ServiceAccount's RBAC allows what its
 * component calls and nothing else (real calls with the ServiceAccount's own token); the pre-delete
 * uninstall hook's script drives a real DaemonSet rollout to completion.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubernetesObject, V1DaemonSet } from '@kubernetes/client-node';
import {
  ApiException, AppsV1Api, CoordinationV1Api, CoreV1Api, DiscoveryV1Api, EventsV1Api, KubeConfig, PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions,
} from '@kubernetes/client-node';
import { serviceAccountKubeconfig } from '@npl/cluster';
import type { Cluster } from '@npl/cluster';
import { apiStatus, describeWithCluster, eventually } from '@npl/cluster/testing';
import { CHART_DIR, describeObject, objects, REPO_ROOT, template } from '../src/helm.js';
import { strictObjectApi } from '../src/strict-api.js';

const T = 180_000;
const NS = 'npl-system';
/** Release installed for real; not "npl", whose cluster-scoped names the plain manifests use. */
const RELEASE = 'demo';
const AGENT = 'demo-npl-agent';
const CONTROLLER = 'demo-npl-controller';
const HOOK = 'demo-npl-agent-uninstall';
const CI_VALUES = readdirSync(path.join(CHART_DIR, 'ci')).filter((f) => f.endsWith('-values.yaml')).sort();
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** Kinds whose CRDs the local cluster does not have: rendered and checked statically only. */
const NOT_INSTALLED = new Set(['ServiceMonitor']);

/** Authorized means anything but 403 (a 404 or 409 got past authorization). */
async function expectAllowed(what: string, call: () => Promise<unknown>): Promise<void> {
  expect({ what, status: await apiStatus(call) }).not.toEqual({ what, status: 403 });
}

async function expectForbidden(what: string, call: () => Promise<unknown>): Promise<void> {
  expect({ what, status: await apiStatus(call) }).toEqual({ what, status: 403 });
}

describeWithCluster('charts/npl on a real API server', { name: 'nplchart', nodes: 2 }, (get) => {
  let admin: CoreV1Api;
  const kubeconfigOf = async (name: string): Promise<KubeConfig> => {
    const kc = new KubeConfig();
    kc.loadFromFile(await serviceAccountKubeconfig(get(), { namespace: NS, name }));
    return kc;
  };

  beforeAll(async () => {
    admin = get().kubeConfig.makeApiClient(CoreV1Api);
    await admin.createNamespace({ body: { metadata: { name: NS } } });
  }, T);

  it.each(CI_VALUES)('every object rendered with ci/%s passes a server-side dry-run (strict field validation)', async (file) => {
    const api = strictObjectApi(get().kubeConfig);
    const rendered = objects(template('dry', NS, ['-f', path.join(CHART_DIR, 'ci', file)]));
    const checked: string[] = [];
    for (const obj of rendered.filter((o) => !NOT_INSTALLED.has(o.kind ?? ''))) {
      try {
        await api.create(obj, 'All');
      } catch (err) {
        throw new Error(`dry-run of ${describeObject(obj)} from ci/${file}: ${err instanceof ApiException ? String(err.body) : (err as Error).message}`);
      }
      checked.push(describeObject(obj));
    }
    expect(checked.length).toBeGreaterThan(5);
    const skipped = rendered.filter((o) => NOT_INSTALLED.has(o.kind ?? '')).map(describeObject);
    if (skipped.length) process.stderr.write(`ci/${file}: not dry-run (no CRD on the local cluster): ${skipped.join(', ')}\n`);
  }, T);

  it('the dry-run really validates: an unknown field in a rendered object is rejected', async () => {
    const ds = objects(template('dry', NS)).find((o) => o.kind === 'DaemonSet') as V1DaemonSet;
    const bad = { ...ds, spec: { ...ds.spec, hostNetwrok: true } } as KubernetesObject;
    const err = await strictObjectApi(get().kubeConfig).create(bad, 'All').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApiException);
    expect((JSON.parse(String((err as ApiException<unknown>).body)) as { message: string }).message).toContain('strict decoding error: unknown field "spec.hostNetwrok"');
  }, T);

  it.each([
    ['packages/agent/manifests/rbac.yaml', 'npl-agent'],
    ['packages/controller/manifests/rbac.yaml', 'npl-controller'],
  ])('the plain manifest %s applies as the local cluster applies it (kube-system/%s) and grants what the chart grants', async (file, name) => {
    const kc = new KubeConfig();
    kc.loadFromFile(await serviceAccountKubeconfig(get(), { namespace: 'kube-system', name, manifests: [path.join(REPO_ROOT, file)] }));
    const core = kc.makeApiClient(CoreV1Api);
    await expectAllowed('list pods', () => core.listPodForAllNamespaces());
    await expectForbidden('list secrets', () => core.listSecretForAllNamespaces());
  }, T);

  describe('installed for real (as helm install would, hooks included; ServiceMonitors skipped)', () => {
    beforeAll(async () => {
      const api = strictObjectApi(get().kubeConfig);
      for (const obj of objects(template(RELEASE, NS, ['-f', path.join(CHART_DIR, 'ci', 'full-values.yaml')]))) {
        if (!NOT_INSTALLED.has(obj.kind ?? '')) await api.create(obj);
      }
      await admin.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { containers: [{ name: 'web', image: 'web', ports: [{ containerPort: 8080 }] }] } } });
      await eventually(async () => (await admin.readNamespacedPod({ namespace: 'default', name: 'web' })).spec?.nodeName, 60_000, 'pod web scheduled');
    }, T);

    it('agent ServiceAccount: reads pods, services, nodes, patches pods/status, creates events; nothing else', async () => {
      const kc = await kubeconfigOf(AGENT);
      const core = kc.makeApiClient(CoreV1Api);
      const node = get().nodes[0]?.name ?? '';
      await expectAllowed('list pods on a node', () => core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }));
      await expectAllowed('get pod', () => core.readNamespacedPod({ namespace: 'default', name: 'web' }));
      await expectAllowed('list services', () => core.listServiceForAllNamespaces());
      await expectAllowed('get node', () => core.readNode({ name: node }));
      await expectAllowed('list nodes', () => core.listNode());
      await expectAllowed('patch pods/status', () => core.patchNamespacedPodStatus({ namespace: 'default', name: 'web', body: { metadata: { annotations: { 'example.com/chart-test': 'agent' } } } }, MERGE));
      await expectAllowed('create event', () => core.createNamespacedEvent({ namespace: 'default', body: { metadata: { generateName: 'npl-' }, involvedObject: { kind: 'Pod', namespace: 'default', name: 'web' }, reason: 'Test', message: 'test', type: 'Normal' } }));
      await expectForbidden('list secrets', () => core.listSecretForAllNamespaces());
      await expectForbidden('patch pod (not status)', () => core.patchNamespacedPod({ namespace: 'default', name: 'web', body: { metadata: { labels: { x: 'y' } } } }, MERGE));
      await expectForbidden('delete pod', () => core.deleteNamespacedPod({ namespace: 'default', name: 'web' }));
      await expectForbidden('create pod', () => core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'x', image: 'x' }] } } }));
      await expectForbidden('patch node', () => core.patchNode({ name: node, body: { metadata: { labels: { x: 'y' } } } }, MERGE));
      await expectForbidden('update service', () => core.patchNamespacedService({ namespace: 'default', name: 'kubernetes', body: { metadata: { labels: { x: 'y' } } } }, MERGE));
      await expectForbidden('list configmaps', () => core.listConfigMapForAllNamespaces());
      await expectForbidden('get leases', () => kc.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: NS }));
      await expectForbidden('get daemonsets', () => kc.makeApiClient(AppsV1Api).readNamespacedDaemonSet({ namespace: NS, name: AGENT }));
    }, T);

    it('controller ServiceAccount: reads services, pods, endpointslices, namespaces, records events, holds its Lease; nothing else', async () => {
      const kc = await kubeconfigOf(CONTROLLER);
      const core = kc.makeApiClient(CoreV1Api);
      const leases = kc.makeApiClient(CoordinationV1Api);
      await expectAllowed('list services', () => core.listServiceForAllNamespaces());
      await expectAllowed('list pods', () => core.listPodForAllNamespaces());
      await expectAllowed('list endpointslices', () => kc.makeApiClient(DiscoveryV1Api).listEndpointSliceForAllNamespaces());
      await expectAllowed('list namespaces', () => core.listNamespace());
      await expectAllowed('create core event', () => core.createNamespacedEvent({ namespace: 'default', body: { metadata: { generateName: 'npl-' }, involvedObject: { kind: 'Service', namespace: 'default', name: 'kubernetes' }, reason: 'Test', message: 'test', type: 'Normal' } }));
      await expectAllowed('create events.k8s.io event', () => kc.makeApiClient(EventsV1Api).createNamespacedEvent({ namespace: 'default', body: { metadata: { generateName: 'npl-' }, eventTime: new Date(), reportingController: 'npl-controller', reportingInstance: 'test', action: 'Test', reason: 'Test', regarding: { kind: 'Service', namespace: 'default', name: 'kubernetes' }, type: 'Normal' } }));
      const lease = { metadata: { name: 'npl-controller' }, spec: { holderIdentity: 'test', leaseDurationSeconds: 15 } };
      await expectAllowed('create lease', () => leases.createNamespacedLease({ namespace: NS, body: lease }));
      const current = await leases.readNamespacedLease({ namespace: NS, name: 'npl-controller' });
      await expectAllowed('update lease', () => leases.replaceNamespacedLease({ namespace: NS, name: 'npl-controller', body: { ...current, spec: { ...current.spec, holderIdentity: 'other' } } }));
      await expectForbidden('delete lease', () => leases.deleteNamespacedLease({ namespace: NS, name: 'npl-controller' }));
      await expectForbidden('create lease in another namespace', () => leases.createNamespacedLease({ namespace: 'default', body: lease }));
      await expectForbidden('list secrets', () => core.listSecretForAllNamespaces());
      await expectForbidden('read its own BIG-IP Secret through the API', () => core.readNamespacedSecret({ namespace: NS, name: 'bigip-login' }));
      await expectForbidden('patch pod', () => core.patchNamespacedPod({ namespace: 'default', name: 'web', body: { metadata: { labels: { x: 'y' } } } }, MERGE));
      await expectForbidden('patch pods/status', () => core.patchNamespacedPodStatus({ namespace: 'default', name: 'web', body: { metadata: { annotations: { x: 'y' } } } }, MERGE));
      await expectForbidden('delete pod', () => core.deleteNamespacedPod({ namespace: 'default', name: 'web' }));
      await expectForbidden('update service', () => core.patchNamespacedService({ namespace: 'default', name: 'kubernetes', body: { metadata: { labels: { x: 'y' } } } }, MERGE));
      await expectForbidden('list nodes', () => core.listNode());
      await expectForbidden('create clusterrolebinding', () => kc.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({ body: { metadata: { name: 'x' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [] } }));
    }, T);

    it('uninstall hook ServiceAccount: reads and replaces the agent DaemonSet only', async () => {
      const kc = await kubeconfigOf(HOOK);
      const apps = kc.makeApiClient(AppsV1Api);
      await expectAllowed('get agent DaemonSet', () => apps.readNamespacedDaemonSet({ namespace: NS, name: AGENT }));
      await expectForbidden('list daemonsets', () => apps.listNamespacedDaemonSet({ namespace: NS }));
      await expectForbidden('delete agent DaemonSet', () => apps.deleteNamespacedDaemonSet({ namespace: NS, name: AGENT }));
      await expectForbidden('get another DaemonSet', () => apps.readNamespacedDaemonSet({ namespace: 'kube-system', name: 'other' }));
      await expectForbidden('get the controller Deployment', () => apps.readNamespacedDeployment({ namespace: NS, name: CONTROLLER }));
      await expectForbidden('list secrets', () => kc.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace: NS }));
    }, T);

    describe('pre-delete hook script (files/uninstall-agents.mjs) with the hook ServiceAccount', () => {
      const saDir = mkdtempSync(path.join(tmpdir(), 'npl-hook-sa-'));
      afterAll(() => rmSync(saDir, { recursive: true, force: true }));

      async function runHook(): Promise<{ code: number; out: string }> {
        const c: Cluster = get();
        const token = await admin.createNamespacedServiceAccountToken({ namespace: NS, name: HOOK, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
        writeFileSync(path.join(saDir, 'token'), token.status?.token ?? '');
        writeFileSync(path.join(saDir, 'ca.crt'), readFileSync(path.join(c.dir, 'pki', 'ca.crt')));
        const url = new URL(c.server);
        const env = { PATH: process.env.PATH, DAEMONSET: AGENT, NAMESPACE: NS, TIMEOUT_SECONDS: '120', KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port, SA_DIR: saDir };
        const child = spawn(process.execPath, [path.join(REPO_ROOT, 'charts/npl/files/uninstall-agents.mjs')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        const code = await new Promise<number>((resolve) => child.on('exit', (c2) => resolve(c2 ?? -1)));
        return { code, out };
      }

      it('replaces every agent with npl-agent uninstall (same image and variables) and returns once every node ran it; idempotent; nothing to do without the DaemonSet', async () => {
        const apps = get().kubeConfig.makeApiClient(AppsV1Api);
        const readDs = (): Promise<V1DaemonSet> => apps.readNamespacedDaemonSet({ namespace: NS, name: AGENT });
        await eventually(async () => (await readDs()).status?.numberReady === get().nodes.length, 120_000, 'agent DaemonSet ready on every node');
        const before = (await readDs()).spec?.template.spec?.containers[0];

        const first = await runHook();
        expect(first).toMatchObject({ code: 0 });
        expect(first.out).toContain('Every node uninstalled');
        const ds = await readDs();
        const init = ds.spec?.template.spec?.initContainers?.[0];
        expect(init).toMatchObject({ name: 'npl-agent-uninstall', image: before?.image, args: ['uninstall'], env: before?.env, securityContext: before?.securityContext });
        expect(ds.spec?.template.spec?.hostNetwork).toBe(true);
        expect(ds.status).toMatchObject({ desiredNumberScheduled: get().nodes.length, updatedNumberScheduled: get().nodes.length, numberReady: get().nodes.length });
        const pods = await admin.listNamespacedPod({ namespace: NS, labelSelector: `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=agent` });
        expect(pods.items.filter((p) => p.metadata?.deletionTimestamp === undefined).map((p) => p.spec?.initContainers?.[0]?.args)).toEqual(get().nodes.map(() => ['uninstall']));

        expect(await runHook()).toMatchObject({ code: 0 });
        await apps.deleteNamespacedDaemonSet({ namespace: NS, name: AGENT });
        const absent = await runHook();
        expect(absent).toMatchObject({ code: 0 });
        expect(absent.out).toContain('DaemonSet absent');
      }, T);
    });
  });
});
