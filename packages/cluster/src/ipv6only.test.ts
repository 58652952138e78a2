/**
 * An IPv6-only local cluster: the control plane listens on the bridge's IPv6 address, nodes and
 * pods have IPv6 addresses only, and traffic flows over IPv6.
 */
import { expect, it } from '@jest/globals';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { familyOf } from './ip.js';
import { describeWithCluster, eventually } from './testing/jest-cluster.js';

const NS = 'default';
const T = 180_000;
const ready = (p: V1Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

describeWithCluster('local cluster: IPv6-only', { name: 'e2esix', nodes: 2, ipFamily: 'ipv6' }, (get) => {
  const api = () => get().kubeConfig.makeApiClient(CoreV1Api);

  it('comes up with Ready nodes that have only IPv6 addresses, behind an API server on IPv6', async () => {
    expect(get().server).toMatch(/^https:\/\/\[2001:db8:18:[0-9a-f]+::1\]:\d+$/);
    const nodes = (await api().listNode()).items;
    expect(nodes).toHaveLength(2);
    for (const node of nodes) {
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      const internal = node.status?.addresses?.filter((a) => a.type === 'InternalIP').map((a) => a.address) ?? [];
      expect(internal.map(familyOf)).toEqual(['IPv6']);
      expect(node.spec?.podCIDRs?.map((c) => familyOf(c.split('/')[0]!))).toEqual(['IPv6']);
    }
    expect(get().nodes.every((n) => n.ips.length === 1 && n.ip === n.ipv6)).toBe(true);
    const eth0 = await get().exec(get().nodes[0]!.netns, ['ip', '-o', 'addr', 'show', 'dev', 'eth0']);
    expect(eth0).not.toMatch(/\binet /);
    const kubernetes = await api().readNamespacedService({ name: 'kubernetes', namespace: NS });
    expect(kubernetes.spec?.ipFamilies).toEqual(['IPv6']);
  }, T);

  it('runs pods with one IPv6 podIP behind an IPv6 Service, reachable over TCP and UDP from another node, a pod and (via hostPort) outside', async () => {
    await get().kubeConfig.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'six' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'six' } },
          template: {
            metadata: { labels: { app: 'six' } },
            spec: {
              topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'six' } } }],
              containers: [{ name: 'web', image: 'web:1', ports: [{ containerPort: 80, hostPort: 30080 }, { containerPort: 53, protocol: 'UDP' }] }],
            },
          },
        },
      },
    });
    const svc = await api().createNamespacedService({ namespace: NS, body: { metadata: { name: 'six' }, spec: { selector: { app: 'six' }, ports: [{ port: 80 }], ipFamilyPolicy: 'PreferDualStack' } } });
    expect(svc.spec?.ipFamilies).toEqual(['IPv6']);
    const pods = await eventually(async () => {
      const items = (await api().listNamespacedPod({ namespace: NS, labelSelector: 'app=six' })).items;
      return items.length === 2 && items.every((p) => ready(p)) ? items : undefined;
    }, 90_000, '2 Ready pods');
    const [a, b] = pods as [V1Pod, V1Pod];
    for (const p of pods) {
      expect(p.status?.podIPs?.map((x) => familyOf(x.ip))).toEqual(['IPv6']);
      expect(familyOf(p.status!.hostIP!)).toBe('IPv6');
    }
    expect(a.spec?.nodeName).not.toBe(b.spec?.nodeName);
    const other = get().nodes.find((n) => n.name !== a.spec!.nodeName)!;
    expect((await get().exec(other.netns, ['curl', '-g', '-s', '-m', '5', `http://[${a.status!.podIP}]/`])).trim()).toBe(a.metadata!.name);
    expect((await get().exec(get().podNetns(b.metadata!.uid!), ['curl', '-g', '-s', '-m', '5', `http://[${a.status!.podIP}]/`])).trim()).toBe(a.metadata!.name);
    expect((await get().exec(other.netns, ['sh', '-c', `echo ping | nc -u -w1 ${a.status!.podIP} 53`])).trim()).toBe(a.metadata!.name);
    const nodeOfA = get().nodes.find((n) => n.name === a.spec!.nodeName)!;
    expect((await get().exec(get().outsideNetns, ['curl', '-g', '-s', '-m', '5', `http://[${nodeOfA.ip}]:30080/`])).trim()).toBe(a.metadata!.name);
    // Pods reach the API server over IPv6.
    expect(await get().exec(get().podNetns(a.metadata!.uid!), ['curl', '-gsk', '-m', '5', `${get().server}/readyz`])).toBe('ok');
  }, T);
});
