/**
 * The chart's uninstall path, per node, with the real agent (this repository's build) on the local
 * cluster: stopping an agent leaves its rules and annotations (so traffic survives restarts and
 * upgrades), an uninstall next to a running agent is undone by it, and `npl-agent uninstall` run in
 * each node's network namespace after its agent stopped (what the pre-delete hook's init container
 * does) leaves no table and no annotation.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import type { ClusterNode } from '@npl/cluster';
import { AGENT_IDENTITY, agentCli, agentNodeArgs, agentNodeEnv, serviceAccountKubeconfig } from '@npl/cluster';
import { describeWithCluster, eventually } from '@npl/cluster/testing';
import { NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY, parseNftRuleset } from '@npl/core';

const T = 180_000;
const NS = 'default';
const run = promisify(execFile);

describeWithCluster('chart uninstall path: npl-agent uninstall on every node after its agent stopped', { name: 'nplunin', nodes: 2 }, (get) => {
  const agents = new Map<string, ChildProcess>();
  const pods = (): string[] => get().nodes.map((_, i) => `web-${i}`);
  const core = (): CoreV1Api => get().kubeConfig.makeApiClient(CoreV1Api);
  const agentEnv = async (node: ClusterNode): Promise<NodeJS.ProcessEnv> => ({
    ...process.env,
    NODE_OPTIONS: '',
    ...agentNodeEnv(),
    NODE_NAME: node.name,
    KUBECONFIG: await serviceAccountKubeconfig(get(), AGENT_IDENTITY),
  });

  async function startAgent(node: ClusterNode): Promise<void> {
    const args = ['netns', 'exec', node.netns, process.execPath, ...agentNodeArgs(), agentCli(), '--health-address', `${node.ip}:10361`, '--verify-period', '1s'];
    agents.set(node.name, spawn('ip', args, { stdio: 'ignore', env: await agentEnv(node) }));
    await eventually(async () => (await fetch(`http://${node.ip}:10361/readyz`, { signal: AbortSignal.timeout(2_000) })).ok, 60_000, `npl-agent on ${node.name} ready`);
  }

  async function stopAgents(): Promise<void> {
    for (const [name, child] of agents) {
      agents.delete(name);
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }

  async function uninstall(node: ClusterNode): Promise<string> {
    const { stdout, stderr } = await run('ip', ['netns', 'exec', node.netns, process.execPath, ...agentNodeArgs(), agentCli(), 'uninstall'], { env: await agentEnv(node), timeout: 60_000 });
    return `${stdout}${stderr}`;
  }

  /** Node ports of the pod's annotation ([] without one). */
  async function annotatedPorts(pod: string): Promise<number[]> {
    const text = (await core().readNamespacedPod({ namespace: NS, name: pod })).metadata?.annotations?.[NPL_ANNOTATION_KEY];
    return text === undefined ? [] : (JSON.parse(text) as { nodePort: number }[]).map((e) => e.nodePort);
  }

  async function mappedPorts(node: ClusterNode): Promise<number[]> {
    const json = await get().exec(node.netns, ['nft', '-j', 'list', 'table', 'ip', 'npl']);
    return parseNftRuleset(JSON.parse(json) as unknown, { table: 'npl' }).map((m) => m.nodePort);
  }

  beforeAll(async () => {
    for (const node of get().nodes) await startAgent(node);
    for (const [i, node] of get().nodes.entries()) {
      const body = { metadata: { name: `web-${i}`, labels: { app: 'unin' } }, spec: { nodeName: node.name, containers: [{ name: 'server', image: 'npl-e2e/server:1', ports: [{ containerPort: 80 }] }] } };
      await core().createNamespacedPod({ namespace: NS, body });
    }
    await core().createNamespacedService({ namespace: NS, body: { metadata: { name: 'unin', annotations: { [NPL_ENABLED_ANNOTATION_KEY]: 'true' } }, spec: { selector: { app: 'unin' }, ports: [{ port: 80, targetPort: 80 }] } } });
    for (const p of pods()) await eventually(async () => (await annotatedPorts(p)).length === 1, 60_000, `annotation of ${p}`);
  }, T);

  afterAll(async () => {
    await stopAgents();
  }, T);

  it('an uninstall next to a running agent is undone by that agent (why the hook stops the agents first)', async () => {
    const node = get().nodes[0] as ClusterNode;
    const out = await uninstall(node);
    expect(out).toContain('"annotationsRemoved":1');
    expect(out).toContain(`npl-agent: warning: an npl-agent still runs on this node (health endpoint http://${node.ip}:10361/healthz answered HTTP 200; process `);
    expect(out).toContain(`--health-address ${node.ip}:10361`);
    expect(out).not.toContain(`--health-address ${get().nodes[1]!.ip}:10361`);
    const [port] = await eventually(async () => ((await annotatedPorts('web-0')).length === 1 ? annotatedPorts('web-0') : undefined), 30_000, 'annotation restored');
    await eventually(async () => (await mappedPorts(node)).includes(port ?? -1), 30_000, 'mapping restored by the running agent');
  }, T);

  it('a stopped agent leaves its rules and annotations; npl-agent uninstall on each node then leaves nothing', async () => {
    await stopAgents();
    for (const [i, node] of get().nodes.entries()) {
      const ports = await annotatedPorts(`web-${i}`);
      expect(ports).toHaveLength(1);
      expect(await mappedPorts(node)).toContain(ports[0]);
    }

    for (const node of get().nodes) {
      const out = await uninstall(node);
      expect(out).toContain('"annotationsRemoved":1');
      expect(out).not.toContain('still runs on this node');
    }

    for (const node of get().nodes) expect(await get().exec(node.netns, ['nft', 'list', 'tables'])).not.toMatch(/\btable ip6? npl\b/);
    for (const p of pods()) expect(await annotatedPorts(p)).toEqual([]);
    // Idempotent: a second run on a clean node succeeds and changes nothing.
    for (const node of get().nodes) expect(await uninstall(node)).toContain('"annotationsRemoved":0');
  }, T);
});
