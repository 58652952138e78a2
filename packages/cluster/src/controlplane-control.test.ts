import { expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { probe } from './health.js';
import { describeWithCluster, eventually } from './testing/jest-cluster.js';

const T = 240_000;

describeWithCluster('local cluster: stopping, starting, freezing the API server and etcd', { name: 'cpctl', nodes: 1 }, (get) => {
  const api = () => get().kubeConfig.makeApiClient(CoreV1Api);
  const reachable = (): Promise<boolean> => api().listNamespace().then(() => true, () => false);

  it('the API server stopped refuses connections, started again it serves the same objects under a new pid', async () => {
    const c = get();
    await api().createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'survives-apiserver' }, data: { k: 'v' } } });
    const before = await c.controlPlane.pid('apiserver');
    expect(before).toBeGreaterThan(1);
    await c.controlPlane.stop('apiserver');
    expect(await c.controlPlane.pid('apiserver')).toBeUndefined();
    expect(await probe(`${c.server}/readyz`)).toBe(0);
    await c.controlPlane.stop('apiserver'); // idempotent
    await c.controlPlane.start('apiserver');
    const after = await c.controlPlane.pid('apiserver');
    expect(after).toBeGreaterThan(1);
    expect(after).not.toBe(before);
    expect((await api().readNamespacedConfigMap({ name: 'survives-apiserver', namespace: 'default' })).data).toEqual({ k: 'v' });
    // The nodes keep posting status through the restarted server.
    await eventually(async () => (await api().listNode()).items.every((n) => n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')), 60_000, 'nodes Ready');
  }, T);

  it('a frozen API server accepts connections but answers nothing; thawed, it serves again', async () => {
    const c = get();
    const pid = await c.controlPlane.pid('apiserver');
    await c.controlPlane.freeze('apiserver');
    try {
      const t0 = Date.now();
      // probe() gives up after 2 s without an answer and reports 0, as for a refused connection.
      expect(await probe(`${c.server}/readyz`)).toBe(0);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1_900);
      expect(await c.controlPlane.pid('apiserver')).toBe(pid);
    } finally {
      await c.controlPlane.thaw('apiserver');
    }
    expect(await reachable()).toBe(true);
    expect(await c.controlPlane.pid('apiserver')).toBe(pid);
  }, T);

  it('etcd stopped makes the API server fail requests; started again, the data written before is there', async () => {
    const c = get();
    await api().createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'survives-etcd' }, data: { k: 'v' } } });
    await c.controlPlane.stop('etcd');
    try {
      expect(await c.controlPlane.pid('etcd')).toBeUndefined();
      const write = api().createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'not-written' } } });
      await expect(write).rejects.toThrow();
    } finally {
      await c.controlPlane.start('etcd');
    }
    await eventually(reachable, 60_000, 'API server serving again');
    await eventually(async () => (await api().readNamespacedConfigMap({ name: 'survives-etcd', namespace: 'default' })).data?.k === 'v', 60_000, 'data read back');
  }, T);
});
