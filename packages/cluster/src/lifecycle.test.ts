import { expect, it } from '@jest/globals';
import { describeUnless } from '@npl/testkit';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { pino } from 'pino';
import { packageDir } from './binaries.js';
import { clusterStatus, startCluster, stopCluster } from './cluster.js';
import { isSlotLink } from './layout.js';
import { processesMentioning } from './processes.js';
import { listLinks, listNetns } from './run.js';
import { clusterDir, readState } from './state.js';
import { clusterSkipReason } from './testing/jest-cluster.js';

const T = 10 * 60_000;
const quiet = pino({ level: 'warn' }, pino.destination(2));

/** Everything of cluster `name` still present on the machine. */
async function leftovers(name: string, slot: number): Promise<string[]> {
  const dir = clusterDir(name);
  const out: string[] = [];
  for (const n of await listNetns()) if (n.startsWith(`npl-${name}-`)) out.push(`netns ${n}`);
  for (const l of await listLinks()) if (isSlotLink(l, slot)) out.push(`link ${l}`);
  for (const p of await processesMentioning(`${dir}/`)) out.push(`process ${p}`);
  if (await stat(dir).then(() => true, () => false)) out.push(`dir ${dir}`);
  return out;
}

const cli = (args: string[]) =>
  execa(path.join(packageDir, 'bin', 'cluster'), args, { reject: false, env: { ...process.env, NPL_LOG_LEVEL: 'warn' } });

describeUnless(clusterSkipReason, 'local cluster lifecycle', () => {
  it('up and down leave no namespace, link, process or directory behind', async () => {
    const c = await startCluster({
      name: 'e2elife',
      nodes: 2,
      logger: quiet,
      // A per-node process that exits at once: it must run in the node namespace and be restarted.
      nodeProcesses: [{ name: 'probe', command: 'sh', args: ['-c', 'echo "$NODE_NAME $(ip -4 -o addr show dev eth0)"'] }],
    });
    const { slot } = (await readState('e2elife'))!;
    expect(await listNetns()).toEqual(expect.arrayContaining([...c.nodes.map((n) => n.netns), c.outsideNetns]));
    const st = await clusterStatus('e2elife');
    expect(st?.running).toBe(true);
    expect(st?.nodes.map((n) => n.name)).toEqual(['node-0', 'node-1']);
    const probeLog = path.join(c.dir, 'logs', 'node-1-probe.log');
    const deadline = Date.now() + 30_000;
    let runs: string[] = [];
    while (runs.length < 2 && Date.now() < deadline) {
      runs = (await readFile(probeLog, 'utf8').catch(() => '')).split('\n').filter((l) => l.startsWith('node-1 '));
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs[0]).toContain(`inet ${c.nodes[1]!.ip}/`);
    await c.stop();
    expect(await leftovers('e2elife', slot)).toEqual([]);
    expect(await clusterStatus('e2elife')).toBeUndefined();
  }, T);

  it('CLI: up prints KUBECTL= and KUBECONFIG= (kubectl get nodes works), up after a crash cleans leftovers first, status --json, down', async () => {
    const first = await cli(['up', '--name', 'e2ecli', '--nodes', '1']);
    expect(first.exitCode).toBe(0);
    const lines = String(first.stdout).trim().split('\n');
    const kubeconfig = lines.at(-1)!.replace(/^KUBECONFIG=/, '');
    expect(lines.at(-1)).toMatch(/^KUBECONFIG=\//);
    expect(await readFile(kubeconfig, 'utf8')).toContain('client-certificate-data');
    expect(lines.find((l) => l.startsWith('node node-0'))).toMatch(/ip 198\.18\.\d+\.10,2001:db8:18:[0-9a-f]+::10 /);
    // The printed kubectl works against the cluster with no set-up of the user's own.
    const kubectl = lines.find((l) => l.startsWith('KUBECTL='))?.slice('KUBECTL='.length);
    expect(kubectl).toMatch(/^\/.*\/kubectl$/);
    const nodes = await execa(kubectl!, ['get', 'nodes', '-o', 'json'], { env: { ...process.env, KUBECONFIG: kubeconfig } });
    expect((JSON.parse(String(nodes.stdout)) as { items: { metadata: { name: string } }[] }).items.map((n) => n.metadata.name)).toEqual(['node-0']);
    // Crash: every daemon dies at once, leaving namespaces, links and files behind.
    const state = (await readState('e2ecli'))!;
    for (const pid of Object.values(state.pids)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    expect((await clusterStatus('e2ecli'))?.running).toBe(false);
    const again = await cli(['up', '--name', 'e2ecli', '--nodes', '1']);
    expect(again.stderr).not.toMatch(/error:/);
    expect(again.exitCode).toBe(0);
    const status = await cli(['status', '--name', 'e2ecli', '--json']);
    expect(status.exitCode).toBe(0);
    const s = JSON.parse(String(status.stdout)) as {
      kubeconfigPath: string;
      outsideNetns: string;
      outsideIPv6: string;
      ipFamily: string;
      nodes: { name: string; ip: string; ips: string[]; netns: string }[];
    };
    expect(s.kubeconfigPath).toBe(kubeconfig);
    expect(s.outsideNetns).toBe('npl-e2ecli-out');
    expect(s.nodes).toEqual([expect.objectContaining({ name: 'node-0', netns: 'npl-e2ecli-node-0', ip: expect.stringMatching(/^198\.18\.\d+\.10$/) })]);
    expect(s.nodes[0]!.ips).toEqual([s.nodes[0]!.ip, expect.stringMatching(/^2001:db8:18:[0-9a-f]+::10$/)]);
    expect([s.ipFamily, s.outsideIPv6]).toEqual(['dual', expect.stringMatching(/^2001:db8:18:[0-9a-f]+::250$/)]);
    const bad = await cli(['up', '--name', 'e2ecli', '--ip-family', 'ipv5']);
    expect([bad.exitCode, String(bad.stderr).trim()]).toEqual([1, 'error: ip family "ipv5": expected one of ipv4, ipv6, dual']);
    expect((await clusterStatus('e2ecli'))?.running).toBe(true);
    // ExternalIPs are IPv4: an IPv6-only cluster with --external-ip is refused before anything is touched.
    const v6ext = await cli(['up', '--name', 'e2ecli', '--ip-family', 'ipv6', '--external-ip']);
    expect([v6ext.exitCode, String(v6ext.stderr).trim()]).toEqual([1, expect.stringMatching(/^error: cluster e2ecli: externalIP: node ExternalIPs are IPv4 .*IPv6-only/)]);
    expect((await clusterStatus('e2ecli'))?.running).toBe(true);
    const down = await cli(['down', '--name', 'e2ecli']);
    expect(down.exitCode).toBe(0);
    expect(await leftovers('e2ecli', state.slot)).toEqual([]);
  }, T);

  it('down of a cluster that does not exist succeeds', async () => {
    await expect(stopCluster('e2enone')).resolves.toBeUndefined();
  });
});
