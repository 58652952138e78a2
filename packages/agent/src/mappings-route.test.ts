/**
 * GET /mappings on the agent's real wiring (Manager, informers, controller, port tables, health
 * server) with fake list-watch sources, dataplane and port reserver: rule state read back from the
 * dataplane, socket held, annotation match, the pod filter, and a mapping whose add is under way.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import type { DnatMapping } from '@npl/core';
import { NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY } from '@npl/core';
import { FakePortReserver } from '@npl/core/testing';
import { createLogger, eventually } from '@npl/runtime';
import { FakeListWatch } from '@npl/runtime/testing';
import type { AgentHandle } from './agent.js';
import { startAgent } from './agent.js';
import { parseAgentConfig } from './config.js';
import type { MappingsReport } from './mappings-report.js';
import { FakeAnnotationWriter, FakeDataplane, FakeEventRecorder } from './testing/index.js';

const NODE = 'node-a';
const NODE_IP = '198.18.0.10';

function pod(name: string, ip: string): V1Pod {
  return {
    metadata: { namespace: 'default', name, uid: `uid-${name}`, labels: { app: 'web' } },
    spec: { nodeName: NODE, containers: [{ name: 'c', ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
  };
}

interface World {
  readonly pods: FakeListWatch<V1Pod>;
  readonly annotations: FakeAnnotationWriter;
  readonly reserver: FakePortReserver;
  dataplane?: FakeDataplane;
}

let agent: AgentHandle | undefined;
afterEach(async () => {
  await agent?.stop().catch(() => undefined);
  agent = undefined;
});

async function start(prepare?: (dp: FakeDataplane) => void): Promise<{ a: AgentHandle; w: World }> {
  const pods = new FakeListWatch<V1Pod>();
  const services = new FakeListWatch<V1Service>();
  const nodes = new FakeListWatch<V1Node>();
  nodes.upsert({ metadata: { name: NODE }, status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] } });
  services.upsert({
    metadata: { namespace: 'default', name: 'web', annotations: { [NPL_ENABLED_ANNOTATION_KEY]: 'true' } },
    spec: { type: 'ClusterIP', selector: { app: 'web' }, ipFamilies: ['IPv4'], ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] },
  });
  const w: World = { pods, annotations: new FakeAnnotationWriter(pods), reserver: new FakePortReserver() };
  const parsed = parseAgentConfig(['--node-name', NODE, '--health-address', '127.0.0.1:0', '--verify-period', '0'], {});
  if (parsed.help) throw new Error('unexpected');
  agent = await startAgent(parsed.config, createLogger({ name: 't', level: 'silent' }), {
    sources: { pods, services, nodes },
    annotations: w.annotations,
    events: new FakeEventRecorder(),
    reserver: w.reserver,
    ephemeralRange: '32768\t60999\n',
    dataplane: (family) => {
      const dp = new FakeDataplane(family);
      prepare?.(dp);
      w.dataplane = dp;
      return dp;
    },
  });
  await agent.ready;
  return { a: agent, w };
}

async function mappings(a: AgentHandle, query = ''): Promise<MappingsReport> {
  const res = await a.health.inject(`/mappings${query}`);
  expect([res.statusCode, res.headers['content-type']]).toEqual([200, 'application/json; charset=utf-8']);
  return res.json<MappingsReport>();
}

const annotated = (w: World, name: string) => eventually(() => Promise.resolve(w.annotations.value('default', name)), 10_000, `annotation of ${name}`, 20);

describe('GET /mappings on the agent wiring', () => {
  it('lists each mapping with its rule present, socket held and annotation matching; a rule deleted behind the agent reads missing', async () => {
    const { a, w } = await start();
    w.pods.upsert(pod('web-1', '198.18.1.5'));
    w.pods.upsert(pod('web-0', '198.18.1.4'));
    await annotated(w, 'web-0');
    await annotated(w, 'web-1');
    const report = await mappings(a);
    expect(report).toMatchObject({ schemaVersion: 1, node: NODE, synced: true, dataplanes: [{ family: 'IPv4', read: 'ok' }] });
    expect(report.mappings.map((m) => m.pod.name)).toEqual(['web-0', 'web-1']);
    const web1 = report.mappings[1]!;
    expect(web1).toEqual({
      pod: { namespace: 'default', name: 'web-1', uid: 'uid-web-1' },
      podIP: '198.18.1.5',
      podPort: 8080,
      protocol: 'tcp',
      family: 'IPv4',
      nodeIP: NODE_IP,
      nodePort: web1.nodePort,
      rule: 'present',
      socketHeld: true,
      annotation: 'match',
      defunct: false,
      services: ['default/web'],
    });

    await w.dataplane!.tamper(web1.nodePort, 'tcp');
    const after = await mappings(a);
    expect(after.mappings.map((m) => [m.pod.name, m.rule, m.socketHeld, m.annotation])).toEqual([
      ['web-0', 'present', true, 'match'],
      ['web-1', 'missing', true, 'match'],
    ]);
  });

  it('?pod=namespace/name gives only that Pod, an unknown Pod gives none, and a malformed value is a 400 naming the parameter', async () => {
    const { a, w } = await start();
    w.pods.upsert(pod('web-1', '198.18.1.5'));
    w.pods.upsert(pod('web-0', '198.18.1.4'));
    await annotated(w, 'web-0');
    await annotated(w, 'web-1');
    expect((await mappings(a, '?pod=default/web-1')).mappings.map((m) => m.pod.name)).toEqual(['web-1']);
    expect((await mappings(a, '?pod=default/nope')).mappings).toEqual([]);
    const bad = await a.health.inject('/mappings?pod=web-1');
    expect([bad.statusCode, bad.json()]).toEqual([400, { error: 'query parameter pod "web-1": expected namespace/name, e.g. ?pod=default/web-0' }]);
  });

  it('a mapping whose rule is being added reads pending; once added, present; the annotation follows', async () => {
    let release: () => void = () => undefined;
    const { a, w } = await start((dp) => {
      const add = dp.add.bind(dp);
      dp.add = async (m: DnatMapping) => {
        await new Promise<void>((r) => (release = r));
        await add(m);
      };
    });
    w.pods.upsert(pod('web-0', '198.18.1.4'));
    const pending = await eventually(
      async () => {
        const r = await mappings(a);
        return r.mappings.length === 1 ? r : undefined;
      },
      10_000,
      'mapping in the table',
      20,
    );
    expect(pending.mappings.map((m) => [m.rule, m.socketHeld, m.annotation])).toEqual([['pending', true, 'absent']]);
    release();
    await annotated(w, 'web-0');
    expect((await mappings(a)).mappings.map((m) => [m.rule, m.annotation])).toEqual([['present', 'match']]);
    expect(w.annotations.value('default', 'web-0')).toContain(`"nodeIP":"${NODE_IP}"`);
    expect(w.pods.get('default/web-0')?.metadata?.annotations?.[NPL_ANNOTATION_KEY]).toBeDefined();
  });
});
