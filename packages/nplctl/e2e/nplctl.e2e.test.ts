/**
 * nplctl against the local cluster (real API server) with npl-agent running on every node as it is
 * deployed (a node process, health on NODE_IP:10361, the chart's default), without drift repair so
 * a rule deleted by hand stays deleted: `list` per node and per Service (in-process and the built
 * CLI), `check` of a healthy Pod (with a real TCP connect) and of a Pod whose rule was deleted.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import type { Cluster } from '@npl/cluster';
import { agentNodeProcess } from '@npl/cluster';
import { describeWithCluster } from '@npl/cluster/testing';
import { NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY } from '@npl/core/annotation';
import { eventually } from '@npl/runtime';
import { main } from '../src/main.js';

const T = 240_000;
const run = promisify(execFile);
const CLI = path.join(import.meta.dirname, '..', 'dist', 'cli.js');

async function nplctl(c: Cluster, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } };
  const code = await main([...argv, '--kubeconfig', c.kubeconfigPath], {}, io);
  return { code, stdout, stderr };
}

interface Row {
  pod: string;
  node: string;
  podPort: number;
  protocol: string;
  nodeIP: string;
  nodePort: number;
}

async function listJson(c: Cluster, args: string[]): Promise<Row[]> {
  const out = await nplctl(c, ['list', '-o', 'json', ...args]);
  expect([out.code, out.stderr]).toEqual([0, '']);
  return (JSON.parse(out.stdout) as { mappings: Row[] }).mappings;
}

async function createPod(c: Cluster, name: string, node: string, app: string): Promise<void> {
  await c.kubeConfig.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace: 'default',
    body: { metadata: { name, labels: { app } }, spec: { nodeName: node, containers: [{ name: 'server', image: 'npl-e2e/server:1', ports: [{ containerPort: 80 }] }] } },
  });
}

async function createService(c: Cluster, name: string, app: string): Promise<void> {
  await c.kubeConfig.makeApiClient(CoreV1Api).createNamespacedService({
    namespace: 'default',
    body: { metadata: { name, annotations: { [NPL_ENABLED_ANNOTATION_KEY]: 'true' } }, spec: { selector: { app }, ports: [{ port: 80, targetPort: 80 }] } },
  });
}

const annotated = (p: V1Pod): boolean => p.metadata?.annotations?.[NPL_ANNOTATION_KEY] !== undefined;

describeWithCluster('nplctl on the local cluster with npl-agent', { name: 'nplcli', nodes: 2, ipFamily: 'ipv4', nodeProcesses: [agentNodeProcess({ args: ['--verify-period', '0'] })] }, (get) => {
  const pods = [
    { name: 'web-0', node: 0, app: 'web' },
    { name: 'web-1', node: 1, app: 'web' },
    { name: 'db-0', node: 1, app: 'db' },
  ];

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`nplctl is not built (${CLI} is missing): run \`pnpm build\` first (bash scripts/test-all.sh always does)`);
    const c = get();
    for (const p of pods) await createPod(c, p.name, c.nodes[p.node]!.name, p.app);
    await createService(c, 'web', 'web');
    await createService(c, 'db', 'db');
    const core = c.kubeConfig.makeApiClient(CoreV1Api);
    await eventually(async () => (await core.listNamespacedPod({ namespace: 'default' })).items.filter(annotated).length === pods.length, 120_000, 'every Pod annotated');
  }, T);

  it('list: every mapping, per node, per Service; the built CLI prints the same as a table', async () => {
    const c = get();
    const [n0, n1] = [c.nodes[0]!, c.nodes[1]!];
    const all = await listJson(c, []);
    expect(all.map((r) => `${r.pod} ${r.node} ${r.podPort}/${r.protocol} ${r.nodeIP}`)).toEqual([`db-0 ${n1.name} 80/tcp ${n1.ip}`, `web-0 ${n0.name} 80/tcp ${n0.ip}`, `web-1 ${n1.name} 80/tcp ${n1.ip}`]);
    expect((await listJson(c, ['--node', n1.name])).map((r) => r.pod)).toEqual(['db-0', 'web-1']);
    expect((await listJson(c, ['--service', 'default/web'])).map((r) => r.pod)).toEqual(['web-0', 'web-1']);
    expect((await listJson(c, ['--service', 'default/web', '--node', n0.name])).map((r) => r.pod)).toEqual(['web-0']);

    const { stdout } = await run(process.execPath, [CLI, 'list', '--service', 'default/db', '--kubeconfig', c.kubeconfigPath]);
    const db = all[0]!;
    expect(stdout).toBe(`NAMESPACE  POD   NODE    POD PORT  FAMILY  NODE ADDRESS\ndefault    db-0  ${n1.name}  80/tcp    IPv4    ${n1.ip}:${db.nodePort}\n`);
  }, T);

  it('check: a healthy Pod passes every check, a TCP connect to its node port included (exit 0)', async () => {
    const c = get();
    const out = await eventually(
      async () => {
        const r = await nplctl(c, ['check', 'default/web-1', '--connect']);
        return r.code === 0 ? r : undefined;
      },
      60_000,
      'nplctl check default/web-1 passing',
    );
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines.every((l) => l.startsWith('✔'))).toBe(true);
    expect(lines.map((l) => l.replace(/\d+\.\d+\.\d+\.\d+(:\d+)?/g, 'ADDR').replace(/node-\d+/g, 'NODE'))).toEqual([
      '✔ Pod default/web-1 runs on node NODE (hostIP ADDR)',
      '✔ selected by NodePortLocal Service default/web',
      '✔ annotation nodeportlocal.antrea.io is present',
      '✔ annotation parses: 1 entry',
      '✔ npl-agent on node NODE answers at http://ADDR/mappings?pod=default%2Fweb-1',
      '✔ tcp/80 -> ADDR: rule present in the dataplane of NODE',
      '✔ tcp/80 -> ADDR: node port socket held by npl-agent',
      '✔ TCP connect to ADDR succeeded',
    ]);
  }, T);

  it("check: a Pod whose rule was deleted by hand fails the rule check (and the connect reaches the agent's placeholder socket, not the Pod), exit 1", async () => {
    const c = get();
    const n1 = c.nodes[1]!;
    const row = (await listJson(c, ['--service', 'default/db']))[0]!;
    await c.exec(n1.netns, ['nft', 'delete', 'element', 'ip', 'npl', 'addrs', `{ tcp . ${row.nodePort} }`]);
    await c.exec(n1.netns, ['nft', 'delete', 'element', 'ip', 'npl', 'ports', `{ tcp . ${row.nodePort} }`]);
    const out = await nplctl(c, ['check', 'default/db-0', '--connect', '--timeout', '2']);
    expect(out.code).toBe(1);
    const failed = out.stdout.split('\n').filter((l) => l.startsWith('✘'));
    // Without the rule the connection reaches npl-agent's placeholder socket, which drops it: the connect check says so.
    expect(failed.map((l) => l.split(' — ')[0])).toEqual([
      `✘ tcp/80 -> ${n1.ip}:${row.nodePort}: rule missing in the dataplane of ${n1.name}`,
      `✘ TCP connect to ${n1.ip}:${row.nodePort} failed: the node closed the connection at once without a byte: npl-agent's placeholder socket answered, not the Pod (is the DNAT rule in place?)`,
    ]);
    expect(out.stdout).toContain(`✔ tcp/80 -> ${n1.ip}:${row.nodePort}: node port socket held by npl-agent`);
    // The CLI's exit code is the same.
    const cli = await run(process.execPath, [CLI, 'check', 'default/db-0', '--kubeconfig', c.kubeconfigPath]).then(
      () => 0,
      (err: { code?: number }) => err.code,
    );
    expect(cli).toBe(1);
  }, T);
});
