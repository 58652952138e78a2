/**
 * The node stand-in: one process for all nodes of a local cluster, in place of kubelet. Started by
 * `cluster up` with the path of its JSON configuration (see config.ts).
 */
import { readFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { podKey } from '../layout.js';
import { readExternalIPs, readHiddenInternalIPs } from '../node-address.js';
import { listNetns, tryRun } from '../run.js';
import type { StandinConfig } from './config.js';
import { NodeHeartbeat } from './node-status.js';
import { NodeProcessSupervisor } from './node-processes.js';
import { PodController } from './pod-controller.js';
import { PodNetwork, podAddresses } from './pod-network.js';
import { PodnetClient, type ProbeTarget } from './podnet-client.js';
import { NetnsServerRuntime, RuntimeRouter } from './runtime.js';

/** Readiness probes run by the podnet helper from inside the given namespace. */
function probeVia(podnet: PodnetClient): (netnsPath: string, target: ProbeTarget) => Promise<boolean> {
  return (netnsPath, target) => podnet.probe(netnsPath, target).then(
    () => true,
    () => false,
  );
}

async function adoptExisting(cfg: StandinConfig, nodes: { net: PodNetwork; ctl: PodController }[], log: Logger): Promise<void> {
  const found = (await listNetns()).filter((n) => n.startsWith(cfg.podNetnsPrefix));
  for (const ns of found) {
    // The primary-family address identifies the pod's node; the others derive from it.
    const ips = await podAddresses(ns);
    const ip = ips.find((a) => nodes.some((n) => n.net.allocator.contains(a)));
    const owner = ip ? nodes.find((n) => n.net.allocator.contains(ip)) : undefined;
    if (!ip || !owner) {
      await tryRun('ip', ['netns', 'del', ns]);
      continue;
    }
    owner.net.allocator.reserve(ip);
    owner.ctl.adopted.set(ns.slice(cfg.podNetnsPrefix.length), ip);
  }
  if (found.length > 0) log.info({ count: found.length }, 'adopted pod namespaces from an earlier run');
}

/** Deletes adopted namespaces that no pod claimed once every node has listed its pods. */
async function collectOrphans(cfg: StandinConfig, nodes: { net: PodNetwork; ctl: PodController }[]): Promise<void> {
  for (const n of nodes) {
    const known = new Set([...n.ctl.knownUids()].map(podKey));
    for (const [key, ip] of n.ctl.adopted) {
      if (known.has(key)) continue;
      n.ctl.adopted.delete(key);
      await tryRun('ip', ['netns', 'del', `${cfg.podNetnsPrefix}${key}`]);
      n.net.allocator.release(ip);
    }
  }
}

async function main(): Promise<void> {
  const cfgPath = process.argv[2];
  if (!cfgPath) throw new Error('usage: standin <config.json>');
  const cfg = JSON.parse(await readFile(cfgPath, 'utf8')) as StandinConfig;
  const log = pino({ level: process.env.NPL_LOG_LEVEL ?? 'info', base: { cluster: cfg.cluster } });
  const podnet = new PodnetClient(cfg.podnet, log.child({ component: 'podnet' }));
  podnet.start();
  const runtime = new RuntimeRouter([new NetnsServerRuntime(podnet)]);
  const supervisor = new NodeProcessSupervisor(cfg.dir, log);
  const nodes = cfg.nodes.map((node) => {
    const kc = new KubeConfig();
    kc.loadFromFile(node.kubeconfig);
    const nlog = log.child({ node: node.name });
    const net = new PodNetwork(node, cfg.podNetnsPrefix);
    return {
      node,
      net,
      heartbeat: new NodeHeartbeat(node, kc, cfg.kubeletVersion, nlog),
      ctl: new PodController(node, kc, { network: net, runtime, probe: probeVia(podnet) }, nlog),
    };
  });
  podnet.onRestart = () => nodes.forEach((n) => n.ctl.restartContainers());
  for (const n of nodes) {
    n.heartbeat.externalIPs = () => readExternalIPs(n.node.netns);
    n.heartbeat.internalIPs = async () => {
      const hidden = await readHiddenInternalIPs(cfg.dir, n.node.name);
      return n.node.ips.filter((ip) => !hidden.includes(ip));
    };
  }
  // `cluster.setNodeAddress` re-addresses a node namespace, then sends SIGHUP: post the new
  // addresses now rather than at the next periodic status update.
  process.on('SIGHUP', () => {
    for (const n of nodes) void n.heartbeat.postStatus().catch((err: unknown) => log.warn({ node: n.node.name, err }, 'node status update failed'));
  });
  await adoptExisting(cfg, nodes, log);
  await Promise.all(
    nodes.map(async (n) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await n.heartbeat.register();
          break;
        } catch (err) {
          if (attempt > 60) throw err;
          log.warn({ node: n.node.name, err }, 'node registration failed; retrying');
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      n.heartbeat.start();
      log.info({ node: n.node.name, ips: n.node.ips, podCIDRs: n.node.podCIDRs }, 'node registered');
    }),
  );
  await Promise.all(nodes.map((n) => n.ctl.start()));
  setTimeout(() => void collectOrphans(cfg, nodes).catch((err: unknown) => log.warn({ err }, 'orphan collection failed')), 10_000);
  for (const n of nodes) for (const spec of cfg.nodeProcesses) supervisor.start(n.node, spec);
  const shutdown = (): void => {
    log.info('stand-in stopping');
    supervisor.stop();
    for (const n of nodes) {
      n.heartbeat.stop();
      n.ctl.stop();
    }
    podnet.stop();
    setTimeout(() => process.exit(0), 200).unref();
  };
  setInterval(() => {
    const m = process.memoryUsage();
    const mib = (n: number) => Math.round(n / 2 ** 20);
    log.info({ rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), externalMiB: mib(m.external) }, 'memory');
  }, 60_000).unref();
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  log.info({ nodes: nodes.length }, 'stand-in ready');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
