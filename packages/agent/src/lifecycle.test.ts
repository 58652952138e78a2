/**
 * The agent's wiring as runnables, without root or a cluster: fake list-watch sources, annotation
 * writer, Events, dataplane and port reserver; the real Manager, informers, queue, controller and
 * health server (on loopback).
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { IPFamily } from '@npl/core';
import { NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY } from '@npl/core';
import { FakePortReserver } from '@npl/core/testing';
import { createLogger, eventually, isRuntimeError } from '@npl/runtime';
import { FakeListWatch } from '@npl/runtime/testing';
import type { AgentHandle } from './agent.js';
import { AGENT_RUNNABLES, startAgent } from './agent.js';
import { parseAgentConfig } from './config.js';
import { FakeAnnotationWriter, FakeConntrack, FakeDataplane, FakeEventRecorder } from './testing/index.js';

const NODE = 'node-a';
const NODE_IP = '198.18.0.10';

function node(): V1Node {
  return { metadata: { name: NODE }, status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] } };
}

function pod(name: string, ip: string, annotation?: string): V1Pod {
  return {
    metadata: { namespace: 'default', name, labels: { app: 'web' }, ...(annotation ? { annotations: { [NPL_ANNOTATION_KEY]: annotation } } : {}) },
    spec: { nodeName: NODE, containers: [{ name: 'c', ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
  };
}

function service(): V1Service {
  return {
    metadata: { namespace: 'default', name: 'web', annotations: { [NPL_ENABLED_ANNOTATION_KEY]: 'true' } },
    spec: { type: 'ClusterIP', selector: { app: 'web' }, ipFamilies: ['IPv4'], ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] },
  };
}

interface World {
  readonly pods: FakeListWatch<V1Pod>;
  readonly services: FakeListWatch<V1Service>;
  readonly nodes: FakeListWatch<V1Node>;
  readonly annotations: FakeAnnotationWriter;
  readonly events: FakeEventRecorder;
  readonly dataplanes: Map<IPFamily, FakeDataplane>;
  readonly logs: Record<string, unknown>[];
}

function world(): World {
  const pods = new FakeListWatch<V1Pod>();
  const services = new FakeListWatch<V1Service>();
  const nodes = new FakeListWatch<V1Node>();
  nodes.upsert(node());
  services.upsert(service());
  return { pods, services, nodes, annotations: new FakeAnnotationWriter(pods), events: new FakeEventRecorder(), dataplanes: new Map(), logs: [] };
}

let agent: AgentHandle | undefined;
afterEach(async () => {
  await agent?.stop().catch(() => undefined);
  agent = undefined;
});

async function start(w: World, prepare?: (dp: FakeDataplane) => void, args: readonly string[] = [], conntrack?: FakeConntrack): Promise<AgentHandle> {
  const parsed = parseAgentConfig(['--node-name', NODE, '--health-address', '127.0.0.1:0', '--verify-period', '200ms', ...args], {});
  if (parsed.help) throw new Error('unexpected');
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) w.logs.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  agent = await startAgent(parsed.config, createLogger({ name: 'npl-agent-test', level: 'info', destination }), {
    sources: { pods: w.pods, services: w.services, nodes: w.nodes },
    annotations: w.annotations,
    events: w.events,
    reserver: new FakePortReserver(),
    ephemeralRange: '32768\t60999\n',
    ...(conntrack ? { conntrack } : {}),
    dataplane: (family) => {
      const dp = new FakeDataplane(family);
      prepare?.(dp);
      w.dataplanes.set(family, dp);
      return dp;
    },
  });
  return agent;
}

const messages = (w: World, msg: string): Record<string, unknown>[] => w.logs.filter((l) => l.msg === msg);
const indexOf = (w: World, pred: (l: Record<string, unknown>) => boolean): number => w.logs.findIndex(pred);

describe('npl-agent lifecycle (Manager wiring)', () => {
  it("starts its runnables in Antrea's order, maps the Pod, and stops them in reverse leaving the rules in place", async () => {
    const w = world();
    w.pods.upsert(pod('web-1', '198.18.1.5'));
    const a = await start(w);
    expect(a.manager.startOrder()).toEqual([...AGENT_RUNNABLES]);
    await a.ready;
    expect(a.isReady()).toBe(true);
    expect((await a.health.inject('/readyz')).statusCode).toBe(200);
    await eventually(() => Promise.resolve(w.annotations.value('default', 'web-1')), 10_000, 'annotation written', 20);
    expect(JSON.parse(w.annotations.value('default', 'web-1')!)).toEqual([{ podPort: 8080, nodeIP: NODE_IP, nodePort: 61000, protocol: 'tcp', ipFamily: 'IPv4' }]);
    const dp = w.dataplanes.get('IPv4')!;
    expect(dp.mappings()).toEqual([expect.objectContaining({ nodePort: 61000, podIP: '198.18.1.5', podPort: 8080, protocol: 'tcp' })]);

    const started = messages(w, 'Runnable started').map((l) => l.runnable);
    expect(started).toEqual([...AGENT_RUNNABLES]);
    const at = (msg: string): number => indexOf(w, (l) => l.msg === msg);
    const startedAt = (r: string): number => indexOf(w, (l) => l.msg === 'Runnable started' && l.runnable === r);
    expect(at('Restored NodePortLocal mappings')).toBeLessThan(startedAt('restore'));
    expect(startedAt('restore')).toBeLessThan(at('Initialization of NodePortLocal rules successful'));
    expect(at('Initialization of NodePortLocal rules successful')).toBeLessThan(indexOf(w, (l) => l.msg === 'Starting runnable' && l.runnable === 'workers'));
    expect(startedAt('drift-repair')).toBeLessThan(at('NodePortLocal agent is ready'));

    await a.stop();
    expect(messages(w, 'Runnable stopped').map((l) => l.runnable)).toEqual([...AGENT_RUNNABLES].reverse());
    expect(dp.closed).toBe(true);
    expect(dp.mappings()).toHaveLength(1);
    await expect(a.health.inject('/healthz')).rejects.toThrow();
    agent = undefined;
  });

  it('a Pod that found the range exhausted gets the port freed by a deleted mapping at once, not after its backoff', async () => {
    const w = world();
    w.pods.upsert(pod('web-1', '198.18.1.5'));
    w.pods.upsert(pod('web-2', '198.18.1.6'));
    w.pods.upsert(pod('web-3', '198.18.1.7'));
    const a = await start(w, undefined, ['--port-range', '61000-61001']);
    await a.ready;
    const exhausted = () => w.events.events.filter((e) => e.object === 'Pod/default/web-3' && e.reason === 'NodePortLocalPortsExhausted');
    // Three failed attempts (one Event each in this fake, which does not dedupe): the next retry is >= 8 s away.
    await eventually(() => Promise.resolve(exhausted().length >= 3), 20_000, 'web-3 failed three times', 20);
    expect(exhausted()[0]).toMatchObject({ type: 'Warning', message: 'Pod default/web-3: add IPv4 8080/tcp -> 198.18.1.7 failed: no free port found: every IPv4 tcp node port in 61000-61001 is in use' });
    expect(w.annotations.value('default', 'web-3')).toBeUndefined();
    const freed = JSON.parse(w.annotations.value('default', 'web-1')!) as { nodePort: number }[];
    const t0 = Date.now();
    w.pods.remove('default/web-1');
    await eventually(() => Promise.resolve(w.annotations.value('default', 'web-3')), 5_000, 'web-3 mapped', 20);
    expect(Date.now() - t0).toBeLessThan(4_000);
    expect(JSON.parse(w.annotations.value('default', 'web-3')!)).toEqual([expect.objectContaining({ nodePort: freed[0]!.nodePort })]);
  }, 30_000);

  it('restores node ports from annotations before the first full sync, so the Pod keeps its port', async () => {
    const w = world();
    const text = `[{"podPort":8080,"nodeIP":"${NODE_IP}","nodePort":61007,"protocol":"tcp","ipFamily":"IPv4"}]`;
    w.pods.upsert(pod('web-1', '198.18.1.5', text));
    let replaceAllSawPort: number[] = [];
    const a = await start(w, (dp) => {
      const replaceAll = dp.replaceAll.bind(dp);
      dp.replaceAll = async (ms) => {
        replaceAllSawPort = ms.map((m) => m.nodePort);
        await replaceAll(ms);
      };
    });
    await a.ready;
    expect(replaceAllSawPort).toEqual([61007]);
    await eventually(() => Promise.resolve(a.metrics.reconciles.get({ result: 'success' }) >= 1), 10_000, 'pod reconciled', 20);
    expect(w.annotations.value('default', 'web-1')).toBe(text);
    expect(w.annotations.patches).toEqual([]);
  });

  it('a runnable that cannot start stops what started and ready rejects naming it; the health server is closed', async () => {
    const w = world();
    const a = await start(w, (dp) => {
      dp.init = () => Promise.reject(new Error('nft: command not found'));
    });
    const err = await a.ready.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isRuntimeError(err, 'NPL_RUNNABLE_START_FAILED')).toBe(true);
    expect((err as Error).message).toBe('runnable dataplanes failed to start: nft: command not found');
    expect(messages(w, 'Runnable stopped').map((l) => l.runnable)).toEqual(['dataplanes', 'node-ips', 'informers', 'preflight', 'health']);
    expect(w.dataplanes.get('IPv4')!.closed).toBe(true);
    expect(a.isReady()).toBe(false);
    expect(messages(w, 'Agent start-up failed')).toHaveLength(1);
  });

  it('stop during the start-up sync ends it (no worker ever runs) and stops in reverse', async () => {
    const w = world();
    w.pods.upsert(pod('web-1', '198.18.1.5'));
    const a = await start(w, (dp) => dp.failNext('replaceAll', 1_000));
    await eventually(() => Promise.resolve(messages(w, 'Failed to restore iptables rules, will retry with backoff').length > 0), 10_000, 'sync failing', 20);
    await a.stop();
    agent = undefined;
    await expect(a.ready).rejects.toMatchObject({ code: 'NPL_MANAGER_STOPPED' });
    expect(messages(w, 'Runnable stopped').map((l) => l.runnable)).toEqual(['startup-sync', 'restore', 'dataplanes', 'node-ips', 'informers', 'preflight', 'health']);
    expect(w.annotations.patches).toEqual([]);
    expect(messages(w, 'Agent start-up failed')).toHaveLength(0);
  });
});

describe('npl-agent health on the real wiring (README "Health")', () => {
  const probe = async (a: AgentHandle, path: '/readyz' | '/healthz'): Promise<string> => {
    const res = await a.health.inject(path);
    return `${res.statusCode} ${res.body}`;
  };

  it('/readyz drops while the Pod list/watch fails past --unready-after and comes back with the next list; /healthz stays 200', async () => {
    const w = world();
    const a = await start(w, undefined, ['--unready-after', '300ms']);
    await a.ready;
    expect(await probe(a, '/readyz')).toMatch(/^200 /);
    w.pods.failLists(2, new Error('connect ECONNREFUSED 198.18.0.1:6443'));
    w.pods.endWatches(new Error('socket hang up'));
    await eventually(async () => (await probe(a, '/readyz')).includes('[-] pods-watch: pods list/watch failing for'), 10_000, 'readyz 503 naming the pods watch', 20);
    expect(await probe(a, '/readyz')).toMatch(/^503 /);
    expect(await probe(a, '/healthz')).toMatch(/^200 /);
    expect(a.isReady()).toBe(false);
    expect((await a.health.inject('/metrics')).body).toContain('npl_agent_ready 0');
    await eventually(async () => (await probe(a, '/readyz')).startsWith('200 '), 15_000, 'readyz 200 again after a successful list', 50);
    expect((await a.health.inject('/metrics')).body).toContain('npl_agent_ready 1');
  }, 30_000);

  it('reconciles a Pod once: the watch echo of its own PATCH is skipped, a user edit of the annotation is still corrected', async () => {
    const w = world();
    w.pods.upsert(pod('web-1', '198.18.1.5'));
    const a = await start(w);
    await a.ready;
    await eventually(() => Promise.resolve(a.metrics.updatesSkipped.get() >= 1), 10_000, 'echo of the PATCH seen and skipped', 20);
    const good = w.annotations.value('default', 'web-1');
    expect(JSON.parse(good!)).toEqual([{ podPort: 8080, nodeIP: NODE_IP, nodePort: 61000, protocol: 'tcp', ipFamily: 'IPv4' }]);
    expect(w.annotations.patches).toHaveLength(1);
    // Start-up may queue the Pod twice (informer add, then the workers' initial enqueue); never the echo.
    const settled = a.metrics.reconciles.get({ result: 'success' });
    expect(settled).toBeLessThanOrEqual(2);

    // A status-only update (no reconcile input changed) costs nothing either.
    const current = w.pods.get('default/web-1')!;
    w.pods.upsert({ ...current, status: { ...current.status, conditions: [{ type: 'Ready', status: 'True' }] } });
    await eventually(() => Promise.resolve(a.metrics.updatesSkipped.get() >= 2), 10_000, 'status update skipped', 20);
    expect(a.metrics.reconciles.get({ result: 'success' })).toBe(settled);

    // A user overwrites the annotation: reconciled and corrected (then that echo is skipped again).
    const edited = w.pods.get('default/web-1')!;
    w.pods.upsert({ ...edited, metadata: { ...edited.metadata, annotations: { [NPL_ANNOTATION_KEY]: '[{"podPort":1}]' } } });
    await eventually(() => Promise.resolve(w.annotations.value('default', 'web-1') === good), 10_000, 'annotation corrected', 20);
    await eventually(() => Promise.resolve(a.metrics.updatesSkipped.get() >= 3), 10_000, 'echo of the correction skipped', 20);
    expect(a.metrics.reconciles.get({ result: 'success' })).toBe(settled + 1);
    expect(w.annotations.patches).toHaveLength(2);
  });

  it('/readyz drops while dataplane writes fail past --unready-after and comes back when a retry succeeds', async () => {
    const w = world();
    let dp: FakeDataplane | undefined;
    const a = await start(w, (d) => (dp = d), ['--unready-after', '300ms']);
    await a.ready;
    dp!.failNext('add', 1_000, new Error('nft: Could not process rule: No buffer space available'));
    w.pods.upsert(pod('web-1', '198.18.1.5'));
    await eventually(async () => (await probe(a, '/readyz')).includes('[-] dataplane: dataplane operations failing for'), 10_000, 'readyz 503 naming the dataplane', 20);
    expect(await probe(a, '/readyz')).toContain('No buffer space available');
    expect(await probe(a, '/healthz')).toMatch(/^200 /);
    dp!.failNext('add', 0);
    await eventually(async () => (await probe(a, '/readyz')).startsWith('200 '), 15_000, 'readyz 200 after the requeued add succeeded', 50);
    expect(dp!.mappings()).toHaveLength(1);
  }, 30_000);
});

describe('npl-agent health listen address (security: not every address by default)', () => {
  it("NODE_IP resolves to the Node's InternalIP and the server answers there only", async () => {
    const w = world();
    w.nodes.upsert({ metadata: { name: NODE }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] } });
    const parsed = parseAgentConfig(['--node-name', NODE, '--health-address', 'NODE_IP:0'], {});
    if (parsed.help) throw new Error('unexpected');
    expect(parseAgentConfig(['--node-name', NODE], {})).toMatchObject({ config: { healthAddress: 'NODE_IP:10361' } });
    agent = await startAgent(parsed.config, createLogger({ name: 't', level: 'silent' }), {
      sources: { pods: w.pods, services: w.services, nodes: w.nodes },
      annotations: w.annotations,
      events: w.events,
      reserver: new FakePortReserver(),
      ephemeralRange: '32768\t60999\n',
      dataplane: (family) => new FakeDataplane(family),
    });
    await agent.ready;
    const port = agent.healthAddress.split(':')[1];
    expect(agent.healthAddress).toBe(`127.0.0.1:${port}`);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await expect(fetch(`http://127.0.0.2:${port}/healthz`)).rejects.toThrow();
  });
});


describe('npl-agent follows the Node at run time (address families, conntrack)', () => {
  const NODE_IPV6 = '2001:db8::10';
  const dualPod = (name: string): V1Pod => {
    const p = pod(name, '198.18.1.5');
    return { ...p, status: { ...p.status, podIPs: [{ ip: '198.18.1.5' }, { ip: '2001:db8:1::5' }] } };
  };
  const dualService = (): V1Service => {
    const s = service();
    return { ...s, spec: { ...s.spec, ipFamilyPolicy: 'PreferDualStack', ipFamilies: ['IPv4', 'IPv6'] } };
  };
  const families = (w: World): string[] => (JSON.parse(w.annotations.value('default', 'web-1') ?? '[]') as { ipFamily: string }[]).map((e) => e.ipFamily);
  const withIPv6 = (on: boolean): V1Node => ({
    metadata: { name: NODE },
    status: { addresses: [{ type: 'InternalIP', address: NODE_IP }, ...(on ? [{ type: 'InternalIP', address: NODE_IPV6 }] : [])] },
  });

  it('a Node that gains, loses and regains IPv6 gets, drops and gets again the IPv6 dataplane, mapping and annotation entry', async () => {
    const w = world();
    w.services.upsert(dualService());
    w.pods.upsert(dualPod('web-1'));
    const a = await start(w);
    await a.ready;
    await eventually(() => Promise.resolve(families(w).join() === 'IPv4'), 10_000, 'IPv4 entry only', 20);
    expect([...a.tables.keys()]).toEqual(['IPv4']);

    w.nodes.upsert(withIPv6(true));
    await eventually(() => Promise.resolve(families(w).sort().join() === 'IPv4,IPv6'), 10_000, 'IPv6 entry added', 20);
    const v6 = w.dataplanes.get('IPv6')!;
    expect(v6.mappings()).toEqual([expect.objectContaining({ family: 'IPv6', podIP: '2001:db8:1::5', podPort: 8080 })]);
    expect(a.metrics.familyChanges.get({ family: 'IPv6', op: 'add' })).toBe(1);

    w.nodes.upsert(withIPv6(false));
    await eventually(() => Promise.resolve(families(w).join() === 'IPv4' && v6.tornDown && v6.closed), 10_000, 'IPv6 entry and dataplane removed', 20);
    expect([...a.tables.keys()]).toEqual(['IPv4']);
    expect(w.dataplanes.get('IPv4')!.mappings()).toHaveLength(1);

    w.nodes.upsert(withIPv6(true));
    await eventually(() => Promise.resolve(families(w).sort().join() === 'IPv4,IPv6'), 10_000, 'IPv6 entry added again', 20);
    expect(w.dataplanes.get('IPv6')).not.toBe(v6);
    expect(a.metrics.familyChanges.get({ family: 'IPv6', op: 'remove' })).toBe(1);
  }, 30_000);

  it('a new UDP mapping clears the stale conntrack entries of its node port on the node IPs, and counts them', async () => {
    const w = world();
    const ct = new FakeConntrack();
    const udpService = service();
    udpService.spec!.ports = [{ port: 53, protocol: 'UDP', targetPort: 8053 }];
    w.services.upsert(udpService);
    const p = pod('dns-1', '198.18.1.6');
    p.spec!.containers[0]!.ports = [{ containerPort: 8053, protocol: 'UDP' }];
    ct.addFlow({ family: 'IPv4', protocol: 'udp', src: '203.0.113.9', sport: 40000, dst: NODE_IP, dport: 61000, replySrc: NODE_IP });
    const a = await start(w, undefined, [], ct);
    await a.ready;
    w.pods.upsert(p);
    await eventually(() => Promise.resolve(w.annotations.value('default', 'dns-1')), 10_000, 'annotation written', 20);
    expect(ct.calls).toContainEqual({ family: 'IPv4', protocol: 'udp', origDst: NODE_IP, origDstPort: 61000 });
    expect(ct.dump()).toEqual([]);
    expect(a.metrics.conntrackDeleted.get({ family: 'IPv4' })).toBe(1);

    // A failing clean-up (conntrack missing) is counted and does not fail the mapping's removal.
    ct.failNext(1, new Error('conntrack not found in PATH: install the Debian package conntrack'));
    w.pods.remove('default/dns-1');
    await eventually(() => Promise.resolve(w.dataplanes.get('IPv4')!.mappings().length === 0), 10_000, 'mapping removed', 20);
    await eventually(() => Promise.resolve(a.metrics.conntrackFailures.get({ family: 'IPv4' }) === 1), 10_000, 'failure counted', 20);
    expect(messages(w, 'Could not delete stale conntrack entries; existing UDP flows keep their old destination until they idle out')).toHaveLength(1);
  }, 30_000);
});
