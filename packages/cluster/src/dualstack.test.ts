/**
 * Dual-stack on the local cluster (the default): nodes, pods and Services of both families, the
 * EndpointSlices the real controller-manager makes for each, and IPv6 traffic over the namespaces.
 */
import { expect, it } from '@jest/globals';
import { AppsV1Api, CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { addressAt, familyOf, offsetIn } from './ip.js';
import { POD_IP_ANNOTATION } from './standin/pod-network.js';
import { describeWithCluster, eventually } from './testing/jest-cluster.js';

const NS = 'default';
const T = 180_000;

const ready = (p: V1Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
const ipsOf = (p: V1Pod): string[] => (p.status?.podIPs ?? []).map((x) => x.ip);
const v6Of = (p: V1Pod): string => ipsOf(p).find((ip) => familyOf(ip) === 'IPv6')!;

describeWithCluster('local cluster: dual-stack', { name: 'e2edual', nodes: 2 }, (get) => {
  const api = () => get().kubeConfig.makeApiClient(CoreV1Api);
  const apps = () => get().kubeConfig.makeApiClient(AppsV1Api);

  async function readyPods(app: string, n: number): Promise<V1Pod[] | undefined> {
    const pods = (await api().listNamespacedPod({ namespace: NS, labelSelector: `app=${app}` })).items.filter((p) => !p.metadata?.deletionTimestamp);
    return pods.length === n && pods.every((p) => ready(p) && ipsOf(p).length === 2) ? pods : undefined;
  }

  /** Ready endpoint addresses of the Service's EndpointSlices, by addressType. */
  async function sliceAddresses(service: string): Promise<Record<string, string[]>> {
    const slices = await get().kubeConfig.makeApiClient(DiscoveryV1Api).listNamespacedEndpointSlice({ namespace: NS, labelSelector: `kubernetes.io/service-name=${service}` });
    const out: Record<string, string[]> = {};
    for (const s of slices.items) {
      const addrs = (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses);
      out[s.addressType] = [...(out[s.addressType] ?? []), ...addrs].sort();
    }
    return out;
  }

  const curl = (netns: string, url: string) => get().exec(netns, ['curl', '-g', '-s', '-m', '5', url]);
  const udp = (netns: string, ip: string, port: number) => get().exec(netns, ['sh', '-c', `echo ping | nc -u -w1 ${ip} ${port}`]);

  it('registers nodes with InternalIPs and podCIDRs of both families, IPv4 first', async () => {
    const nodes = (await api().listNode()).items;
    for (const n of get().nodes) {
      const node = nodes.find((x) => x.metadata?.name === n.name)!;
      expect(n.ips).toHaveLength(2);
      expect(node.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address)).toEqual(n.ips);
      expect(node.spec?.podCIDRs).toEqual(n.podCIDRs);
      expect(n.podCIDRs.map((c) => familyOf(c.split('/')[0]!))).toEqual(['IPv4', 'IPv6']);
      expect(n.ip).toBe(n.ips[0]);
      expect(n.ipv6).toBe(n.ips[1]);
    }
    expect(get().outsideIPv6).toMatch(/^2001:db8:/);
  }, T);

  async function createWorkload(): Promise<void> {
    await apps().createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'web6' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web6' } },
          template: {
            metadata: { labels: { app: 'web6' } },
            spec: { containers: [{ name: 'web', image: 'web:1', ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }] }] },
          },
        },
      },
    });
  }

  function expectPodAddresses(pods: readonly V1Pod[]): void {
    for (const p of pods) {
      const node = get().nodes.find((n) => n.name === p.spec!.nodeName)!;
      expect(ipsOf(p).map(familyOf)).toEqual(['IPv4', 'IPv6']);
      expect(p.status?.podIP).toBe(ipsOf(p)[0]);
      ipsOf(p).forEach((ip, j) => expect(offsetIn(node.podCIDRs[j]!, ip)).toBeDefined());
      expect(p.status?.hostIP).toBe(node.ip);
      expect(p.status?.hostIPs?.map((h) => h.ip)).toEqual(node.ips);
    }
  }

  it('runs a Deployment behind PreferDualStack and RequireDualStack Services: two podIPs each, EndpointSlices per family', async () => {
    await createWorkload();
    const ports = [{ name: 'http', port: 80, targetPort: 80 }];
    const prefer = await api().createNamespacedService({ namespace: NS, body: { metadata: { name: 'web6' }, spec: { selector: { app: 'web6' }, ports, ipFamilyPolicy: 'PreferDualStack' } } });
    const require = await api().createNamespacedService({
      namespace: NS,
      body: { metadata: { name: 'web6-req' }, spec: { selector: { app: 'web6' }, ports, ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] } },
    });
    const single = await api().createNamespacedService({ namespace: NS, body: { metadata: { name: 'web6-single' }, spec: { selector: { app: 'web6' }, ports } } });
    expect(prefer.spec?.ipFamilies).toEqual(['IPv4', 'IPv6']);
    expect(prefer.spec?.clusterIPs?.map(familyOf)).toEqual(['IPv4', 'IPv6']);
    expect(offsetIn(get().layout.serviceCIDRs[1]!, prefer.spec!.clusterIPs![1]!)).toBeDefined();
    expect(require.spec?.ipFamilies).toEqual(['IPv6', 'IPv4']);
    expect(require.spec?.clusterIPs?.map(familyOf)).toEqual(['IPv6', 'IPv4']);
    expect(single.spec?.ipFamilies).toEqual(['IPv4']);

    const pods = await eventually(() => readyPods('web6', 3), 90_000, '3 Ready web6 pods with two podIPs');
    expectPodAddresses(pods);
    const want = (family: 'IPv4' | 'IPv6') => pods.map((p) => ipsOf(p).find((ip) => familyOf(ip) === family)!).sort();
    const same = (a: readonly string[] | undefined, b: readonly string[]) => JSON.stringify(a) === JSON.stringify(b);
    for (const svc of ['web6', 'web6-req']) {
      await eventually(async () => {
        const got = await sliceAddresses(svc);
        return same(got.IPv4, want('IPv4')) && same(got.IPv6, want('IPv6'));
      }, 60_000, `EndpointSlices of ${svc} for IPv4 and IPv6`);
    }
    await eventually(async () => {
      const got = await sliceAddresses('web6-single');
      return same(Object.keys(got), ['IPv4']) && same(got.IPv4, want('IPv4'));
    }, 60_000, 'only an IPv4 EndpointSlice for the SingleStack Service');
  }, T);

  it('carries TCP and UDP over IPv6 to every pod from another node namespace and from a pod on another node', async () => {
    const pods = await eventually(() => readyPods('web6', 3), 90_000, '3 Ready web6 pods');
    for (const p of pods) {
      const other = get().nodes.find((n) => n.name !== p.spec!.nodeName)!;
      const name = p.metadata!.name!;
      expect((await curl(other.netns, `http://[${v6Of(p)}]/`)).trim()).toBe(name);
      expect((await udp(other.netns, v6Of(p), 53)).trim()).toBe(name);
      const same = get().nodes.find((n) => n.name === p.spec!.nodeName)!;
      expect((await curl(same.netns, `http://[${v6Of(p)}]/`)).trim()).toBe(name);
      const client = pods.find((q) => q.spec!.nodeName !== p.spec!.nodeName);
      if (client) {
        const ns = get().podNetns(client.metadata!.uid!);
        expect((await curl(ns, `http://[${v6Of(p)}]/`)).trim()).toBe(name);
        expect((await udp(ns, v6Of(p), 53)).trim()).toBe(name);
      }
      // IPv4 keeps working next to it.
      expect((await curl(other.netns, `http://${p.status!.podIP}/`)).trim()).toBe(name);
    }
  }, T);

  it('lets the outside namespace reach node IPv6 addresses (hostPort, hostNetwork) but not pod IPv6 addresses', async () => {
    const [n0] = get().nodes;
    const nodeSelector = { 'kubernetes.io/hostname': n0!.name };
    await api().createNamespacedPod({
      namespace: NS,
      body: { metadata: { name: 'hostport6' }, spec: { nodeSelector, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 8080, hostPort: 30080 }, { containerPort: 5353, hostPort: 30053, protocol: 'UDP' }] }] } },
    });
    await api().createNamespacedPod({
      namespace: NS,
      body: { metadata: { name: 'hostnet6' }, spec: { nodeSelector, hostNetwork: true, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 9090 }] }] } },
    });
    const readPod = (name: string) => eventually(async () => {
      const p = await api().readNamespacedPod({ name, namespace: NS });
      return ready(p) ? p : undefined;
    }, 60_000, `${name} Ready`);
    const hp = await readPod('hostport6');
    const hn = await readPod('hostnet6');
    expect(ipsOf(hn)).toEqual(n0!.ips);
    const out = get().outsideNetns;
    expect((await curl(out, `http://[${n0!.ipv6}]:30080/`)).trim()).toBe('hostport6');
    expect((await udp(out, n0!.ipv6!, 30053)).trim()).toBe('hostport6');
    expect((await curl(out, `http://[${n0!.ipv6}]:9090/`)).trim()).toBe('hostnet6');
    expect((await curl(out, `http://${n0!.ip}:30080/`)).trim()).toBe('hostport6');
    await expect(get().exec(out, ['curl', '-g', '-s', '-m', '2', `http://[${v6Of(hp)}]:8080/`])).rejects.toThrow();
  }, T);

  it('npl.test/pod-ip with an IPv6 address gives the pod that address and the IPv4 one at the same host offset', async () => {
    const [n0, n1] = get().nodes;
    const [v4CIDR, v6CIDR] = n1!.podCIDRs;
    const want = [addressAt(v4CIDR!, 200n), addressAt(v6CIDR!, 200n)];
    await api().createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'pinned6', annotations: { [POD_IP_ANNOTATION]: want[1]! } },
        spec: { nodeName: n1!.name, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 8080 }] }] },
      },
    });
    const pod = await eventually(async () => {
      const p = await api().readNamespacedPod({ name: 'pinned6', namespace: NS });
      return ready(p) ? p : undefined;
    }, 60_000, 'pinned6 Ready');
    expect(ipsOf(pod)).toEqual(want);
    expect((await curl(n0!.netns, `http://[${want[1]}]:8080/`)).trim()).toBe('pinned6');
  }, T);

  it('pods reach the API server at the bridge address; the Service ClusterIPs of both families are allocated', async () => {
    const pods = await eventually(() => readyPods('web6', 3), 90_000, '3 Ready web6 pods');
    const readyz = await get().exec(get().podNetns(pods[0]!.metadata!.uid!), ['curl', '-sk', '-m', '5', `${get().server}/readyz`]);
    expect(readyz).toBe('ok');
    const svc = await api().readNamespacedService({ name: 'kubernetes', namespace: NS });
    expect(svc.spec?.clusterIP).toBe(get().layout.kubernetesServiceIP);
  }, T);
});
