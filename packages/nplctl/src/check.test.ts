/**
 * `nplctl check` over the stateful fakes (testing/index.ts): the Pod, its Services, the agent's
 * /mappings answer and TCP listeners; the exact lines and the exit code.
 */
import { describe, expect, it } from '@jest/globals';
import { runCheck } from './commands.js';
import { annotation, FakeCluster, fakeDeps, pod, service } from './testing/index.js';

const HOST = '198.18.0.3';
const URL = `http://${HOST}:10361/mappings?pod=default%2Fweb-0`;
const ANN = annotation([80, 'tcp', HOST, 61000], [53, 'udp', HOST, 61001]);

function agentMapping(podPort: number, protocol: string, nodePort: number, over: Record<string, unknown> = {}) {
  return { pod: { namespace: 'default', name: 'web-0', uid: 'uid-web-0' }, podIP: '198.18.1.4', podPort, protocol, family: 'IPv4', nodeIP: HOST, nodePort, rule: 'present', socketHeld: true, annotation: 'match', defunct: false, services: ['default/web'], ...over };
}

function report(...mappings: unknown[]) {
  return { schemaVersion: 1, node: 'node-1', synced: true, dataplanes: [{ family: 'IPv4', read: 'ok' }], mappings };
}

const cmd = { kind: 'check' as const, namespace: 'default', name: 'web-0', agentPort: 10361, connect: false, timeoutMs: 1000 };

function world(podAnnotation: string | null = ANN) {
  const cluster = new FakeCluster().addService(service({ name: 'web', ports: [{ port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] }));
  cluster.addPod(pod({ name: 'web-0', node: 'node-1', hostIP: HOST, ...(podAnnotation === null ? {} : { annotation: podAnnotation }) }));
  return cluster;
}

describe('nplctl check', () => {
  it('a healthy Pod: every check passes, exit 0; --connect tries each TCP entry and skips UDP', async () => {
    const agents = new Map([[URL, report(agentMapping(80, 'tcp', 61000), agentMapping(53, 'udp', 61001))]]);
    const out = await runCheck({ ...cmd, connect: true }, fakeDeps(world(), agents, new Set([`${HOST}:61000`])));
    expect(out.stdout).toBe(
      [
        `✔ Pod default/web-0 runs on node node-1 (hostIP ${HOST})`,
        '✔ selected by NodePortLocal Service default/web',
        '✔ annotation nodeportlocal.antrea.io is present',
        '✔ annotation parses: 2 entries',
        `✔ npl-agent on node node-1 answers at ${URL}`,
        `✔ tcp/80 -> ${HOST}:61000: rule present in the dataplane of node-1`,
        `✔ tcp/80 -> ${HOST}:61000: node port socket held by npl-agent`,
        `✔ udp/53 -> ${HOST}:61001: rule present in the dataplane of node-1`,
        `✔ udp/53 -> ${HOST}:61001: node port socket held by npl-agent`,
        `✔ TCP connect to ${HOST}:61000 succeeded`,
        `- udp/53 -> ${HOST}:61001: no connect check for udp (no handshake)`,
        '',
      ].join('\n'),
    );
    expect(out.exitCode).toBe(0);
  });

  it('a rule deleted by hand and a socket not held: ✘ with what to do, exit 1; a refused connect too', async () => {
    const agents = new Map([[URL, report(agentMapping(80, 'tcp', 61000, { rule: 'missing' }), agentMapping(53, 'udp', 61001, { socketHeld: false }))]]);
    const out = await runCheck({ ...cmd, connect: true }, fakeDeps(world(), agents));
    const failed = out.stdout.split('\n').filter((l) => l.startsWith('✘'));
    expect(failed).toEqual([
      `✘ tcp/80 -> ${HOST}:61000: rule missing in the dataplane of node-1 — the agent's drift repair reinstalls it within its --verify-period (60 s by default); if it stays missing, read the agent's logs (Dataplane drift found)`,
      `✘ udp/53 -> ${HOST}:61001: node port socket not held by npl-agent — another process may hold port 61001/udp on node-1 (ss -lntup there); read the agent logs`,
      `✘ TCP connect to ${HOST}:61000 failed: ECONNREFUSED — if the rule and socket checks pass, check routing and firewalls between here and the node, and that the Pod listens on its port`,
    ]);
    expect(out.exitCode).toBe(1);
  });

  it('the agent and the annotation disagree: a mapping only one of them has, another node port', async () => {
    const agents = new Map([[URL, report(agentMapping(80, 'tcp', 61005), agentMapping(8080, 'tcp', 61002))]]);
    const out = await runCheck(cmd, fakeDeps(world(), agents));
    expect(out.stdout.split('\n').filter((l) => l.startsWith('✘')).map((l) => l.split(' — ')[0])).toEqual([
      `✘ tcp/80 -> ${HOST}:61000: npl-agent on node-1 maps this pod port to node port 61005`,
      `✘ udp/53 -> ${HOST}:61001: npl-agent on node-1 has no such mapping`,
      `✘ tcp/8080 -> ${HOST}:61002: npl-agent maps it but the annotation lacks it`,
    ]);
    expect(out.exitCode).toBe(1);
  });

  it('the agent does not answer: ✘ naming the URL and the --agent-port flag; rules and sockets are not checked', async () => {
    const out = await runCheck(cmd, fakeDeps(world()));
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines[4]).toBe(
      `✘ npl-agent on node node-1 does not answer at ${URL}: ECONNREFUSED — check that npl-agent runs on node-1 (kubectl get pods -A -o wide | grep npl-agent) and listens on its node IP; pass --agent-port if the chart's agent.healthPort is not 10361`,
    );
    expect(lines.slice(5)).toEqual([`- tcp/80 -> ${HOST}:61000: rule and socket not checked (npl-agent not reached)`, `- udp/53 -> ${HOST}:61001: rule and socket not checked (npl-agent not reached)`]);
    expect(out.exitCode).toBe(1);
  });

  it('an answer of another schema version is reported as such', async () => {
    const out = await runCheck(cmd, fakeDeps(world(), new Map([[URL, { schemaVersion: 2 }]])));
    expect(out.stdout).toContain(`does not answer at ${URL}: schemaVersion 2 is not 1`);
  });

  it('no annotation: ✘ saying who writes it; not parsed', async () => {
    const out = await runCheck(cmd, fakeDeps(world(null), new Map([[URL, report()]])));
    expect(out.stdout).toContain('✘ annotation nodeportlocal.antrea.io is absent — npl-agent writes it once the Pod has an IP and an NPL Service selects it: check npl-agent on node node-1 (its /readyz and logs)\n- annotation not parsed (absent)\n');
    expect(out.exitCode).toBe(1);
  });

  it('an unparseable annotation: ✘ with the codec message', async () => {
    const out = await runCheck(cmd, fakeDeps(world('[{oops'), new Map([[URL, report()]])));
    expect(out.stdout).toMatch(/✘ annotation cannot be parsed: nodeportlocal\.antrea\.io annotation: value is not valid JSON .* — npl-agent on node node-1 rewrites corrupted annotations/);
  });

  it('no NPL Service selects the Pod: ✘ with the kubectl annotate command', async () => {
    const cluster = new FakeCluster().addService(service({ name: 'web', enabled: false })).addPod(pod({ name: 'web-0', node: 'node-1', hostIP: HOST }));
    const out = await runCheck(cmd, fakeDeps(cluster));
    expect(out.stdout.split('\n')[1]).toBe(
      '✘ no Service annotated nodeportlocal.antrea.io/enabled: "true" (of type ClusterIP or LoadBalancer) selects the Pod — annotate a Service whose selector matches its labels: kubectl annotate service -n default <name> nodeportlocal.antrea.io/enabled=true',
    );
  });

  it('no such Pod, or not scheduled: one ✘ line and nothing else is asked', async () => {
    const deps = fakeDeps(new FakeCluster());
    expect(await runCheck(cmd, deps)).toEqual({ stdout: '✘ Pod default/web-0 not found — check the namespace and name: kubectl get pod -n default web-0\n', stderr: '', exitCode: 1 });
    const pending = fakeDeps(new FakeCluster().addPod(pod({ name: 'web-0' })));
    expect((await runCheck(cmd, pending)).stdout).toMatch(/^✘ Pod default\/web-0 is not scheduled to a node — /);
    expect([...deps.fetched, ...pending.fetched]).toEqual([]);
  });

  it('pending and unknown rule states have their own advice', async () => {
    const agents = new Map([[URL, report(agentMapping(80, 'tcp', 61000, { rule: 'pending' }), agentMapping(53, 'udp', 61001, { rule: 'unknown', socketHeld: null }))]]);
    const out = await runCheck(cmd, fakeDeps(world(), agents));
    expect(out.stdout).toContain('rule pending in the dataplane of node-1 — an add or the start-up sync is installing it: check again in a moment');
    expect(out.stdout).toContain('rule unknown in the dataplane of node-1 — the agent could not read its dataplane');
    expect(out.stdout).toContain(`- udp/53 -> ${HOST}:61001: npl-agent cannot say whether it holds the node port socket`);
  });
});
