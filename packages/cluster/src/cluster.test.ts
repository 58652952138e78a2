import { expect, it } from '@jest/globals';
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { listNetns } from './run.js';
import { describeWithCluster, eventually } from './testing/jest-cluster.js';

const NS = 'default';
const T = 180_000;

const ready = (p: V1Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

describeWithCluster('local cluster: workloads, networking, RBAC', { name: 'e2ework', nodes: 2 }, (get) => {
  const api = () => get().kubeConfig.makeApiClient(CoreV1Api);
  const apps = () => get().kubeConfig.makeApiClient(AppsV1Api);

  async function webPods(): Promise<V1Pod[]> {
    return (await api().listNamespacedPod({ namespace: NS, labelSelector: 'app=web' })).items.filter((p) => !p.metadata?.deletionTimestamp);
  }

  async function readyWebPods(n: number): Promise<V1Pod[] | undefined> {
    const pods = await webPods();
    return pods.length === n && pods.every((p) => ready(p) && p.status?.podIP) ? pods : undefined;
  }

  async function sliceAddresses(): Promise<string[]> {
    const slices = await get().kubeConfig.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: NS, labelSelector: 'kubernetes.io/service-name=web' });
    return slices.items.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses)).sort();
  }

  const curl = (netns: string, url: string) => get().exec(netns, ['curl', '-s', '-m', '5', url]);

  it('runs a 3-replica Deployment behind a Service: scheduled, addressed, Ready, in the EndpointSlice', async () => {
    await apps().createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'web:1', ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }] }] },
          },
        },
      },
    });
    await api().createNamespacedService({
      namespace: NS,
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 80 }] } },
    });
    const pods = await eventually(() => readyWebPods(3), 90_000, '3 Ready web pods');
    const nodeNames = new Set(get().nodes.map((n) => n.name));
    for (const p of pods) {
      expect(nodeNames.has(p.spec!.nodeName!)).toBe(true);
      const node = get().nodes.find((n) => n.name === p.spec!.nodeName)!;
      expect(p.status?.hostIP).toBe(node.ip);
      // Dual-stack by default: the IPv4 podIP first, then one from the node's IPv6 podCIDR.
      expect(p.status?.podIPs?.[0]).toEqual({ ip: p.status!.podIP });
      expect(p.status?.podIPs).toHaveLength(2);
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.containerStatuses?.[0]).toMatchObject({ ready: true, started: true });
    }
    const ips = pods.map((p) => p.status!.podIP!).sort();
    await eventually(async () => JSON.stringify(await sliceAddresses()) === JSON.stringify(ips), 60_000, 'EndpointSlice lists the 3 pods');
  }, T);

  it('reaches every pod IP, by name, from another node namespace and from a pod on another node (TCP and UDP); pods reach the API server', async () => {
    const pods = await eventually(() => readyWebPods(3), 90_000, '3 Ready web pods');
    for (const p of pods) {
      const other = get().nodes.find((n) => n.name !== p.spec!.nodeName)!;
      expect((await curl(other.netns, `http://${p.status!.podIP}/`)).trim()).toBe(p.metadata!.name);
      const client = pods.find((q) => q.spec!.nodeName !== p.spec!.nodeName);
      if (client) {
        const ns = get().podNetns(client.metadata!.uid!);
        expect((await curl(ns, `http://${p.status!.podIP}/`)).trim()).toBe(p.metadata!.name);
      }
      const readyz = await get().exec(get().podNetns(p.metadata!.uid!), ['curl', '-sk', '-m', '5', `${get().server}/readyz`]);
      expect(readyz).toBe('ok');
      const udp = await get().exec(other.netns, ['sh', '-c', `echo ping | nc -u -w1 ${p.status!.podIP} 53`]);
      expect(udp.trim()).toBe(p.metadata!.name);
    }
  }, T);

  it('lets the outside namespace reach node IPs (hostPort, hostNetwork) but not pod IPs', async () => {
    const [n0] = get().nodes;
    const nodeSelector = { 'kubernetes.io/hostname': n0!.name };
    await api().createNamespacedPod({
      namespace: NS,
      body: { metadata: { name: 'hostport' }, spec: { nodeSelector, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 8080, hostPort: 30080 }] }] } },
    });
    await api().createNamespacedPod({
      namespace: NS,
      body: { metadata: { name: 'hostnet' }, spec: { nodeSelector, hostNetwork: true, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 9090 }] }] } },
    });
    const hp = await eventually(async () => {
      const p = await api().readNamespacedPod({ name: 'hostport', namespace: NS });
      return ready(p) ? p : undefined;
    }, 60_000, 'hostport pod Ready');
    const hn = await eventually(async () => {
      const p = await api().readNamespacedPod({ name: 'hostnet', namespace: NS });
      return ready(p) ? p : undefined;
    }, 60_000, 'hostnet pod Ready');
    expect(hn.status?.podIP).toBe(n0!.ip);
    const out = get().outsideNetns;
    expect((await curl(out, `http://${n0!.ip}:30080/`)).trim()).toBe('hostport');
    expect((await curl(out, `http://${n0!.ip}:9090/`)).trim()).toBe('hostnet');
    await expect(get().exec(out, ['curl', '-s', '-m', '2', `http://${hp.status!.podIP}:8080/`])).rejects.toThrow();
    const pods = await eventually(() => readyWebPods(3), 60_000, '3 Ready web pods');
    await expect(get().exec(out, ['curl', '-s', '-m', '2', `http://${pods[0]!.status!.podIP}/`])).rejects.toThrow();
  }, T);

  it('enforces RBAC: a ServiceAccount token from TokenRequest can do what its Role allows and gets 403 otherwise', async () => {
    const ns = 'rbac';
    const rbac = get().kubeConfig.makeApiClient(RbacAuthorizationV1Api);
    await api().createNamespace({ body: { metadata: { name: ns } } });
    await api().createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'reader' } } });
    await rbac.createNamespacedRole({
      namespace: ns,
      body: { metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }] },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
      },
    });
    const tr = await api().createNamespacedServiceAccountToken({ name: 'reader', namespace: ns, body: { spec: { audiences: [], expirationSeconds: 600 } } });
    const token = tr.status?.token ?? '';
    expect(token.split('.')).toHaveLength(3);
    const admin = get().kubeConfig.getCurrentCluster()!;
    const withToken = (t: string): CoreV1Api => {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'c', server: admin.server, caData: admin.caData, skipTLSVerify: false }],
        users: [{ name: 'reader', token: t }],
        contexts: [{ name: 'r', cluster: 'c', user: 'reader' }],
        currentContext: 'r',
      });
      return kc.makeApiClient(CoreV1Api);
    };
    const sa = withToken(token);
    const code = (p: Promise<unknown>) => p.then(() => 200, (e: { code?: number }) => e.code);
    expect(await code(sa.listNamespacedPod({ namespace: ns }))).toBe(200);
    expect(await code(sa.listNamespacedSecret({ namespace: ns }))).toBe(403);
    expect(await code(sa.listNamespacedPod({ namespace: NS }))).toBe(403);
    expect(await code(sa.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'x' }] } } }))).toBe(403);
    expect(await code(withToken(`${token}x`).listNamespacedPod({ namespace: ns }))).toBe(401);
  }, T);

  it('deleting a pod removes its namespace and EndpointSlice entry, and the Deployment replaces it', async () => {
    const pods = await eventually(() => readyWebPods(3), 90_000, '3 Ready web pods');
    const victim = pods[0]!;
    const netns = get().podNetns(victim.metadata!.uid!);
    expect(await listNetns()).toContain(netns);
    await api().deleteNamespacedPod({ name: victim.metadata!.name!, namespace: NS });
    await eventually(async () => !(await listNetns()).includes(netns), 60_000, 'pod namespace removed');
    await eventually(async () => {
      await api().readNamespacedPod({ name: victim.metadata!.name!, namespace: NS }).then(
        () => {
          throw new Error('pod still exists');
        },
        (e: { code?: number }) => {
          if (e.code !== 404) throw e;
        },
      );
      return true;
    }, 60_000, 'pod object deleted');
    await eventually(async () => !(await sliceAddresses()).includes(victim.status!.podIP!), 60_000, 'EndpointSlice entry removed');
    const now = await eventually(() => readyWebPods(3), 90_000, 'replacement Ready');
    expect(now.map((p) => p.metadata!.name)).not.toContain(victim.metadata!.name);
    const ips = now.map((p) => p.status!.podIP!).sort();
    await eventually(async () => JSON.stringify(await sliceAddresses()) === JSON.stringify(ips), 60_000, 'EndpointSlice lists the replacement');
    const fresh = now.find((p) => !pods.some((q) => q.metadata!.uid === p.metadata!.uid))!;
    const other = get().nodes.find((n) => n.name !== fresh.spec!.nodeName)!;
    expect((await curl(other.netns, `http://${fresh.status!.podIP}/`)).trim()).toBe(fresh.metadata!.name);
  }, T);
});
