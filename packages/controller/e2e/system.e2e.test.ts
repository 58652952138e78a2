/**
 * The whole system on the local cluster, as `cluster up --agent --controller` runs it: npl-agent on
 * every node (its ServiceAccount, from dist), the BIG-IP emulator standalone and npl-controller
 * (its ServiceAccount, from dist) as host processes. Nothing is written for the controller: pods get
 * their NPL annotations from the agents, EndpointSlices from the controller-manager, and the test
 * reads BIG-IP only through iControl REST with the account `cluster up` prints. Needs `pnpm build`.
 */
import { describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { agentNodeProcess } from '@npl/cluster';
import type { BigipAccess, Cluster } from '@npl/cluster';
import { describeWithCluster, eventually } from '@npl/cluster/testing';
import { APP, bigipCall, createWeb, livePods, membersFollow, NS, poolMembers, POOL, scale } from './system-helpers.js';

const T = 240_000;
const VS_PORT = 8080;

describeWithCluster(
  'npl-agent + npl-controller + BIG-IP emulator on the local cluster (cluster up --agent --controller)',
  { name: 'nplsys', nodes: 2, ipFamily: 'ipv4', nodeProcesses: [agentNodeProcess()], controller: { args: ['--resync-period', '2s'] } },
  (get) => {
    const core = () => get().kubeConfig.makeApiClient(CoreV1Api);
    const bigip = (): BigipAccess => {
      const b = get().bigip;
      if (!b) throw new Error('cluster started without the controller');
      return b;
    };
    const vsAddress = (c: Cluster) => c.layout.nets[0]!.bridgeIP;

    describe('a Deployment behind an opted-in Service', () => {
      it('every pod is a member nodeIP:nodePort of its pool', async () => {
        const c = get();
        await createWeb(c, 3, { 'bigip.nodeportlocal.io/virtual-server': `${vsAddress(c)}:${VS_PORT}` });
        const members = await membersFollow(get(), 3, 'pool with the 3 pods');
        const nodeIPs = new Set(c.nodes.map((n) => n.ip));
        for (const m of members) expect(nodeIPs.has(m.split(':')[0]!)).toBe(true);
      }, T);

      it('traffic through the emulator virtual server reaches every pod', async () => {
        const c = get();
        const names = new Set((await livePods(get())).map((p) => p.metadata!.name!));
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
        await scale(get(), 5);
        const five = await membersFollow(get(), 5, 'pool with 5 pods');
        await scale(get(), 2);
        const two = await membersFollow(get(), 2, 'pool with 2 pods');
        expect(five).toEqual(expect.arrayContaining(two));
      }, T);

      it('a wiped BIG-IP is rebuilt by the next periodic resync', async () => {
        const b = bigip();
        expect((await bigipCall(b, 'POST', '/emulator/reset')).status).toBe(200);
        expect(await poolMembers(b, POOL)).toBeUndefined();
        // A fresh device: the administrator creates the partition again; the controller does the rest.
        expect((await bigipCall(b, 'POST', '/mgmt/tm/auth/partition', { name: b.partition })).status).toBe(200);
        await membersFollow(get(), 2, 'pool rebuilt after the wipe');
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
