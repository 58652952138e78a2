/**
 * The kind scripts of e2e/kind, for real: the node image (built here, or kind's stock image where a
 * registry is reachable), a 1+1 node cluster on slot NPL_KIND_TEST_SLOT (default 1), a trivial
 * test CNI (test/test-cni.sh) so the nodes become Ready, a node container restarted with
 * `docker restart`, and deletion leaving no container or network behind.
 *
 * Runs as root with a working Docker engine (scripts/docker.sh), under the machine-wide lock
 * (flock /tmp/npl-root-tests.lock): it creates a kind cluster. The first run on a machine builds
 * the node image (see e2e/kind/README.md for how long that takes).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { eventually } from '@npl/runtime';
import { describeUnless, rootSkipReason } from '@npl/testkit';

const run = promisify(execFile);
const kindDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repo = path.resolve(kindDir, '../..');
const slot = process.env.NPL_KIND_TEST_SLOT ?? '1';
const name = `npl-kindtest-${slot}`;
const network = `npl-kind-${slot}`;
const MIN = 60_000;
/** What the scripts printed so far (NPL_KIND, NPL_KIND_NODE_IMAGE, KUBECONFIG, NPL_KIND_NODES). */
const vars: Record<string, string> = {};

/** Why this machine cannot run the suite: not root, or no Docker engine to be had. */
function skipReason(): string | undefined {
  const notRoot = rootSkipReason('kind nodes are privileged Docker containers');
  if (notRoot) return notRoot;
  try {
    execFileSync('bash', ['-c', `. "${repo}/scripts/docker.sh" && npl_ensure_docker`], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'needs a Docker engine (scripts/docker.sh could not find or start one)';
  }
}

interface Result {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one of the kind scripts (bash, Docker env set up by the script itself). */
async function script(file: string, args: readonly string[], timeoutMs = 30 * MIN): Promise<Result> {
  const { stdout, stderr } = await run('bash', [path.join(kindDir, file), ...args], {
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
    env: { ...process.env, NPL_KIND: vars.NPL_KIND ?? '', NPL_KIND_NODE_IMAGE: vars.NPL_KIND_NODE_IMAGE ?? '' },
  });
  return { stdout, stderr };
}

/** KEY=VALUE lines (split on the first '='); any other stdout line is a contract violation. */
function keyValues(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n').filter((l) => l !== '')) {
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`stdout line is not KEY=VALUE: ${JSON.stringify(line)}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('bash', ['-c', `. "${repo}/scripts/docker.sh" && npl_ensure_docker >/dev/null && docker "$@"`, 'docker', ...args]);
  return stdout.trim();
}

let kubectlBin = '';
async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run(kubectlBin, ['--kubeconfig', vars.KUBECONFIG ?? '', ...args], { maxBuffer: 16 << 20 });
  return stdout.trim();
}

interface NodeJson {
  metadata: { name: string };
  spec: { podCIDR?: string };
  status: { conditions?: { type: string; status: string }[] };
}
async function nodes(): Promise<NodeJson[]> {
  return (JSON.parse(await kubectl('get', 'nodes', '-o', 'json')) as { items: NodeJson[] }).items;
}
const ready = (n: NodeJson): boolean => n.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Every pod in kube-system, name -> phase. */
async function systemPods(): Promise<Map<string, string>> {
  const raw = await kubectl('get', 'pods', '-n', 'kube-system', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.phase}{"\\n"}{end}');
  return new Map(raw.split('\n').filter(Boolean).map((l) => l.split('=') as [string, string]));
}

describeUnless(skipReason(), 'e2e/kind scripts (node image, create, restart, delete)', () => {
  beforeAll(async () => {
    kubectlBin = keyValues((await run('bash', [path.join(repo, 'packages/cluster/scripts/build-binaries.sh')], { timeout: 30 * MIN })).stdout)
      .NPL_KUBECTL!;
    await script('delete-cluster.sh', ['--name', name, '--slot', slot]);
  }, 31 * MIN);

  afterAll(async () => {
    if (process.env.NPL_KIND_TEST_KEEP !== '1') await script('delete-cluster.sh', ['--name', name, '--slot', slot]);
  }, 5 * MIN);

  it('node-image.sh prints NPL_KIND and NPL_KIND_NODE_IMAGE, and a second run reuses everything', async () => {
    const first = keyValues((await script('node-image.sh', [], 60 * MIN)).stdout);
    expect(Object.keys(first).sort()).toEqual(['NPL_KIND', 'NPL_KIND_NODE_IMAGE']);
    expect(statSync(first.NPL_KIND!).mode & 0o111).not.toBe(0);
    const created = await docker('image', 'inspect', '-f', '{{.Id}} {{.Created}}', first.NPL_KIND_NODE_IMAGE!);

    const again = await script('node-image.sh', []);
    expect(keyValues(again.stdout)).toEqual(first);
    // Nothing was built or imported the second time: the same image, and no build step logged.
    expect(await docker('image', 'inspect', '-f', '{{.Id}} {{.Created}}', first.NPL_KIND_NODE_IMAGE!)).toBe(created);
    expect(again.stderr).not.toMatch(/built image|from Go modules|debootstrap|imported the rootfs|saved kubeadm/);
    Object.assign(vars, first);
  }, 61 * MIN);

  it('stock path: an image that is present or pullable is used as it is, with kind from PATH or the cache', async () => {
    // Stands in for kindest/node on a host with a registry: any present image under that name.
    const env = { NPL_KIND_NODE_IMAGE_SOURCE: 'stock', NPL_KIND_STOCK_NODE_IMAGE: vars.NPL_KIND_NODE_IMAGE! };
    const { stdout, stderr } = await run('bash', [path.join(kindDir, 'node-image.sh')], { env: { ...process.env, ...env }, timeout: 10 * MIN });
    const out = keyValues(stdout);
    expect(out.NPL_KIND_NODE_IMAGE).toBe(vars.NPL_KIND_NODE_IMAGE);
    expect(statSync(out.NPL_KIND!).mode & 0o111).not.toBe(0);
    expect(stderr).toContain('using the stock node image');
    expect(stderr).not.toMatch(/built image|debootstrap|saved kubeadm/);

    // Asked for the stock image where it is neither present nor pullable: a clear error.
    const absent = { NPL_KIND_NODE_IMAGE_SOURCE: 'stock', NPL_KIND_STOCK_NODE_IMAGE: 'npl-kind-absent:none' };
    await expect(run('bash', [path.join(kindDir, 'node-image.sh')], { env: { ...process.env, ...absent }, timeout: 10 * MIN })).rejects.toMatchObject({
      stdout: '',
      stderr: expect.stringContaining('error: NPL_KIND_NODE_IMAGE_SOURCE=stock but npl-kind-absent:none is not present and cannot be pulled'),
    });
  }, 21 * MIN);

  it('create-cluster.sh makes a 1+1 node cluster on the slot network; nodes register, static pods run', async () => {
    const out = keyValues((await script('create-cluster.sh', ['--name', name, '--slot', slot, '--workers', '1'], 15 * MIN)).stdout);
    expect(Object.keys(out).sort()).toEqual(['KUBECONFIG', 'NPL_KIND_NODES']);
    expect(existsSync(out.KUBECONFIG!)).toBe(true);
    expect(out.NPL_KIND_NODES!.split(' ')).toEqual([`${name}-control-plane`, `${name}-worker`]);
    Object.assign(vars, out);

    // The nodes sit on the slot's network with its addresses, and get /24s of the slot's pod range.
    expect(await docker('network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}}{{end}}', network)).toBe(`198.18.${64 + Number(slot)}.0/24`);
    const ips = await docker('inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, `${name}-control-plane`, `${name}-worker`);
    for (const ip of ips.split('\n')) expect(ip).toMatch(new RegExp(`^198\\.18\\.${64 + Number(slot)}\\.\\d+$`));
    const ns = await eventually(async () => {
      const n = await nodes();
      return n.length === 2 && n.every((x) => x.spec.podCIDR) ? n : undefined;
    }, 3 * MIN, 'both nodes registered with a podCIDR');
    const base = 96 + 4 * Number(slot);
    for (const n of ns) expect(n.spec.podCIDR).toMatch(new RegExp(`^198\\.18\\.(${base}|${base + 1}|${base + 2}|${base + 3})\\.0/24$`));
    expect(await kubectl('get', 'svc', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}')).toBe(`198.18.${80 + Number(slot)}.1`);

    // Static pods of the control plane run (they need no CNI).
    await eventually(async () => {
      const pods = await systemPods();
      return ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].every((c) => pods.get(`${c}-${name}-control-plane`) === 'Running');
    }, 5 * MIN, 'the control plane static pods Running');
  }, 16 * MIN);

  it('with a CNI the nodes become Ready and kube-proxy and CoreDNS run', async () => {
    await script('test/test-cni.sh', ['--name', name]);
    await eventually(async () => (await nodes()).every(ready), 5 * MIN, 'every node Ready');
    await eventually(async () => {
      const pods = [...(await systemPods()).entries()];
      const proxies = pods.filter(([n]) => n.startsWith('kube-proxy-'));
      const dns = pods.filter(([n]) => n.startsWith('coredns-'));
      return proxies.length === 2 && dns.length >= 1 && [...proxies, ...dns].every(([, phase]) => phase === 'Running');
    }, 5 * MIN, 'kube-proxy on both nodes and CoreDNS Running');
    // kube-proxy (iptables mode) programs the backend the node uses, with the 'statistic' match for
    // kube-dns's two endpoints: its image carries every xtables extension and picked the right backend.
    await eventually(async () => {
      const nat = await docker('exec', `${name}-worker`, 'iptables-save', '-t', 'nat');
      return /-A KUBE-SVC-\S+ .*kube-system\/kube-dns:dns .*-m statistic --mode random/.test(nat);
    }, 3 * MIN, "kube-proxy's kube-dns rules with the statistic match in the node's iptables");
  }, 11 * MIN);

  it('a node container restarted with docker restart comes back: kubelet, kube-proxy and new pods run', async () => {
    const worker = `${name}-worker`;
    const proxyOnWorker = async (): Promise<{ name: string; restarts: number; image: string; running: boolean }> => {
      const pods = JSON.parse(await kubectl('get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-proxy', '--field-selector', `spec.nodeName=${worker}`, '-o', 'json')) as {
        items: { metadata: { name: string }; spec: { containers: { image: string }[] }; status: { containerStatuses?: { restartCount: number; ready: boolean }[] } }[];
      };
      const p = pods.items[0]!;
      const st = p.status.containerStatuses?.[0];
      return { name: p.metadata.name, restarts: st?.restartCount ?? 0, image: p.spec.containers[0]!.image, running: st?.ready ?? false };
    };
    const before = await proxyOnWorker();
    const state = `{{.State.StartedAt}} {{(index .NetworkSettings.Networks "${network}").IPAddress}}`;
    const [startedBefore, ipBefore] = (await docker('inspect', '-f', state, worker)).split(' ');
    await docker('restart', worker);
    const [startedAfter, ipAfter] = (await docker('inspect', '-f', state, worker)).split(' ');
    expect(startedAfter).not.toBe(startedBefore);
    // Same address on the slot network: nodeIP:nodePort stays valid across the restart.
    expect(ipAfter).toBe(ipBefore);
    // The kubelet is back when it has restarted kube-proxy's container (its sandbox died with the node).
    await eventually(async () => {
      const now = await proxyOnWorker();
      return now.restarts > before.restarts && now.running;
    }, 5 * MIN, `kube-proxy on ${worker} restarted by the kubelet after the node restart`);
    // The restarted node lost its network namespace (bridge, routes): configure the test CNI again,
    // as a real CNI's DaemonSet would, then a new pod must run to completion on that node.
    await script('test/test-cni.sh', ['--name', name]);
    const pod = 'restart-probe';
    await kubectl('run', pod, '-n', 'default', '--restart=Never', `--image=${before.image}`, `--overrides={"spec":{"nodeName":"${worker}"}}`, '--command', '--', '/usr/local/bin/kube-proxy', '--version');
    await eventually(async () => (await kubectl('get', 'pod', pod, '-n', 'default', '-o', 'jsonpath={.status.phase}')) === 'Succeeded', 3 * MIN, `pod ${pod} Succeeded on ${worker}`);
    expect(await kubectl('logs', pod, '-n', 'default')).toContain('Kubernetes v');
    await eventually(async () => {
      const n = await nodes();
      return n.length === 2 && n.every(ready);
    }, 5 * MIN, 'both nodes Ready after the restart');
  }, 12 * MIN);

  it('export-logs.sh writes kind and kubectl logs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'npl-kind-logs-'));
    try {
      const out = keyValues((await script('export-logs.sh', ['--name', name, dir], 10 * MIN)).stdout);
      expect(out.DIR).toBe(dir);
      expect(readdirSync(path.join(dir, 'kind'))).toEqual(expect.arrayContaining([`${name}-control-plane`, `${name}-worker`]));
      expect(statSync(path.join(dir, 'kubectl', 'pods.txt')).size).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 11 * MIN);

  it('delete-cluster.sh leaves no container, network or kubeconfig, and is idempotent', async () => {
    await script('delete-cluster.sh', ['--name', name, '--slot', slot]);
    expect(await docker('ps', '-aq', '--filter', `label=io.x-k8s.kind.cluster=${name}`)).toBe('');
    expect(await docker('network', 'ls', '-q', '--filter', `name=^${network}$`)).toBe('');
    expect(existsSync(vars.KUBECONFIG!)).toBe(false);
    await script('delete-cluster.sh', ['--name', name, '--slot', slot]);
  }, 6 * MIN);
});
