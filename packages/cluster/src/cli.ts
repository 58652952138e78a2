#!/usr/bin/env node
/**
 * `cluster up [--nodes N] [--name NAME] [--ip-family ipv4|ipv6|dual] [--agent] [--external-ip]`,
 * `cluster down [--name NAME]`, `cluster status [--name NAME] [--json]`. `up` ends with a
 * `KUBECTL=<path>` line and a `KUBECONFIG=<path>` line.
 */
import { parseArgs } from 'node:util';
import { agentNodeProcess } from './agent-process.js';
import { clusterStatus, startCluster, stopCluster, type ClusterNode, type ClusterStatus } from './cluster.js';
import { DEFAULT_IP_FAMILY, validateIPFamily } from './layout.js';
import { defaultExternalIP } from './node-address.js';

const USAGE = `usage:
  cluster up [--nodes N] [--name NAME] [--ip-family ipv4|ipv6|dual] [--agent] [--external-ip]
             [--controller [--controller-replicas N]]
                                         start a local cluster (default name "local", 2 nodes,
                                         dual-stack with IPv4 primary);
                                         --agent runs npl-agent on every node (NPL_* variables
                                         are passed to it, e.g. NPL_PORT_RANGE); --external-ip
                                         gives every node an ExternalIP in 203.0.113.0/24
                                         (IPv4, so not with --ip-family ipv6); --controller runs
                                         the BIG-IP emulator and npl-controller (NPL_* variables
                                         are passed to it) and prints BIGIP_URL=, BIGIP_CA_FILE=,
                                         BIGIP_USERNAME=, BIGIP_PASSWORD= (a local test account)
  cluster down [--name NAME]             remove its processes, namespaces, links and files
  cluster status [--name NAME] [--json]  show where it is and which nodes it has
`;

interface UpOptions {
  readonly agent: boolean;
  readonly externalIPs: boolean;
  /** Controller replicas; 0: no --controller. */
  readonly controllerReplicas: number;
}

/** NPL_* variables of the caller's environment, passed to the controllers as to the agents. */
function nplEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('NPL_') && e[1] !== undefined));
}

async function up(name: string, nodes: number, ipFamily: string, opts: UpOptions): Promise<void> {
  const { agent, externalIPs, controllerReplicas } = opts;
  const t0 = Date.now();
  const nodeProcesses = agent ? [agentNodeProcess()] : [];
  const controller = controllerReplicas > 0 ? { replicas: controllerReplicas, env: nplEnv() } : undefined;
  const c = await startCluster({
    name, nodes, ipFamily: validateIPFamily(ipFamily), nodeProcesses, externalIPs, ...(controller ? { controller } : {}),
    onProgress: (l) => process.stderr.write(`${l}\n`),
  });
  const out = process.stdout;
  out.write(`cluster ${c.name} is up in ${((Date.now() - t0) / 1000).toFixed(1)} s (API server ${c.server})\n`);
  for (const n of c.nodes) {
    const ext = externalIPs ? defaultExternalIP(c.layout.slot, c.layout.nodes.find((l) => l.name === n.name)!.index) : undefined;
    out.write(nodeLine(n, ext));
  }
  out.write(outsideLine(c));
  if (agent) out.write(`npl-agent runs on every node (logs ${c.dir}/logs/<node>-npl-agent.log, health http://<node ip>:10361/readyz)\n`);
  if (c.bigip && c.controllers) {
    out.write(`BIG-IP emulator ${c.bigip.url} (logs ${c.dir}/logs/bigip-emulator.log), npl-controller x${c.controllers.replicas} (logs ${c.dir}/logs/npl-controller-<i>.log, health ${c.controllers.healthURL(0)}/readyz)\n`);
    out.write(bigipLines(c.bigip));
  }
  out.write(`logs ${c.dir}/logs\n`);
  if (c.kubectl) out.write(`KUBECTL=${c.kubectl}\n`);
  out.write(`KUBECONFIG=${c.kubeconfigPath}\n`);
}

/** The emulator's local test account: printing its password is deliberate (see the README). */
function bigipLines(b: NonNullable<ClusterStatus['bigip']>): string {
  return `BIGIP_URL=${b.url}\nBIGIP_CA_FILE=${b.caFile}\nBIGIP_USERNAME=${b.username}\nBIGIP_PASSWORD=${b.password}\n`;
}

function statusTail(s: ClusterStatus): string {
  return (s.bigip ? bigipLines(s.bigip) : '') + (s.kubectl ? `KUBECTL=${s.kubectl}\n` : '');
}

function nodeLine(n: ClusterNode, externalIP?: string): string {
  return `node ${n.name}  ip ${n.ips.join(',')}${externalIP ? `  externalIP ${externalIP}` : ''}  podCIDR ${n.podCIDRs.join(',')}  netns ${n.netns}\n`;
}

function outsideLine(c: Pick<ClusterStatus, 'outsideIP' | 'outsideIPv6' | 'outsideNetns'>): string {
  return `outside  ip ${[c.outsideIP, ...(c.outsideIPv6 && c.outsideIPv6 !== c.outsideIP ? [c.outsideIPv6] : [])].join(',')}  netns ${c.outsideNetns}\n`;
}

async function status(name: string, json: boolean): Promise<number> {
  const s = await clusterStatus(name);
  if (json) {
    process.stdout.write(JSON.stringify(s ?? { name, running: false }, null, 2) + '\n');
    return s?.running ? 0 : 1;
  }
  if (!s) {
    process.stdout.write(`cluster ${name} does not exist\n`);
    return 1;
  }
  process.stdout.write(`cluster ${s.name}: ${s.running ? 'running' : 'NOT running (run `cluster up` again)'}\n`);
  for (const [role, p] of Object.entries(s.processes)) process.stdout.write(`  ${role.padEnd(20)} pid ${p.pid} ${p.alive ? 'alive' : 'dead'}\n`);
  for (const n of s.nodes) process.stdout.write(nodeLine(n));
  process.stdout.write(outsideLine(s) + statusTail(s));
  process.stdout.write(`KUBECONFIG=${s.kubeconfigPath}\n`);
  return s.running ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string', default: 'local' },
      nodes: { type: 'string', default: '2' },
      'ip-family': { type: 'string', default: DEFAULT_IP_FAMILY },
      json: { type: 'boolean', default: false },
      agent: { type: 'boolean', default: false },
      'external-ip': { type: 'boolean', default: false },
      controller: { type: 'boolean', default: false },
      'controller-replicas': { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const cmd = positionals[0];
  if (values.help || !cmd) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  switch (cmd) {
    case 'up':
      await up(values.name, Number(values.nodes), values['ip-family'], {
        agent: values.agent, externalIPs: values['external-ip'], controllerReplicas: values.controller ? Number(values['controller-replicas']) : 0,
      });
      return 0;
    case 'down':
      await stopCluster(values.name);
      process.stdout.write(`cluster ${values.name} removed\n`);
      return 0;
    case 'status':
      return status(values.name, values.json);
    default:
      process.stderr.write(`unknown command ${cmd}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
