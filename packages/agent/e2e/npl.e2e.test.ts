/**
 * Antrea's NodePortLocal e2e (spec §8.6, test/e2e/nodeportlocal_test.go) on the local cluster: a
 * real API server, npl-agent processes in node network namespaces programming real nftables, and
 * real TCP/UDP from another node and from outside. Plus the failure modes issue 4 lists.
 */
import { expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { POD_IP_ANNOTATION } from '@npl/cluster';
import { describeWithCluster, eventually } from '@npl/cluster/testing';
import { NPL_ANNOTATION_KEY } from '@npl/core';
import {
  annotation,
  core,
  deletePod,
  deleteService,
  expectMappingWorks,
  healthz,
  NS,
  nftMappings,
  readPod,
  request,
  socketHeld,
  waitAnnotation,
} from './harness.js';
import { agentSuite } from './testing/agent-suite.js';

const T = 240_000;

describeWithCluster('npl-agent end to end (Antrea e2e cases 50-55)', { name: 'nplae2e', nodes: 2 }, (get) => {
  const { fleet, node, pod, service } = agentSuite(get, T);

  async function checkAll(p: V1Pod, count: number): Promise<void> {
    const entries = await waitAnnotation(get(), p.metadata!.name!, count);
    for (const e of entries) expect(await expectMappingWorks(get(), node(), p, e)).toEqual([]);
  }

  async function expectGone(nodePorts: { nodePort: number; protocol: 'tcp' | 'udp' }[]): Promise<void> {
    await eventually(
      async () => {
        const rules = await nftMappings(get(), node());
        for (const { nodePort, protocol } of nodePorts) {
          if (rules.some((m) => m.nodePort === nodePort && m.protocol === protocol)) return false;
          if (await socketHeld(get(), node(), nodePort, protocol)) return false;
        }
        return true;
      },
      60_000,
      'rules and sockets removed',
    );
  }

  it('NPLTestMultiplePods: three Pods on one node each get a working mapping; deleting them removes rules and sockets', async () => {
    const pods = await Promise.all(['mp-a', 'mp-b', 'mp-c'].map((n) => pod(n, { app: 'multi' })));
    await service('multi', { app: 'multi' }, [{ port: 80, targetPort: 80 }]);
    const used: { nodePort: number; protocol: 'tcp' | 'udp' }[] = [];
    for (const p of pods) {
      await checkAll(p, 1);
      used.push(...(await annotation(get(), p.metadata!.name!)));
    }
    expect(new Set(used.map((u) => u.nodePort)).size).toBe(3);
    for (const p of pods) await deletePod(get(), p.metadata!.name!);
    await expectGone(used);
  }, T);

  it('NPLTestPodAddMultiPort: two Services on ports 80 and 8080 give two working mappings', async () => {
    const p = await pod('multiport', { app: 'mport' }, [
      { name: 'http1', containerPort: 80 },
      { name: 'http2', containerPort: 8080 },
    ]);
    await service('mport-a', { app: 'mport' }, [{ port: 80, targetPort: 80 }]);
    await service('mport-b', { app: 'mport' }, [{ port: 8080, targetPort: 8080 }]);
    await checkAll(p, 2);
    const used = await annotation(get(), 'multiport');
    expect(used.map((e) => e.podPort).sort()).toEqual([80, 8080]);
    await deletePod(get(), 'multiport');
    await expectGone(used);
  }, T);

  it('NPLTestPodAddMultiProtocol: TCP and UDP Services on 8080 give tcp and udp mappings; deleting the UDP one keeps tcp working', async () => {
    const p = await pod('multiproto', { app: 'mproto' }, [
      { containerPort: 8080, protocol: 'TCP' },
      { containerPort: 8080, protocol: 'UDP' },
    ]);
    await service('mproto-tcp', { app: 'mproto' }, [{ port: 8080, targetPort: 8080, protocol: 'TCP' }]);
    await service('mproto-udp', { app: 'mproto' }, [{ port: 8080, targetPort: 8080, protocol: 'UDP' }]);
    await checkAll(p, 2);
    const udp = (await annotation(get(), 'multiproto')).find((e) => e.protocol === 'udp')!;
    await deleteService(get(), 'mproto-udp');
    const left = await waitAnnotation(get(), 'multiproto', 1, (a) => a[0]!.protocol === 'tcp');
    expect(await expectMappingWorks(get(), node(), p, left[0]!)).toEqual([]);
    await expectGone([udp]);
  }, T);

  it('NPLTestLocalAccess: the node itself, another Pod on the node and the Pod itself (hairpin) reach the mapping', async () => {
    const p = await pod('local', { app: 'local' });
    const client = await pod('local-client', { app: 'client' });
    await service('local', { app: 'local' }, [{ port: 80, targetPort: 80 }]);
    const [e] = await waitAnnotation(get(), 'local', 1);
    expect(await expectMappingWorks(get(), node(), p, e!)).toEqual([]);
    expect(await request(get(), node().netns, node().ip, e!.nodePort)).toContain('local');
    expect(await request(get(), get().podNetns(client.metadata!.uid!), node().ip, e!.nodePort)).toContain('local');
    expect(await request(get(), get().podNetns(p.metadata!.uid!), node().ip, e!.nodePort)).toContain('local');
  }, T);

  it('testNPLMultiplePodsAgentRestart: a rule deleted by hand comes back after an agent restart, with the same node ports', async () => {
    const pods = await Promise.all(['rs-a', 'rs-b', 'rs-c', 'rs-d'].map((n) => pod(n, { app: 'restart' })));
    await service('restart', { app: 'restart' }, [{ port: 80, targetPort: 80 }]);
    const before = new Map<string, number>();
    for (const p of pods) before.set(p.metadata!.name!, (await waitAnnotation(get(), p.metadata!.name!, 1))[0]!.nodePort);
    const victim = before.get('rs-a')!;
    await fleet.stop(node());
    await get().exec(node().netns, ['nft', 'delete', 'element', 'ip', 'npl', 'addrs', `{ tcp . ${victim} }`]);
    await get().exec(node().netns, ['nft', 'delete', 'element', 'ip', 'npl', 'ports', `{ tcp . ${victim} }`]);
    expect((await nftMappings(get(), node())).some((m) => m.nodePort === victim)).toBe(false);
    expect(await request(get(), get().outsideNetns, node().ip, victim)).toBe('');
    await fleet.start(node());
    await fleet.waitReady();
    for (const p of pods) {
      const [e] = await waitAnnotation(get(), p.metadata!.name!, 1);
      expect(e!.nodePort).toBe(before.get(p.metadata!.name!));
      expect(await expectMappingWorks(get(), node(), p, e!)).toEqual([]);
    }
  }, T);

  it('testNPLChangePortRangeAgentRestart: after a restart with 28000-29000, old rules and sockets are gone and mappings move into the new range', async () => {
    const p = await pod('range', { app: 'range' });
    await service('range', { app: 'range' }, [{ port: 80, targetPort: 80 }]);
    const [old] = await waitAnnotation(get(), 'range', 1, (a) => a[0]!.nodePort >= 61000);
    try {
      await fleet.stop(node());
      await fleet.start(node(), ['--port-range', '28000-29000']);
      await fleet.waitReady();
      const [moved] = await waitAnnotation(get(), 'range', 1, (a) => a[0]!.nodePort >= 28000 && a[0]!.nodePort <= 29000);
      expect(await expectMappingWorks(get(), node(), p, moved!)).toEqual([]);
      await expectGone([old!]);
    } finally {
      await fleet.stop(node());
      await fleet.start(node());
      await fleet.waitReady();
    }
  }, T);

  it('pod IP recycle: deleting a terminated Pod does not remove the mapping of a new Pod that got its IP (TestPodIPRecycle, Antrea #6527)', async () => {
    // One worker: the agent then reconciles Pods in the order its one Pod watch delivered them,
    // which gives the sync point below.
    await fleet.start(node(), ['--workers', '1']);
    try {
      await fleet.waitReady();
      const old = await pod('recycle-old', { app: 'recycle' });
      await service('recycle', { app: 'recycle' }, [{ port: 80, targetPort: 80 }]);
      await waitAnnotation(get(), 'recycle-old', 1);
      const ip = old.status!.podIP!;
      await core(get()).patchNamespacedPodStatus({ name: 'recycle-old', namespace: NS, body: [{ op: 'replace', path: '/status/phase', value: 'Succeeded' }] });
      await waitAnnotation(get(), 'recycle-old', 0);
      // Arranged, not hoped for: the new Pod asks the cluster's IPAM for the terminated Pod's
      // address, which it gets once the stand-in has torn the terminated Pod's sandbox down.
      const fresh = await pod('recycle-new', { app: 'recycle' }, undefined, { [POD_IP_ANNOTATION]: ip });
      expect(fresh.status!.podIP).toBe(ip);
      expect((await readPod(get(), 'recycle-old'))?.status?.podIP).toBe(ip);
      const [e] = await waitAnnotation(get(), 'recycle-new', 1);
      await deletePod(get(), 'recycle-old');
      // Sync point instead of a sleep: a Pod created after the deletion is annotated only after the
      // deletion's reconcile ran, so whatever that reconcile removes is gone by then.
      await pod('recycle-after', { app: 'recycle' });
      await waitAnnotation(get(), 'recycle-after', 1);
      expect((await nftMappings(get(), node())).filter((m) => m.podIP === ip).map((m) => m.nodePort)).toEqual([e!.nodePort]);
      expect(await expectMappingWorks(get(), node(), fresh, e!)).toEqual([]);
    } finally {
      await fleet.start(node());
      await fleet.waitReady();
    }
  }, T);

  it('hostPort: a container hostPort is published as the node port, with no rule and no socket', async () => {
    await pod('hostport', { app: 'hostport' }, [{ containerPort: 80, hostPort: 30080 }]);
    await service('hostport', { app: 'hostport' }, [{ port: 80, targetPort: 80 }]);
    const [e] = await waitAnnotation(get(), 'hostport', 1);
    expect(e!.nodePort).toBe(30080);
    expect((await nftMappings(get(), node())).some((m) => m.nodePort === 30080)).toBe(false);
    expect(await request(get(), get().outsideNetns, node().ip, 30080)).toContain('hostport');
  }, T);

  it('named target port: a Service targeting a container port by name maps that port', async () => {
    const p = await pod('named', { app: 'named' }, [{ name: 'web', containerPort: 8081 }]);
    await service('named', { app: 'named' }, [{ port: 80, targetPort: 'web' }]);
    const [e] = await waitAnnotation(get(), 'named', 1);
    expect(e!.podPort).toBe(8081);
    expect(await expectMappingWorks(get(), node(), p, e!)).toEqual([]);
  }, T);

  it('Service type change: NodePort removes the mapping, ClusterIP brings it back', async () => {
    await pod('typechg', { app: 'typechg' });
    await service('typechg', { app: 'typechg' }, [{ port: 80, targetPort: 80 }]);
    const [e] = await waitAnnotation(get(), 'typechg', 1);
    await core(get()).patchNamespacedService(
      { name: 'typechg', namespace: NS, body: [{ op: 'replace', path: '/spec/type', value: 'NodePort' }] },
    );
    await waitAnnotation(get(), 'typechg', 0);
    await expectGone([e!]);
    await core(get()).patchNamespacedService({
      name: 'typechg',
      namespace: NS,
      body: [
        { op: 'replace', path: '/spec/type', value: 'ClusterIP' },
        { op: 'remove', path: '/spec/ports/0/nodePort' },
      ],
    });
    await waitAnnotation(get(), 'typechg', 1);
  }, T);

  it('selector change: a selector that stops matching removes the mapping, restoring it re-adds one', async () => {
    await pod('selchg', { app: 'selchg' });
    await service('selchg', { app: 'selchg' }, [{ port: 80, targetPort: 80 }]);
    await waitAnnotation(get(), 'selchg', 1);
    await core(get()).patchNamespacedService({ name: 'selchg', namespace: NS, body: [{ op: 'replace', path: '/spec/selector', value: { app: 'nothing' } }] });
    await waitAnnotation(get(), 'selchg', 0);
    await core(get()).patchNamespacedService({ name: 'selchg', namespace: NS, body: [{ op: 'replace', path: '/spec/selector', value: { app: 'selchg' } }] });
    await waitAnnotation(get(), 'selchg', 1);
  }, T);

  it('annotation edited or corrupted by a user is corrected to the real mapping', async () => {
    await pod('edited', { app: 'edited' });
    await service('edited', { app: 'edited' }, [{ port: 80, targetPort: 80 }]);
    const [e] = await waitAnnotation(get(), 'edited', 1);
    for (const value of ['this is not json', `[{"podPort":80,"nodeIP":"${node().ip}","nodePort":61999,"protocol":"tcp","ipFamily":"IPv4"}]`]) {
      await core(get()).patchNamespacedPod({
        name: 'edited',
        namespace: NS,
        body: [{ op: 'replace', path: `/metadata/annotations/${NPL_ANNOTATION_KEY.replace('/', '~1')}`, value }],
      });
      await waitAnnotation(get(), 'edited', 1, (a) => a[0]!.nodePort === e!.nodePort);
    }
  }, T);

  it('agent killed with SIGKILL while syncing many Pods restarts with the same ports and leaks nothing', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `kill-${i}`);
    await service('kill', { app: 'kill' }, [{ port: 80, targetPort: 80 }]);
    await Promise.all(names.map((n) => pod(n, { app: 'kill' })));
    await fleet.stop(node(), 'SIGKILL');
    await fleet.start(node());
    // Killed again once it runs (serves /healthz), i.e. during its start-up sync, not at a guessed time.
    await eventually(async () => (await healthz(node())).ok, 60_000, 'restarted npl-agent serving /healthz');
    await fleet.stop(node(), 'SIGKILL');
    await fleet.start(node());
    await fleet.waitReady();
    const ports = new Map<string, number>();
    for (const n of names) ports.set(n, (await waitAnnotation(get(), n, 1))[0]!.nodePort);
    expect(new Set(ports.values()).size).toBe(names.length);
    await fleet.stop(node());
    await fleet.start(node());
    await fleet.waitReady();
    for (const n of names) expect((await waitAnnotation(get(), n, 1))[0]!.nodePort).toBe(ports.get(n));
    const rules = await nftMappings(get(), node());
    const mine = [...ports.values()];
    expect(rules.filter((m) => mine.includes(m.nodePort))).toHaveLength(names.length);
    const p = (await readPod(get(), 'kill-0'))!;
    expect(await expectMappingWorks(get(), node(), p, (await annotation(get(), 'kill-0'))[0]!)).toEqual([]);
  }, T);
});
