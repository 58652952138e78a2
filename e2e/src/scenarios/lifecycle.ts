/**
 * The deployment's own lifecycle, as a user runs it: least-privilege ServiceAccounts, an upgrade
 * with traffic flowing, a node machine restarted, and an uninstall that leaves nothing behind.
 */
import { expect } from '@jest/globals';
import { CoreV1Api, PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { apiStatus } from '@npl/cluster/testing';
import { NPL_ANNOTATION_KEY } from '@npl/core';
import type { CompleteNplEntry } from '@npl/core';
import { eventually } from '@npl/runtime';
import { CONVERGE_MS, mappingProblems, nodeNamed, socketHeld } from '../checks.js';
import type { ScenarioObjects } from '../checks.js';
import type { Driver, NodeInfo, Protocol } from '../driver.js';
import type { Scenario } from './scenario.js';

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Each call's status, named: `[what, status]` pairs compare well in a failure message. */
async function statuses(calls: Record<string, () => Promise<unknown>>): Promise<[string, number][]> {
  const out: [string, number][] = [];
  for (const [what, call] of Object.entries(calls)) out.push([what, await apiStatus(call)]);
  return out;
}

/** A server Pod with a TCP and a UDP port on each of `nodes`, selected by NPL Services of both protocols. */
async function podsWithBothProtocols(o: ScenarioObjects, prefix: string, nodes: readonly NodeInfo[]): Promise<V1Pod[]> {
  const pods: V1Pod[] = [];
  for (const [i, node] of nodes.entries()) {
    pods.push(await o.pod(`${prefix}-${i}`, node, { app: prefix }, [{ containerPort: 8080, protocol: 'TCP' }, { containerPort: 8080, protocol: 'UDP' }]));
  }
  await o.service(`${prefix}-tcp`, { app: prefix }, [{ port: 8080, targetPort: 8080, protocol: 'TCP' }]);
  await o.service(`${prefix}-udp`, { app: prefix }, [{ port: 8080, targetPort: 8080, protocol: 'UDP' }]);
  return pods;
}

export const serviceAccountsLeastPrivilege: Scenario = {
  name: 'RBAC least privilege',
  title: "the agent's and the controller's ServiceAccount tokens (TokenRequest) get 403 for everything their component must not do",
  needs: [],
  async run(o) {
    const b = o.driver.nodes()[1]!;
    const p = await o.pod('rbac', b, { app: 'rbac' });
    const ns = o.namespace;
    const name = p.metadata!.name!;
    const agentKc = await o.driver.serviceAccountKubeConfig('agent');
    const agent = agentKc.makeApiClient(CoreV1Api);
    const agentRbac = agentKc.makeApiClient(RbacAuthorizationV1Api);
    expect(await statuses({
      'list pods': () => agent.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${b.name}` }),
      'patch pods/status': () => agent.patchNamespacedPodStatus({ namespace: ns, name, body: { metadata: { annotations: { 'example.com/e2e': 'agent' } } } }, MERGE),
      'list services': () => agent.listServiceForAllNamespaces(),
      'get node': () => agent.readNode({ name: b.name }),
    })).toEqual([['list pods', 200], ['patch pods/status', 200], ['list services', 200], ['get node', 200]]);
    const forbidden = {
      'list secrets': () => agent.listSecretForAllNamespaces(),
      'list configmaps': () => agent.listConfigMapForAllNamespaces(),
      'patch pod (not status)': () => agent.patchNamespacedPod({ namespace: ns, name, body: { metadata: { labels: { x: 'y' } } } }, MERGE),
      'delete pod': () => agent.deleteNamespacedPod({ namespace: ns, name }),
      'create pod': () => agent.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'x', image: 'x' }] } } }),
      'patch node': () => agent.patchNode({ name: b.name, body: { metadata: { labels: { x: 'y' } } } }, MERGE),
      'patch service': () => agent.patchNamespacedService({ namespace: 'default', name: 'kubernetes', body: { metadata: { labels: { x: 'y' } } } }, MERGE),
      'create clusterrolebinding': () => agentRbac.createClusterRoleBinding({ body: { metadata: { name: 'npl-e2e-x' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [] } }),
    };
    expect(await statuses(forbidden)).toEqual(Object.keys(forbidden).map((k) => [k, 403]));
    if (!o.driver.capabilities.has('controllerServiceAccount')) return;
    const kc: KubeConfig = await o.driver.serviceAccountKubeConfig('controller');
    const ctl = kc.makeApiClient(CoreV1Api);
    expect(await statuses({ 'list pods': () => ctl.listPodForAllNamespaces(), 'list services': () => ctl.listServiceForAllNamespaces() })).toEqual([['list pods', 200], ['list services', 200]]);
    const ctlForbidden = {
      'list secrets': () => ctl.listSecretForAllNamespaces(),
      'patch pod': () => ctl.patchNamespacedPod({ namespace: ns, name, body: { metadata: { labels: { x: 'y' } } } }, MERGE),
      'patch pods/status': () => ctl.patchNamespacedPodStatus({ namespace: ns, name, body: { metadata: { annotations: { x: 'y' } } } }, MERGE),
      'delete pod': () => ctl.deleteNamespacedPod({ namespace: ns, name }),
      'list nodes': () => ctl.listNode(),
      'create clusterrolebinding': () => kc.makeApiClient(RbacAuthorizationV1Api).createClusterRoleBinding({ body: { metadata: { name: 'npl-e2e-y' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [] } }),
    };
    expect(await statuses(ctlForbidden)).toEqual(Object.keys(ctlForbidden).map((k) => [k, 403]));
  },
};

interface TrafficResult {
  readonly sent: number;
  readonly failures: string[];
}

/** Sends requests to every target from outside, one after the other, until `stop` resolves. */
async function trafficUntil(driver: Driver, targets: readonly { ip: string; port: number; protocol: Protocol; want: string }[], stop: Promise<unknown>): Promise<TrafficResult> {
  let done = false;
  void stop.finally(() => (done = true));
  let sent = 0;
  const failures: string[] = [];
  while (!done) {
    for (const t of targets) {
      const got = (await driver.request({ kind: 'outside' }, t.ip, t.port, t.protocol)).trim();
      sent++;
      if (got !== t.want) failures.push(`${new Date().toISOString()} ${t.protocol} ${t.ip}:${t.port} answered ${JSON.stringify(got)}, want ${t.want}`);
    }
  }
  return { sent, failures };
}

export const upgradeWithTraffic: Scenario = {
  name: 'upgrade with traffic',
  title: 'an upgrade that rolls every agent (log level changed) while a client sends TCP and UDP to every mapping from outside: no request fails, node ports unchanged',
  needs: [],
  async run(o) {
    const pods = await podsWithBothProtocols(o, 'upg', o.driver.nodes());
    const targets: { ip: string; port: number; protocol: Protocol; want: string }[] = [];
    const before = new Map<string, CompleteNplEntry[]>();
    for (const p of pods) {
      const entries = await o.waitAnnotation(p.metadata!.name!, 2);
      before.set(p.metadata!.name!, entries);
      for (const e of entries) targets.push({ ip: e.nodeIP, port: e.nodePort, protocol: e.protocol, want: p.metadata!.name! });
    }
    try {
      const upgraded = o.driver.upgrade({ logLevel: 'debug' });
      const traffic = await trafficUntil(o.driver, targets, upgraded);
      await upgraded;
      process.stderr.write(`[e2e ${o.driver.name}] upgrade with traffic: ${traffic.sent} requests, ${traffic.failures.length} failed\n`);
      expect(traffic.failures).toEqual([]);
      // Every round starts before the upgrade resolved (the loop checks between rounds): at least
      // one whole round ran during the rollout (local: about a second; kind: thousands of requests).
      expect(traffic.sent).toBeGreaterThanOrEqual(targets.length);
      for (const p of pods) expect(await o.annotation(p.metadata!.name!)).toEqual(before.get(p.metadata!.name!));
    } finally {
      await o.driver.upgrade({ logLevel: 'info' });
    }
  },
};

/**
 * The node ports stay the same: after a node restart the Pods' sandboxes are recreated and kubelet
 * may report them without an IP for a while; the agent then does what Antrea does with an annotated
 * Pod that has no IP (spec §5, TestInitMissingPodIP: the annotation goes), but offers each endpoint
 * its old port back once its Pod has an IP again (PortTable.hintPort).
 */
export const nodeRestart: Scenario = {
  name: 'node restart',
  title: "a node's machine restarted: its Pods' mappings come back with the same node ports (TCP and UDP) and carry traffic again",
  needs: ['nodeRestart'],
  async run(o) {
    const b = o.driver.nodes()[1]!;
    const pods = await podsWithBothProtocols(o, 'reboot', [b, b]);
    const before = new Map<string, CompleteNplEntry[]>();
    for (const p of pods) before.set(p.metadata!.name!, await o.waitAnnotation(p.metadata!.name!, 2));
    await o.driver.restartNode(b);
    const ports = (es: readonly CompleteNplEntry[]): string => es.map((e) => `${e.protocol}/${e.nodePort}`).join(' ');
    for (const p of pods) {
      const name = p.metadata!.name!;
      // The Pods' sandboxes are new after the restart (new Pod IPs): wait for the whole chain, and
      // say what is still missing when the deadline passes.
      const entries = await eventually(
        async () => {
          const now = await o.waitRunning(name);
          const got = await o.annotation(name);
          if (got.map((e) => e.protocol).sort().join() !== 'tcp,udp') throw new Error(`annotation maps ${ports(got) || 'nothing'}, want a tcp and a udp entry`);
          const problems: string[] = [];
          for (const e of got) problems.push(...(await mappingProblems(o.driver, now, e)));
          if (problems.length) throw new Error(problems.join('; '));
          return got;
        },
        CONVERGE_MS * 2,
        `mappings of ${name} back after ${b.name} restarted`,
      );
      const sorted = (es: readonly CompleteNplEntry[]): string => ports([...es].sort((x, y) => x.protocol.localeCompare(y.protocol)));
      expect({ pod: name, ports: sorted(entries) }).toEqual({ pod: name, ports: sorted(before.get(name)!) });
    }
  },
};

/** The agent's nft tables and iptables chains still on the node, as `node: what` lines. */
async function rulesLeft(driver: Driver, node: NodeInfo): Promise<string[]> {
  const { nftTable, iptablesChain } = driver.layout;
  const left: string[] = [];
  for (const family of ['ip', 'ip6']) {
    const listed = await driver.execOnNode(node, ['nft', 'list', 'table', family, nftTable]).then(() => true, () => false);
    if (listed) left.push(`${node.name}: nft table ${family} ${nftTable}`);
  }
  for (const save of ['iptables-save', 'ip6tables-save']) {
    const rules = await driver.execOnNode(node, [save, '-t', 'nat']);
    if (rules.includes(iptablesChain)) left.push(`${node.name}: ${save} shows ${iptablesChain}`);
  }
  return left;
}

export const uninstallLeavesNothing: Scenario = {
  name: 'uninstall leaves nothing',
  title: 'uninstall removes every nft table, iptables chain, annotation and held socket on every node',
  needs: [],
  timeoutMs: 600_000,
  async run(o) {
    const pods = await podsWithBothProtocols(o, 'unin', o.driver.nodes());
    const used: { node: NodeInfo; entries: CompleteNplEntry[] }[] = [];
    for (const p of pods) used.push({ node: nodeNamed(o.driver, p.spec?.nodeName), entries: await o.waitAnnotation(p.metadata!.name!, 2) });
    await o.driver.uninstall();
    const left: string[] = [];
    for (const node of o.driver.allNodes()) left.push(...(await rulesLeft(o.driver, node)));
    for (const { node, entries } of used) {
      for (const e of entries) if (await socketHeld(o.driver, node, e.nodePort, e.protocol)) left.push(`${node.name}: ${e.protocol} port ${e.nodePort} still held`);
    }
    const all = await o.core().listPodForAllNamespaces();
    for (const p of all.items) if (p.metadata?.annotations?.[NPL_ANNOTATION_KEY] !== undefined) left.push(`pod ${p.metadata.namespace}/${p.metadata.name} keeps ${NPL_ANNOTATION_KEY}`);
    expect(left).toEqual([]);
  },
};

/** In this order; the uninstall is last (nothing runs after it). */
export const LIFECYCLE_SCENARIOS: readonly Scenario[] = [serviceAccountsLeastPrivilege, upgradeWithTraffic, nodeRestart, uninstallLeavesNothing];
