/**
 * The set-up the agent's end-to-end files share: one npl-agent per node started before the file's
 * tests and stopped after them, Pods placed on the second node, and every Pod and Service a test
 * created through `pod` and `service` deleted after that test. Registers Jest hooks, so call it at
 * the top of a `describeWithCluster` body (it is kept out of `harness.ts`, which benchmarks import).
 */
import { afterAll, afterEach, beforeAll } from '@jest/globals';
import type { V1ContainerPort, V1Pod } from '@kubernetes/client-node';
import type { Cluster, ClusterNode } from '@npl/cluster';
import { AgentFleet, createPod, createService, deletePod, deleteService, waitPodRunning } from '../harness.js';

export interface AgentSuite {
  readonly fleet: AgentFleet;
  /** The node the suite's Pods run on: the cluster's second node. */
  readonly node: () => ClusterNode;
  /** Create a Pod on `node()` (deleted after the test) and wait until it runs. */
  readonly pod: (name: string, labels: Record<string, string>, ports?: V1ContainerPort[], annotations?: Record<string, string>) => Promise<V1Pod>;
  /** Create an NPL-enabled Service (deleted after the test). */
  readonly service: (name: string, selector: Record<string, string>, ports: Parameters<typeof createService>[3], extra?: Parameters<typeof createService>[4]) => Promise<void>;
}

/** `args`: agent flags of every start (e.g. `--dataplane iptables`). */
export function agentSuite(get: () => Cluster, timeoutMs: number, args: readonly string[] = []): AgentSuite {
  const fleet = new AgentFleet(get, args);
  const node = () => get().nodes[1]!;
  const created: { pods: string[]; services: string[] } = { pods: [], services: [] };

  beforeAll(async () => {
    await fleet.startAll();
  }, timeoutMs);

  afterAll(async () => {
    await fleet.stopAll();
  }, timeoutMs);

  afterEach(async () => {
    for (const s of created.services) await deleteService(get(), s);
    for (const p of created.pods) await deletePod(get(), p);
    created.services = [];
    created.pods = [];
  }, timeoutMs);

  return {
    fleet,
    node,
    pod: async (name, labels, ports = [{ containerPort: 80 }], annotations) => {
      await createPod(get(), { name, node: node().name, labels, ports, ...(annotations ? { annotations } : {}) });
      created.pods.push(name);
      return waitPodRunning(get(), name);
    },
    service: async (name, selector, ports, extra = {}) => {
      await createService(get(), name, selector, ports, extra);
      created.services.push(name);
    },
  };
}
