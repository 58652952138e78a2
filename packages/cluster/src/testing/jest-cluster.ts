/**
 * Jest helpers for suites that need a local cluster: one cluster per test file, started in
 * beforeAll and removed in afterAll. Without root the suite is skipped and the reason recorded
 * (`describeUnless` from @npl/testkit: listed by test-all.sh, a failure under CI); with root it
 * always runs (missing control plane binaries are built first, which takes minutes).
 */
import { afterAll, beforeAll } from '@jest/globals';
import { describeUnless, rootSkipReason } from '@npl/testkit';
import { pino } from 'pino';
import { startCluster, type Cluster, type StartOptions } from '../cluster.js';

export const isRoot = process.getuid?.() === 0;

/** Why a local cluster cannot start here, or undefined when it can. */
export const clusterSkipReason = rootSkipReason('the local cluster runs nodes and pods as network namespaces');

/** Time allowed for beforeAll: a first-ever build of the binaries can take a long while. */
export const CLUSTER_START_TIMEOUT_MS = 45 * 60_000;

/**
 * `describe` with a cluster named `opts.name`: `get()` returns it inside tests. Tests themselves
 * should set generous timeouts and poll with deadlines (see `eventually`).
 */
export function describeWithCluster(title: string, opts: StartOptions & { name: string }, body: (get: () => Cluster) => void): void {
  if (clusterSkipReason) {
    describeUnless(clusterSkipReason, title, () => body(() => { throw new Error('skipped'); }));
    return;
  }
  describeUnless(undefined, title, () => {
    let cluster: Cluster | undefined;
    beforeAll(async () => {
      cluster = await startCluster({
        logger: pino({ level: process.env.NPL_LOG_LEVEL ?? 'warn' }, pino.destination(2)),
        onProgress: (l) => process.stderr.write(`${l}\n`),
        ...opts,
      });
    }, CLUSTER_START_TIMEOUT_MS);
    afterAll(async () => {
      await cluster?.stop();
    }, 120_000);
    body(() => {
      if (!cluster) throw new Error(`cluster ${opts.name} did not start (see beforeAll)`);
      return cluster;
    });
  });
}

/** Polling with a deadline; kept here for existing imports. */
export { eventually } from '@npl/runtime';
