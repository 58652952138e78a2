import { expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import type { V1Node, V1NodeAddress } from '@kubernetes/client-node';
import { execa } from 'execa';
import { defaultExternalIP } from './node-address.js';
import { describeWithCluster, eventually } from './testing/jest-cluster.js';

const NS = 'default';
const T = 180_000;

describeWithCluster('local cluster: node ExternalIPs, address changes, kubectl', { name: 'e2eaddr', nodes: 2, externalIPs: true }, (get) => {
  const api = () => get().kubeConfig.makeApiClient(CoreV1Api);
  const addresses = async (node: string): Promise<V1NodeAddress[]> => (await api().readNode({ name: node })).status?.addresses ?? [];
  const fromOutside = async (ip: string, port: number): Promise<string> =>
    (await get().exec(get().outsideNetns, ['curl', '-s', '-m', '3', `http://${ip}:${port}/`]).catch(() => '')).trim();

  it('every node reports its ExternalIP before its InternalIPs (both families), and the outside reaches a hostPort on it', async () => {
    const c = get();
    for (const n of c.layout.nodes) {
      expect(n.ips).toHaveLength(2);
      expect(await addresses(n.name)).toEqual([
        { type: 'ExternalIP', address: defaultExternalIP(c.layout.slot, n.index) },
        ...n.ips.map((address) => ({ type: 'InternalIP', address })),
        { type: 'Hostname', address: n.name },
      ]);
    }
    await api().createNamespacedPod({
      namespace: NS,
      body: { metadata: { name: 'hp' }, spec: { nodeName: 'node-0', containers: [{ name: 'web', image: 'web:1', ports: [{ containerPort: 80, hostPort: 30080 }] }] } },
    });
    await eventually(async () => (await api().readNamespacedPod({ name: 'hp', namespace: NS })).status?.phase === 'Running', 60_000, 'hp Running');
    expect(await fromOutside(defaultExternalIP(c.layout.slot, 0), 30080)).toBe('hp');
  }, T);

  it('setNodeAddress moves the ExternalIP: the Node reports the new one, the outside reaches it and no longer the old one; null removes it', async () => {
    const c = get();
    const old = defaultExternalIP(c.layout.slot, 0);
    const next = `198.51.100.${c.layout.slot}`;
    await c.setNodeAddress('node-0', { externalIP: next });
    expect((await addresses('node-0')).filter((a) => a.type !== 'Hostname')).toEqual([
      { type: 'ExternalIP', address: next },
      ...c.nodes[0]!.ips.map((address) => ({ type: 'InternalIP', address })),
    ]);
    expect(await fromOutside(next, 30080)).toBe('hp');
    expect(await fromOutside(old, 30080)).toBe('');
    // The periodic status post of the stand-in agrees (it reads the node's own addresses).
    await c.setNodeAddress('node-0', { externalIP: null });
    expect((await addresses('node-0')).map((a) => a.type)).toEqual(['InternalIP', 'InternalIP', 'Hostname']);
    expect(await fromOutside(next, 30080)).toBe('');
    await c.setNodeAddress('node-0', { externalIP: old });
    expect((await addresses('node-0'))[0]).toEqual({ type: 'ExternalIP', address: old });
  }, T);

  it('setNodeAddress rejects addresses outside the documentation ranges and unknown nodes, naming them', async () => {
    await expect(get().setNodeAddress('node-0', { externalIP: '10.1.2.3' })).rejects.toThrow('node node-0: externalIP "10.1.2.3": expected an IPv4 address in 203.0.113.0/24 or 198.51.100.0/24');
    await expect(get().setNodeAddress('node-9', { externalIP: '203.0.113.1' })).rejects.toThrow('cluster e2eaddr: no node "node-9"');
  });

  it('the cluster\'s kubectl lists the nodes with their addresses (kubectl get nodes -o json)', async () => {
    const c = get();
    expect(c.kubectl).toMatch(/\/kubectl$/);
    const r = await execa(c.kubectl!, ['--kubeconfig', c.kubeconfigPath, 'get', 'nodes', '-o', 'json']);
    const list = JSON.parse(String(r.stdout)) as { items: V1Node[] };
    expect(list.items.map((n) => n.metadata?.name).sort()).toEqual(['node-0', 'node-1']);
    const n1 = list.items.find((n) => n.metadata?.name === 'node-1')!;
    expect(n1.status?.addresses?.[0]).toEqual({ type: 'ExternalIP', address: defaultExternalIP(c.layout.slot, 1) });
    const version = await execa(c.kubectl!, ['--kubeconfig', c.kubeconfigPath, 'version', '-o', 'json']);
    const v = JSON.parse(String(version.stdout)) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
    expect(v.clientVersion.gitVersion).toBe(v.serverVersion.gitVersion);
  });
});
