/**
 * Pod churn (issue 11): Pods of an NPL Service created and deleted 10 times a second for 30 s on one
 * node while a steady Pod keeps its mapping. Afterwards nothing leaks: no rule, reserved socket,
 * held port or annotation that an existing Pod does not explain, and the agent is the same process.
 * The 10-minute version with the memory curve is bench/churn.ts.
 */
import { expect, it } from '@jest/globals';
import { describeWithCluster } from '@npl/cluster/testing';
import { AgentFleet, createPod, createService, request, waitAnnotation, waitPodRunning } from './harness.js';
import { CHURN_LABEL, CHURN_POD_PORT, deleteChurnPods, leakCount, metricTotal, processFootprint, runChurn, scrape, settledLeakReport } from './testing/churn.js';

const T = 600_000;
const RANGE = [61000, 62000] as const;

describeWithCluster('npl-agent: pod churn leaves no leaked rule, socket, port or annotation', { name: 'nplchurn', nodes: 1, ipFamily: 'ipv4' }, (get) => {
  const fleet = new AgentFleet(get);

  it('10 creations and deletions a second for 30 s: the steady Pod keeps its node port, and nothing is left over', async () => {
    const c = get();
    const node = c.nodes[0]!;
    try {
      await fleet.startAll(['--port-range', `${RANGE[0]}-${RANGE[1]}`]);
      const pid = fleet.pid(node);
      await createService(c, 'churn', { ...CHURN_LABEL }, [{ port: CHURN_POD_PORT, targetPort: CHURN_POD_PORT }]);
      await createPod(c, { name: 'steady', node: node.name, labels: { ...CHURN_LABEL }, ports: [{ containerPort: CHURN_POD_PORT }] });
      await waitPodRunning(c, 'steady');
      const [steady] = await waitAnnotation(c, 'steady', 1);
      const addedBefore = metricTotal(await scrape(node), 'npl_agent_mappings_added_total');

      const churn = await runChurn(c, { node, rate: 10, durationMs: 30_000, population: 60 });
      process.stderr.write(`churn: ${JSON.stringify(churn)}\n`);
      expect(churn.createErrors + churn.deleteErrors).toBe(0);
      // A loaded machine slows the API server; the churn must still have been one (a third of the ticks at least).
      expect(churn.created).toBeGreaterThanOrEqual(100);
      await deleteChurnPods(c);

      const report = await settledLeakReport(c, node, RANGE);
      expect(report).toEqual({ expected: 1, leakedRules: [], leakedSockets: [], staleAnnotations: [], heldPortsSurplus: 0 });
      expect(leakCount(report)).toBe(0);
      const added = metricTotal(await scrape(node), 'npl_agent_mappings_added_total') - addedBefore;
      process.stderr.write(`churn: ${added} mappings added during the churn\n`);
      expect(added).toBeGreaterThan(0);
      expect(await waitAnnotation(c, 'steady', 1)).toEqual([steady]);
      expect(await request(c, c.outsideNetns, node.ip, steady!.nodePort)).toBe('steady');
      expect(fleet.pid(node)).toBe(pid);
      expect(processFootprint(pid!)).toBeDefined();
    } finally {
      await fleet.stopAll();
    }
  }, T);
});
