/**
 * High availability against the local cluster's real API server and the BIG-IP emulator: two
 * controllers in this process, each as the controller's ServiceAccount (manifests/rbac.yaml), on
 * one Lease. Only the leader writes to BIG-IP; when it stops, the other takes the Lease and the
 * pool keeps following the pods.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { RunningEmulator } from '@npl/bigip-emulator';
import { startEmulator } from '@npl/bigip-emulator';
import { serviceAccountKubeconfig } from '@npl/cluster';
import { describeWithCluster, eventually } from '@npl/cluster/testing';
import { createLogger } from '@npl/runtime';
import { parseControllerConfig } from '../src/config.js';
import type { RunningController } from '../src/controller.js';
import { startController } from '../src/controller.js';

const T = 180_000;
const NS = 'default';
const LEASE = 'npl-controller-ha';
const IDENTITY = { namespace: 'kube-system', name: 'npl-controller', manifests: [fileURLToPath(new URL('../manifests/rbac.yaml', import.meta.url))] };

describeWithCluster('npl-controller leader election: two instances, one writer, takeover', { name: 'nplctlha', nodes: 1 }, (get) => {
  let emu: RunningEmulator;
  const controllers: RunningController[] = [];
  const core = () => get().kubeConfig.makeApiClient(CoreV1Api);
  const nodeIP = () => get().nodes[0]!.ip;
  const pools = () => emu.state.dump().split('\n').filter((l) => l.startsWith('pool /k8s/') || l.startsWith('  member /k8s/')).join('\n');
  const poolsUntil = (want: string, what: string) =>
    eventually(() => (pools() === want ? Promise.resolve(true) : Promise.reject(new Error(`pools:\n${pools()}`))), 60_000, what);
  const members = (...ports: number[]) => ['pool /k8s/web_80_default lb=round-robin', ...ports.map((p) => `  member /k8s/${nodeIP()}:${p} user-enabled user-up`)].join('\n');
  const holder = async () => (await get().kubeConfig.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: 'kube-system', name: LEASE })).spec?.holderIdentity;
  const requests = (c: RunningController) => [...c.metrics.registry.render().matchAll(/^npl_controller_bigip_requests_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);

  async function startOne(identity: string): Promise<RunningController> {
    const parsed = parseControllerConfig(
      ['--bigip-url', emu.url, '--bigip-ca-file', emu.caFile ?? '', '--bigip-username', 'admin', '--health-address', '127.0.0.1:0', '--resync-period', '1s',
        '--leader-election-id', LEASE, '--leader-election-lease-duration', '3s', '--leader-election-renew-deadline', '2s', '--leader-election-retry-period', '500ms'],
      { BIGIP_PASSWORD: 'admin' },
    );
    if (parsed.help) throw new Error('unexpected help');
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(await serviceAccountKubeconfig(get(), IDENTITY));
    const c = await startController(parsed.config, createLogger({ name: `npl-controller-${identity}`, level: 'silent' }), { kubeConfig, env: { BIGIP_PASSWORD: 'admin' }, identity });
    controllers.push(c);
    return c;
  }

  async function createPod(name: string, nodePort: number): Promise<void> {
    await core().createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name, labels: { app: 'web' }, annotations: { 'nodeportlocal.antrea.io': JSON.stringify([{ podPort: 80, nodeIP: nodeIP(), nodePort, protocol: 'tcp', ipFamily: 'IPv4' }]) } },
        spec: { nodeName: get().nodes[0]!.name, containers: [{ name: 'server', image: 'npl-e2e/server:1', ports: [{ containerPort: 80 }] }] },
      },
    });
  }

  beforeAll(async () => {
    emu = await startEmulator({ partitions: ['k8s'], traffic: false });
  }, T);

  afterAll(async () => {
    for (const c of controllers) await c.stop().catch(() => undefined);
    await emu?.close();
  }, T);

  it('only the Lease holder writes; when it stops the standby takes over and the pool keeps following the pods', async () => {
    const a = await startOne('ctl-a');
    await a.leading;
    const b = await startOne('ctl-b');
    expect(await holder()).toBe('ctl-a');

    await createPod('web-a', 61001);
    await core().createNamespacedService({
      namespace: NS,
      body: { metadata: { name: 'web', annotations: { 'nodeportlocal.antrea.io/enabled': 'true' } }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] } },
    });
    await poolsUntil(members(61001), 'pool written by ctl-a');
    await createPod('web-b', 61002);
    await poolsUntil(members(61001, 61002), 'ctl-a follows a new pod');
    // b has seen the same objects (its caches are listed and watching) yet never spoke to the BIG-IP.
    await eventually(() => Promise.resolve(b.desired().pools.some((p) => p.members.length === 2)), 30_000, 'ctl-b sees both pods');
    expect(b.isLeader()).toBe(false);
    expect((await fetch(`http://${b.healthAddress}/readyz`)).status).toBe(200);
    expect(requests(b)).toBe(0);
    expect(await (await fetch(`http://${b.healthAddress}/metrics`)).text()).toContain(`npl_leader_election_is_leader{lease="kube-system/${LEASE}"} 0`);

    await a.stop();
    await b.leading;
    expect(await holder()).toBe('ctl-b');
    const requestsOfA = requests(a);
    await createPod('web-c', 61003);
    await poolsUntil(members(61001, 61002, 61003), 'ctl-b follows a new pod');
    await core().deleteNamespacedPod({ name: 'web-a', namespace: NS, gracePeriodSeconds: 0 });
    await poolsUntil(members(61002, 61003), 'ctl-b removes a deleted pod');
    expect(requests(b)).toBeGreaterThan(0);
    expect(requests(a)).toBe(requestsOfA);
  }, T);
});
