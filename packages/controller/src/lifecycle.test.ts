/**
 * The controller's wiring as runnables, without root or a cluster: fake list-watch sources and
 * Event recorder, a FakeLeaderGate or real LeaderElectors on one FakeLeaseStore, the real Manager,
 * informers, engine and backend against the in-process BIG-IP emulator over HTTPS.
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { V1EndpointSlice, V1ObjectReference, V1Pod, V1Service } from '@kubernetes/client-node';
import { HttpMethod, KubeConfig, RequestContext } from '@kubernetes/client-node';
import type { RunningEmulator } from '@npl/bigip-emulator';
import { startEmulator } from '@npl/bigip-emulator';
import type { EventRecorder, EventType, LeaderGate, LeaseClient } from '@npl/runtime';
import { createLogger, eventually } from '@npl/runtime';
import { FakeLeaderGate, FakeLeaseStore, FakeListWatch } from '@npl/runtime/testing';
import { parseControllerConfig } from './config.js';
import type { RunningController } from './controller.js';
import { CONTROLLER_RUNNABLES, leaseNamespace, SERVICE_ACCOUNT_NAMESPACE_FILE, startController } from './controller.js';
import { pod, service } from './testing/index.js';

const NODE_IP = '198.18.0.10';

/** The cluster as the controllers see it: shared by every instance, as one API server is. */
class World {
  readonly services = new FakeListWatch<V1Service>();
  readonly pods = new FakeListWatch<V1Pod>();
  readonly endpointSlices = new FakeListWatch<V1EndpointSlice>();
  constructor() {
    this.services.upsert(service('web'));
  }
  addPod(name: string, nodePort: number): void {
    this.pods.upsert(pod(name, { labels: { app: 'web' }, mappings: [{ podPort: 8080, nodeIP: NODE_IP, nodePort }] }));
  }
}

class RecordedEvents implements EventRecorder {
  readonly reasons: string[] = [];
  record(_object: V1ObjectReference, _type: EventType, reason: string): void {
    this.reasons.push(reason);
  }
}

interface Instance {
  readonly controller: RunningController;
  readonly events: RecordedEvents;
  readonly logs: Record<string, unknown>[];
  readonly lost: Error[];
}

const WRITES = ['POST', 'PUT', 'PATCH', 'DELETE'];

let emu: RunningEmulator;
const running: RunningController[] = [];

beforeEach(async () => {
  emu = await startEmulator({ partitions: ['k8s'], traffic: false });
});

afterEach(async () => {
  for (const c of running.splice(0)) await c.stop().catch(() => undefined);
  await emu.close();
});

function kubeConfig(): KubeConfig {
  // Never contacted: sources, Events and the Lease are injected. The CA makes client-node build a TLS dispatcher per request.
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://192.0.2.1', caData: Buffer.from('ca').toString('base64') }], users: [{ name: 'u' }], contexts: [{ name: 'c', cluster: 'c', user: 'u' }], currentContext: 'c' });
  return kc;
}

/** The undici dispatcher client-node gives one API request of `kc`. */
async function dispatcherOf(kc: KubeConfig): Promise<unknown> {
  const ctx = new RequestContext('https://192.0.2.1/api/v1/pods', HttpMethod.GET);
  await kc.applySecurityAuthentication(ctx);
  return ctx.getDispatcher();
}

interface StartOptions {
  readonly gate?: LeaderGate;
  readonly lease?: LeaseClient;
  readonly identity?: string;
  readonly args?: string[];
  readonly keepLost?: boolean;
}

async function start(world: World, o: StartOptions = {}, kc = kubeConfig()): Promise<Instance> {
  const parsed = parseControllerConfig(
    ['--bigip-url', emu.url, '--bigip-ca-file', emu.caFile ?? '', '--bigip-username', 'admin', '--health-address', '127.0.0.1:0', '--resync-period', '200ms', ...(o.args ?? [])],
    { BIGIP_PASSWORD: 'admin' },
  );
  if (parsed.help) throw new Error('unexpected help');
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const events = new RecordedEvents();
  const lost: Error[] = [];
  const controller = await startController(parsed.config, createLogger({ name: 'npl-controller-test', level: 'info', destination }), {
    kubeConfig: kc, env: { BIGIP_PASSWORD: 'admin' }, events,
    sources: { services: world.services, pods: world.pods, endpointSlices: world.endpointSlices },
    ...(o.gate ? { leaderGate: o.gate } : {}),
    ...(o.lease ? { lease: o.lease } : {}),
    ...(o.identity ? { identity: o.identity } : {}),
    ...(o.keepLost ? { onLeadershipLost: (err: Error) => lost.push(err) } : {}),
  });
  running.push(controller);
  return { controller, events, logs, lost };
}

/** Pools and members of partition k8s, as the emulator dumps them. */
const pools = (): string => emu.state.dump().split('\n').filter((l) => l.startsWith('pool /k8s/') || l.startsWith('  member /k8s/')).join('\n');
const members = (...ports: number[]): string => ['pool /k8s/web_8080_prod lb=round-robin', ...ports.map((p) => `  member /k8s/${NODE_IP}:${p} user-enabled user-up`)].join('\n');
const poolsUntil = (want: string, what: string): Promise<unknown> =>
  eventually(() => (pools() === want ? Promise.resolve(true) : Promise.reject(new Error(`pools:\n${pools()}`))), 20_000, what, 20);
/** BIG-IP writes this instance made (its client's responses, by method). */
const writesBy = (c: RunningController): number => WRITES.reduce((n, method) => n + sumCounter(c, method), 0);
function sumCounter(c: RunningController, method: string): number {
  const text = c.metrics.registry.render();
  let n = 0;
  for (const m of text.matchAll(new RegExp(`^npl_controller_bigip_requests_total\\{method="${method}",status="\\d+"\\} (\\d+)`, 'gm'))) n += Number(m[1]);
  return n;
}
const requestsBy = (c: RunningController): number => [...c.metrics.registry.render().matchAll(/^npl_controller_bigip_requests_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
const started = (i: Instance): unknown[] => i.logs.filter((l) => l.msg === 'Runnable started').map((l) => l.runnable);
const stopped = (i: Instance): unknown[] => i.logs.filter((l) => l.msg === 'Runnable stopped').map((l) => l.runnable);

describe('npl-controller lifecycle (Manager wiring)', () => {
  it('starts health, informers, the leader gate, then the engine and the resync loop; stops them in reverse', async () => {
    const world = new World();
    world.addPod('web-1', 61001);
    const a = await start(world, { gate: new FakeLeaderGate(true) });
    expect(a.controller.manager.startOrder()).toEqual([...CONTROLLER_RUNNABLES]);
    await a.controller.leading;
    expect(started(a)).toEqual([...CONTROLLER_RUNNABLES]);
    await poolsUntil(members(61001), 'pool written by the leader');
    await a.controller.engine.idle();
    expect(a.events.reasons).toContain('PoolSynced');
    await a.controller.stop();
    expect(stopped(a)).toEqual([...CONTROLLER_RUNNABLES].reverse());
    await expect(a.controller.health.inject('/healthz')).rejects.toThrow();
  });

  it('API requests share one keep-alive connection pool (client-node alone opens a TLS connection per request)', async () => {
    const plain = kubeConfig();
    expect(await dispatcherOf(plain)).not.toBe(await dispatcherOf(plain));
    const kc = kubeConfig();
    await start(new World(), { args: ['--leader-elect', 'false'] }, kc);
    const shared = await dispatcherOf(kc);
    expect(shared).toBeDefined();
    expect(await dispatcherOf(kc)).toBe(shared);
  });

  it('without leader election there is no gate: the engine starts right after the caches', async () => {
    const world = new World();
    const a = await start(world, { args: ['--leader-elect', 'false', '--resync-period', '0'] });
    expect(a.controller.manager.startOrder()).toEqual(['health', 'informers', 'sync-engine']);
    await a.controller.leading;
    expect(a.controller.isLeader()).toBe(true);
    await poolsUntil('pool /k8s/web_8080_prod lb=round-robin', 'empty pool');
  });

  it('a standby is ready but never writes to BIG-IP nor records Events; on takeover it writes and the pool follows changes', async () => {
    const world = new World();
    world.addPod('web-1', 61001);
    const leaderGate = new FakeLeaderGate(true);
    const standbyGate = new FakeLeaderGate();
    const leader = await start(world, { gate: leaderGate, keepLost: true });
    const standby = await start(world, { gate: standbyGate });
    await poolsUntil(members(61001), 'pool written by the leader');
    world.addPod('web-2', 61002);
    await poolsUntil(members(61001, 61002), 'leader follows a new pod');
    // Sync point: the leader has synced twice after the standby's caches were listed; the standby had the same events.
    await leader.controller.engine.idle();
    expect((await standby.controller.health.inject('/readyz')).statusCode).toBe(200);
    expect(standby.controller.isLeader()).toBe(false);
    expect(started(standby)).toEqual(['health', 'informers']);
    expect(requestsBy(standby.controller)).toBe(0);
    expect(standby.events.reasons).toEqual([]);

    // The leader loses its Lease: the manager's onLeadershipLost runs (the CLI exits); the test stops it.
    leaderGate.revoke(new Error('Lease lost'));
    expect(leader.lost.map((e) => e.message)).toEqual(['Lease lost']);
    await leader.controller.stop();
    const writesBefore = emu.requestLog.count();
    standbyGate.grant();
    await standby.controller.leading;
    world.addPod('web-3', 61003);
    await poolsUntil(members(61001, 61002, 61003), 'the new leader follows a new pod');
    await standby.controller.engine.idle();
    expect(writesBy(standby.controller)).toBeGreaterThan(0);
    expect(emu.requestLog.count()).toBeGreaterThan(writesBefore);
    expect(standby.events.reasons).toContain('PoolSynced');
  });

  it('lost leadership stops the engine (default handler: the manager stops); no write follows', async () => {
    const world = new World();
    world.addPod('web-1', 61001);
    const gate = new FakeLeaderGate(true);
    const a = await start(world, { gate });
    await poolsUntil(members(61001), 'pool written');
    gate.revoke();
    await eventually(() => Promise.resolve(stopped(a).includes('health')), 10_000, 'manager stopped', 20);
    const requests = requestsBy(a.controller);
    world.addPod('web-2', 61002);
    // Sync point: the informer was stopped too, so nothing can trigger; a resync period (200 ms) would have passed twice.
    await a.controller.engine.idle();
    expect(stopped(a)).toEqual([...CONTROLLER_RUNNABLES].reverse());
    expect(requestsBy(a.controller)).toBe(requests);
    expect(pools()).toBe(members(61001));
  });

  it('two instances with LeaderElectors on one Lease: one leads (metrics, /healthz); stopping it releases the Lease and the other takes over', async () => {
    const world = new World();
    world.addPod('web-1', 61001);
    const store = new FakeLeaseStore();
    const args = ['--leader-election-lease-duration', '2s', '--leader-election-renew-deadline', '1s', '--leader-election-retry-period', '100ms'];
    const a = await start(world, { lease: store.client('kube-system/npl-controller'), identity: 'a', args });
    await a.controller.leading;
    const b = await start(world, { lease: store.client('kube-system/npl-controller'), identity: 'b', args });
    await poolsUntil(members(61001), 'pool written by a');
    expect(store.record('kube-system/npl-controller')?.holderIdentity).toBe('a');
    expect(a.controller.metrics.registry.render()).toContain('npl_leader_election_is_leader{lease="kube-system/npl-controller"} 1');
    expect(b.controller.metrics.registry.render()).toContain('npl_leader_election_is_leader{lease="kube-system/npl-controller"} 0');
    const healthz = await a.controller.health.inject('/healthz');
    expect(healthz.statusCode).toBe(200);
    expect(healthz.body).toContain('[+] leader-election ok');
    expect(requestsBy(b.controller)).toBe(0);

    await a.controller.stop();
    await b.controller.leading;
    expect(store.record('kube-system/npl-controller')?.holderIdentity).toBe('b');
    world.addPod('web-2', 61002);
    await poolsUntil(members(61001, 61002), 'b follows a new pod');
    expect(writesBy(b.controller)).toBeGreaterThan(0);
  });
});

describe('the Lease namespace', () => {
  const cfg = (args: string[] = []) => {
    const r = parseControllerConfig(['--bigip-url', 'https://192.0.2.1', '--bigip-username', 'a', ...args], { BIGIP_PASSWORD: 'x' });
    if (r.help) throw new Error('help');
    return r.config;
  };
  const noFile = (): string => {
    throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  };
  it('flag first, then POD_NAMESPACE, then the ServiceAccount file, else kube-system', () => {
    expect(leaseNamespace(cfg(['--leader-election-namespace', 'bigip']), { POD_NAMESPACE: 'ns1' }, noFile)).toBe('bigip');
    expect(leaseNamespace(cfg(), { POD_NAMESPACE: 'ns1' }, noFile)).toBe('ns1');
    const read = (p: string): string => (p === SERVICE_ACCOUNT_NAMESPACE_FILE ? 'ns2\n' : noFile());
    expect(leaseNamespace(cfg(), {}, read)).toBe('ns2');
    expect(leaseNamespace(cfg(), {}, noFile)).toBe('kube-system');
  });
});
