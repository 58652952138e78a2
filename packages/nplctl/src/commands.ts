/**
 * The two commands over injected side effects (kube.ts): gather, then the pure modules decide
 * (list.ts, check.ts) and format (format.ts). Each returns what to print and the exit code.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Command } from './args.js';
import { readAgentReport } from './agent-report.js';
import type { AgentAnswer } from './check.js';
import { connectTargets, evaluateCheck } from './check.js';
import { checkExitCode, formatCheckLines, formatListJson, formatListTable, hostPort } from './format.js';
import type { ClusterReader } from './kube.js';
import { listMappings } from './list.js';

export interface Deps {
  readonly reader: ClusterReader;
  readonly fetchJson: (url: string, timeoutMs: number) => Promise<unknown>;
  readonly connect: (host: string, port: number, timeoutMs: number) => Promise<void>;
}

export interface Outcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: 0 | 1 | 2;
}

type ListCommand = Extract<Command, { kind: 'list' }>;
type CheckCommand = Extract<Command, { kind: 'check' }>;

const selectorText = (selector: Record<string, string>): string =>
  Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** `nplctl list`: exit 0 (problems with single annotations are reported, not fatal); 1 when the Service does not exist. */
export async function runList(cmd: ListCommand, deps: Deps): Promise<Outcome> {
  let pods: V1Pod[];
  let service;
  if (cmd.service) {
    service = await deps.reader.readService(cmd.service.namespace, cmd.service.name);
    if (!service) return { stdout: '', stderr: `nplctl: Service ${cmd.service.namespace}/${cmd.service.name} not found\n`, exitCode: 1 };
    const selector = service.spec?.selector ?? {};
    pods = Object.keys(selector).length === 0 ? [] : await deps.reader.listPods({ namespace: cmd.service.namespace, labelSelector: selectorText(selector), ...(cmd.node !== undefined ? { node: cmd.node } : {}) });
  } else {
    pods = await deps.reader.listPods({ ...(cmd.namespace !== undefined ? { namespace: cmd.namespace } : {}), ...(cmd.node !== undefined ? { node: cmd.node } : {}) });
  }
  const listing = listMappings(pods, { ...(cmd.node !== undefined ? { node: cmd.node } : {}), ...(service ? { service } : {}) });
  if (cmd.output === 'json') return { stdout: formatListJson(listing), stderr: '', exitCode: 0 };
  return { ...formatListTable(listing), exitCode: 0 };
}

async function askAgent(pod: V1Pod, cmd: CheckCommand, deps: Deps): Promise<AgentAnswer | undefined> {
  const hostIP = pod.status?.hostIP;
  if (!hostIP || !pod.spec?.nodeName) return undefined;
  const url = `http://${hostPort(hostIP, cmd.agentPort)}/mappings?pod=${encodeURIComponent(`${cmd.namespace}/${cmd.name}`)}`;
  try {
    return { url, report: readAgentReport(await deps.fetchJson(url, cmd.timeoutMs)) };
  } catch (err) {
    return { url, error: (err as Error).message };
  }
}

async function connectAll(pod: V1Pod, cmd: CheckCommand, deps: Deps): Promise<Map<string, string | undefined>> {
  const results = new Map<string, string | undefined>();
  for (const t of connectTargets(pod)) {
    try {
      await deps.connect(t.host, t.port, cmd.timeoutMs);
      results.set(hostPort(t.host, t.port), undefined);
    } catch (err) {
      results.set(hostPort(t.host, t.port), (err as Error).message);
    }
  }
  return results;
}

/** `nplctl check ns/pod`: one line per check; exit 0 when all passed, 1 otherwise. */
export async function runCheck(cmd: CheckCommand, deps: Deps): Promise<Outcome> {
  const pod = await deps.reader.readPod(cmd.namespace, cmd.name);
  const services = pod ? await deps.reader.listServices(cmd.namespace) : [];
  const agent = pod ? await askAgent(pod, cmd, deps) : undefined;
  const connects = pod && cmd.connect ? await connectAll(pod, cmd, deps) : undefined;
  const lines = evaluateCheck({ namespace: cmd.namespace, name: cmd.name, pod, services, agentPort: cmd.agentPort, ...(agent ? { agent } : {}), ...(connects ? { connects } : {}) });
  return { stdout: formatCheckLines(lines), stderr: '', exitCode: checkExitCode(lines) };
}
