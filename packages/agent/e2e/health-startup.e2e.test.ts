/**
 * Health that means something and bad start-up input, against the local cluster's real API server
 * (README "Health" and "Start-up checks"): the built agent's one-line errors and exit code 2 for what
 * waiting cannot fix (missing kubeconfig, 401, 403), its retries with a log line for what it can
 * (unreachable API server, Node not registered yet), and /readyz going 503 while the API server is
 * stopped and 200 again once it is back, /healthz staying 200 throughout.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import type { Cluster, ClusterNode } from '@npl/cluster';
import { AGENT_IDENTITY, agentCli, agentNodeArgs, agentNodeEnv, serviceAccountKubeconfig } from '@npl/cluster';
import { describeWithCluster } from '@npl/cluster/testing';
import { eventually } from '@npl/runtime';
import { AgentFleet, healthz, readyz } from './harness.js';

const T = 240_000;

interface Run {
  readonly out: () => string;
  readonly exited: Promise<number | null>;
  kill(): Promise<void>;
}

/** The built agent in `node`'s namespace with `args`; stdout and stderr collected. */
function runAgent(node: ClusterNode, args: readonly string[], env: Record<string, string> = {}): Run {
  const child = spawn('ip', ['netns', 'exec', node.netns, process.execPath, ...agentNodeArgs(), agentCli(), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', ...agentNodeEnv(), KUBECONFIG: '', NODE_NAME: '', KUBERNETES_SERVICE_HOST: '', ...env },
  });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    out: () => text,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

const stderrLines = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('npl-agent: '));

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describeWithCluster('npl-agent: start-up input and health on the real API server', { name: 'nplhealth', nodes: 2 }, (get) => {
  const node = () => get().nodes[0]!;
  let agentKubeconfig: string;
  const kubeconfig = async (): Promise<string> => (agentKubeconfig ??= await serviceAccountKubeconfig(get(), AGENT_IDENTITY));

  it('a missing kubeconfig: one line naming --kubeconfig and what to do, exit 2, no stack trace', async () => {
    const run = runAgent(node(), ['--node-name', node().name, '--kubeconfig', '/nonexistent']);
    expect(await run.exited).toBe(2);
    expect(stderrLines(run.out())).toEqual([
      'npl-agent: --kubeconfig (KUBECONFIG) "/nonexistent" does not exist: give the path of a readable kubeconfig file, or leave it unset in a Pod to use its ServiceAccount',
    ]);
    expect(run.out()).not.toMatch(/\n\s+at /);
  }, T);

  it('credentials the API server rejects (HTTP 401): one line, exit 2, no retry', async () => {
    const bad = path.join(get().dir, 'kubeconfigs', 'bad-token.kubeconfig');
    writeFileSync(bad, readFileSync(await kubeconfig(), 'utf8').replace(/token: .*/, 'token: not-a-valid-token'));
    const run = runAgent(node(), ['--node-name', node().name, '--kubeconfig', bad]);
    expect(await run.exited).toBe(2);
    const lines = stderrLines(run.out());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^npl-agent: the API server https:\/\/\S+ rejected the credentials of --kubeconfig \(KUBECONFIG\) ".*bad-token.kubeconfig" \(HTTP 401 Unauthorized\): renew/);
    expect(run.out()).not.toContain('will retry');
  }, T);

  it('a ServiceAccount without the agent RBAC (HTTP 403): one line naming the permission, exit 2', async () => {
    const core = get().kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'npl-nobody' } } });
    const nobody = await serviceAccountKubeconfig(get(), { namespace: 'default', name: 'npl-nobody', manifests: [] });
    const run = runAgent(node(), ['--node-name', node().name, '--kubeconfig', nobody]);
    expect(await run.exited).toBe(2);
    expect(stderrLines(run.out())).toEqual([
      expect.stringMatching(/^npl-agent: the API server \S+ forbids --kubeconfig \(KUBECONFIG\) ".*" to read Nodes \(HTTP 403 Forbidden\): grant nodes get\/list\/watch/),
    ]);
  }, T);

  it('an unreachable API server: keeps retrying with backoff and says so', async () => {
    const port = await freeLoopbackPort();
    const unreachable = path.join(get().dir, 'kubeconfigs', 'unreachable.kubeconfig');
    writeFileSync(unreachable, readFileSync(await kubeconfig(), 'utf8').replace(/server: .*/, `server: https://127.0.0.1:${port}`));
    const run = runAgent(node(), ['--node-name', node().name, '--kubeconfig', unreachable, '--health-address', '127.0.0.1:0', '--log-level', 'debug']);
    try {
      await eventually(() => Promise.resolve((run.out().match(/Waiting at start-up, will retry with backoff: the API server https:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)/g) ?? []).length >= 2), 30_000, 'two retries logged', 100);
      expect(stderrLines(run.out())).toEqual([]);
    } finally {
      await run.kill();
    }
  }, T);

  it('a Node not registered yet: retries saying so, and starts once the Node appears', async () => {
    const core = get().kubeConfig.makeApiClient(CoreV1Api);
    const run = runAgent(node(), ['--node-name', 'npl-ghost', '--kubeconfig', await kubeconfig(), '--health-address', '127.0.0.1:0', '--nft-table', 'nplghost', '--verify-period', '0']);
    try {
      await eventually(() => Promise.resolve(run.out().includes('Node \\"npl-ghost\\" of --node-name (NODE_NAME) does not exist (yet): waiting for the kubelet to register it')), 30_000, 'not-registered retry logged', 100);
      // Without addresses: the agent passes its preflight, then waits for the Node's IPs (no dataplane is touched).
      await core.createNode({ body: { metadata: { name: 'npl-ghost' } } });
      await eventually(() => Promise.resolve(/"runnable":"preflight","ms":\d+,"msg":"Runnable started"/.test(run.out())), 60_000, 'preflight passed once the Node exists', 200);
      // Launched as every test launches it (agentNodeArgs, agentNodeEnv): the flags and environment of its shebang, no warning.
      expect(run.out()).not.toContain('tuned for');
    } finally {
      await run.kill();
      await core.deleteNode({ name: 'npl-ghost' }).catch(() => undefined);
      await get().exec(node().netns, ['nft', 'delete', 'table', 'ip', 'nplghost']).catch(() => undefined);
    }
  }, T);

  healthTests(get);
});

function healthTests(get: () => Cluster): void {
  const fleet = new AgentFleet(get, ['--unready-after', '3s']);

  afterAll(async () => {
    await fleet.stopAll();
  }, T);

  it('/readyz goes 503 naming the failing watches while the API server is stopped and 200 once it is back; /healthz stays 200', async () => {
    const c = get();
    await fleet.startAll();
    const n = c.nodes[1]!;
    expect((await readyz(n)).ok).toBe(true);
    // As a crash would (SIGKILL): a graceful SIGTERM can take minutes on a loaded machine while it drains watches.
    await c.controlPlane.stop('apiserver');
    try {
      await eventually(async () => /\[-\] (pods|services|node)-watch: \S+ list\/watch failing for/.test((await readyz(n)).body), 60_000, 'readyz 503 naming a watch', 250);
      expect(await readyz(n)).toMatchObject({ ok: false });
      expect(await healthz(n)).toMatchObject({ ok: true });
    } finally {
      await c.controlPlane.start('apiserver');
    }
    await eventually(async () => (await readyz(n)).ok, 90_000, 'readyz 200 again', 250);
    expect(await healthz(n)).toMatchObject({ ok: true });
  }, T);
}
