/**
 * The whole system on the local cluster, as `cluster up --agent --controller` runs it: npl-agent on
 * every node (its ServiceAccount, from dist), the BIG-IP emulator standalone and npl-controller
 * (its ServiceAccount, from dist) as host processes. Nothing is written for the controller: pods get
 * their NPL annotations from the agents, EndpointSlices from the controller-manager, and the test
 * reads BIG-IP only through iControl REST with the account `cluster up` prints. Needs `pnpm build`.
 */
import { describe, expect, it } from '@jest/globals';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import { agentNodeProcess } from '@npl/cluster';
import type { BigipAccess, Cluster } from '@npl/cluster';
import { describeWithCluster, eventually } from '@npl/cluster/testing';

const T = 240_000;
const NS = 'default';
const APP = 'web';
const POOL = `${APP}_80_${NS}`;
const VS_PORT = 8080;

interface BigipAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** One iControl REST call with the emulator's test account, its CA verified. */
function bigipCall(b: BigipAccess, method: string, path: string, body?: unknown): Promise<BigipAnswer> {
  const url = new URL(path, b.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: readFileSync(b.caFile), auth: `${b.username}:${b.password}`, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

interface Member {
  readonly name: string;
  readonly session: string;
}

/** Members of pool /k8s/<name>, or undefined when the pool does not exist. */
async function poolMembers(b: BigipAccess, name: string): Promise<Member[] | undefined> {
  const res = await bigipCall(b, 'GET', `/mgmt/tm/ltm/pool/~${b.partition}~${name}?expandSubcollections=true`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET pool ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  const items = (res.body as { membersReference?: { items?: Member[] } }).membersReference?.items ?? [];
  return items.map((m) => ({ name: m.name, session: m.session })).sort((x, y) => x.name.localeCompare(y.name));
}

/** `nodeIP:nodePort` of every NPL annotation entry of the pods (Antrea's annotation, as the agent wrote it). */
function nplMembers(pods: readonly V1Pod[]): string[] {
  return pods
    .flatMap((p) => JSON.parse(p.metadata?.annotations?.['nodeportlocal.antrea.io'] ?? '[]') as { nodeIP: string; nodePort: number }[])
    .map((e) => `${e.nodeIP}:${e.nodePort}`)
    .sort();
}

describeWithCluster(
  'npl-agent + npl-controller + BIG-IP emulator on the local cluster (cluster up --agent --controller)',
  { name: 'nplsys', nodes: 2, ipFamily: 'ipv4', nodeProcesses: [agentNodeProcess()], controller: { args: ['--resync-period', '2s'] } },
  (get) => {
    const core = () => get().kubeConfig.makeApiClient(CoreV1Api);
    const apps = () => get().kubeConfig.makeApiClient(AppsV1Api);
    const bigip = (): BigipAccess => {
      const b = get().bigip;
      if (!b) throw new Error('cluster started without the controller');
      return b;
    };
    const vsAddress = (c: Cluster) => c.layout.nets[0]!.bridgeIP;

    /** Running pods of the Deployment that are not being deleted, with their NPL annotation. */
    async function livePods(): Promise<V1Pod[]> {
      const list = await core().listNamespacedPod({ namespace: NS, labelSelector: `app=${APP}` });
      return list.items.filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running');
    }

    /** Waits until the pool's members are exactly the NPL entries of `replicas` live pods, all enabled. */
    async function membersFollow(replicas: number, what: string): Promise<string[]> {
      let want: string[] = [];
      await eventually(async () => {
        const pods = await livePods();
        want = nplMembers(pods);
        const got = await poolMembers(bigip(), POOL);
        const ok = pods.length === replicas && want.length === replicas && got !== undefined
          && JSON.stringify(got.map((m) => m.name)) === JSON.stringify(want) && got.every((m) => m.session !== 'user-disabled');
        if (!ok) throw new Error(`${replicas} pods wanted; NPL entries ${JSON.stringify(want)}; pool ${JSON.stringify(got)}`);
        return true;
      }, 90_000, what);
      return want;
    }

    async function scale(replicas: number): Promise<void> {
      await apps().patchNamespacedDeployment({ name: APP, namespace: NS, body: [{ op: 'replace', path: '/spec/replicas', value: replicas }] });
    }

    describe('a Deployment behind an opted-in Service', () => {
      it('every pod is a member nodeIP:nodePort of its pool', async () => {
        const c = get();
        await apps().createNamespacedDeployment({
          namespace: NS,
          body: {
            metadata: { name: APP },
            spec: {
              replicas: 3,
              selector: { matchLabels: { app: APP } },
              template: { metadata: { labels: { app: APP } }, spec: { containers: [{ name: 'server', image: 'npl-e2e/server:1', ports: [{ containerPort: 80 }] }] } },
            },
          },
        });
        await core().createNamespacedService({
          namespace: NS,
          body: {
            metadata: { name: APP, annotations: { 'nodeportlocal.antrea.io/enabled': 'true', 'bigip.nodeportlocal.io/virtual-server': `${vsAddress(c)}:${VS_PORT}` } },
            spec: { selector: { app: APP }, ports: [{ port: 80, targetPort: 80 }] },
          },
        });
        const members = await membersFollow(3, 'pool with the 3 pods');
        const nodeIPs = new Set(c.nodes.map((n) => n.ip));
        for (const m of members) expect(nodeIPs.has(m.split(':')[0]!)).toBe(true);
      }, T);

      it('traffic through the emulator virtual server reaches every pod', async () => {
        const c = get();
        const names = new Set((await livePods()).map((p) => p.metadata!.name!));
        const seen = new Set<string>();
        await eventually(async () => {
          // From the outside namespace: a client that reaches node IPs and the BIG-IP, not pod IPs.
          const body = await c.exec(c.outsideNetns, ['curl', '-s', '--max-time', '3', `http://${vsAddress(c)}:${VS_PORT}/`]);
          seen.add(body.trim());
          if ([...names].some((n) => !seen.has(n))) throw new Error(`answers so far ${JSON.stringify([...seen])}, pods ${JSON.stringify([...names])}`);
          return true;
        }, 60_000, 'an answer from every pod through the virtual server');
        expect([...seen].sort()).toEqual([...names].sort());
      }, T);

      it('members follow scaling up and down; scaled-down pods leave the pool', async () => {
        await scale(5);
        const five = await membersFollow(5, 'pool with 5 pods');
        await scale(2);
        const two = await membersFollow(2, 'pool with 2 pods');
        expect(five).toEqual(expect.arrayContaining(two));
      }, T);

      it('a wiped BIG-IP is rebuilt by the next periodic resync', async () => {
        const b = bigip();
        expect((await bigipCall(b, 'POST', '/emulator/reset')).status).toBe(200);
        expect(await poolMembers(b, POOL)).toBeUndefined();
        // A fresh device: the administrator creates the partition again; the controller does the rest.
        expect((await bigipCall(b, 'POST', '/mgmt/tm/auth/partition', { name: b.partition })).status).toBe(200);
        await membersFollow(2, 'pool rebuilt after the wipe');
        const vs = await bigipCall(b, 'GET', `/mgmt/tm/ltm/virtual/~${b.partition}~crd_${vsAddress(get()).replaceAll('.', '_')}_${VS_PORT}`);
        expect(vs.status).toBe(200);
      }, T);

      it('removing the opt-in annotation removes the pool and its virtual server', async () => {
        const b = bigip();
        await core().patchNamespacedService({ name: APP, namespace: NS, body: [{ op: 'remove', path: '/metadata/annotations/nodeportlocal.antrea.io~1enabled' }] });
        await eventually(async () => {
          const members = await poolMembers(b, POOL);
          if (members !== undefined) throw new Error(`pool still has ${JSON.stringify(members)}`);
          return true;
        }, 60_000, 'pool removed');
        const virtuals = await bigipCall(b, 'GET', '/mgmt/tm/ltm/virtual');
        expect(((virtuals.body as { items?: { partition: string }[] }).items ?? []).filter((v) => v.partition === b.partition)).toEqual([]);
      }, T);
    });
  },
);
