/**
 * High availability of the whole system on the local cluster (`cluster up --agent --controller
 * --controller-replicas 2`): two npl-controller processes from dist, each with its own identity on
 * the Lease; killing the leader's process leaves the other to take over, and the pool keeps
 * following the pods. Needs `pnpm build` (skipped, with the reason recorded, when the controller is not built;
 * under CI a skip fails).
 */
import { expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { agentNodeProcess } from '@npl/cluster';
import type { Cluster } from '@npl/cluster';
import { describeWithCluster, eventually } from '@npl/cluster/testing';
import { describeUnless } from '@npl/testkit';
import { createWeb, membersFollow, scale } from './system-helpers.js';

const T = 240_000;
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const reason = existsSync(CLI) ? undefined : `npl-controller is not built (${CLI}): run pnpm build`;

/** Short Lease timings (client-go's checks hold: renew < lease, renew > 1.2 x retry). */
const LEASE_ARGS = ['--leader-election-lease-duration', '4s', '--leader-election-renew-deadline', '3s', '--leader-election-retry-period', '1s'];

/** Replica indexes whose /metrics says they hold the Lease (stopped replicas count as not leading). */
async function leaders(c: Cluster): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < c.controllers!.replicas; i++) {
    const text = await fetch(`${c.controllers!.healthURL(i)}/metrics`).then((r) => r.text(), () => '');
    if (/^npl_leader_election_is_leader(\{[^}]*\})? 1$/m.test(text)) out.push(i);
  }
  return out;
}

async function oneLeader(c: Cluster, what: string, not?: number): Promise<number> {
  let found: number[] = [];
  await eventually(async () => {
    found = await leaders(c);
    if (found.length !== 1 || found[0] === not) throw new Error(`leaders ${JSON.stringify(found)}`);
    return true;
  }, 60_000, what);
  return found[0]!;
}

describeUnless(reason, 'npl-controller HA on the local cluster', () => {
  describeWithCluster(
    'two npl-controller replicas (cluster up --controller --controller-replicas 2): the leader killed, the other takes over',
    { name: 'nplsysha', nodes: 2, ipFamily: 'ipv4', nodeProcesses: [agentNodeProcess()], controller: { replicas: 2, args: ['--resync-period', '2s', ...LEASE_ARGS] } },
    (get) => {
      it('members keep following a scale change after the leader is killed', async () => {
        const c = get();
        await createWeb(c, 2);
        await membersFollow(c, 2, 'pool with 2 pods');
        const leader = await oneLeader(c, 'one leader');
        await c.controllers!.stop(leader);
        expect(await c.controllers!.pid(leader)).toBeUndefined();
        await scale(c, 4);
        await membersFollow(c, 4, 'pool with 4 pods, synced by the new leader');
        expect(await oneLeader(c, 'the other replica leads', leader)).not.toBe(leader);
        await scale(c, 1);
        await membersFollow(c, 1, 'pool with 1 pod');
        await c.controllers!.start(leader);
      }, T);
    },
  );
});
