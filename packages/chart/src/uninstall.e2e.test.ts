/**
 * The chart's uninstall path, per node, with the real agent (this repository's build) on the local
 * cluster: stopping an agent leaves its rules and annotations (so traffic survives restarts and
 * upgrades), an uninstall next to a running agent is undone by it, and `npl-agent uninstall` run in
 * each node's network namespace after its agent stopped (what the pre-delete hook's init container
 * does) leaves no table and no annotation.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ClusterNode } from '@npl/cluster';
import { AGENT_IDENTITY, agentCli, serviceAccountKubeconfig } from '@npl/cluster';
import { describeWithCluster, eventually } from '@npl/cluster/testing';
import { AgentFleet, annotation, createPod, createService, nftMappings, waitAnnotation, waitPodRunning } from '../../agent/src/e2e/harness.js';

const T = 180_000;
const run = promisify(execFile);

describeWithCluster('chart uninstall path: npl-agent uninstall on every node after its agent stopped', { name: 'nplunin', nodes: 2 }, (get) => {
  const fleet = new AgentFleet(get);
  const pods = (): string[] => get().nodes.map((_, i) => `web-${i}`);

  async function uninstall(node: ClusterNode): Promise<string> {
    const kubeconfig = await serviceAccountKubeconfig(get(), AGENT_IDENTITY);
    const env = { ...process.env, NODE_OPTIONS: '', NODE_NAME: node.name, KUBECONFIG: kubeconfig };
    const { stdout, stderr } = await run('ip', ['netns', 'exec', node.netns, process.execPath, agentCli(), 'uninstall'], { env, timeout: 60_000 });
    return `${stdout}${stderr}`;
  }

  async function tables(node: ClusterNode): Promise<string> {
    return get().exec(node.netns, ['nft', 'list', 'tables']);
  }

  beforeAll(async () => {
    await fleet.startAll();
    for (const [i, node] of get().nodes.entries()) await createPod(get(), { name: `web-${i}`, node: node.name, labels: { app: 'unin' }, ports: [{ containerPort: 80 }] });
    await createService(get(), 'unin', { app: 'unin' }, [{ port: 80, targetPort: 80 }]);
    for (const p of pods()) await waitPodRunning(get(), p);
    for (const p of pods()) await waitAnnotation(get(), p, 1);
  }, T);

  afterAll(async () => {
    await fleet.stopAll();
  }, T);

  it('an uninstall next to a running agent is undone by that agent (why the hook stops the agents first)', async () => {
    const node = get().nodes[0] as ClusterNode;
    expect(await uninstall(node)).toContain('"annotationsRemoved":1');
    const entries = await waitAnnotation(get(), 'web-0', 1);
    await eventually(async () => (await nftMappings(get(), node)).some((m) => m.nodePort === entries[0]?.nodePort), 30_000, 'mapping restored by the running agent');
  }, T);

  it('a stopped agent leaves its rules and annotations; npl-agent uninstall on each node then leaves nothing', async () => {
    const before = new Map<string, number>();
    for (const p of pods()) before.set(p, (await annotation(get(), p))[0]?.nodePort ?? 0);
    await fleet.stopAll();
    for (const [i, node] of get().nodes.entries()) {
      expect((await nftMappings(get(), node)).map((m) => m.nodePort)).toContain(before.get(`web-${i}`));
      expect(await annotation(get(), `web-${i}`)).toHaveLength(1);
    }

    for (const node of get().nodes) expect(await uninstall(node)).toContain('"annotationsRemoved":1');

    for (const node of get().nodes) expect(await tables(node)).not.toMatch(/\btable ip6? npl\b/);
    for (const p of pods()) expect(await annotation(get(), p)).toEqual([]);
    // Idempotent: a second run on a clean node succeeds and changes nothing.
    for (const node of get().nodes) expect(await uninstall(node)).toContain('"annotationsRemoved":0');
  }, T);
});
