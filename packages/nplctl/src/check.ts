/**
 * `nplctl check ns/pod`: the checks of one Pod, in the order Antrea's e2e makes them (annotation,
 * then rules, then the reserved socket, then traffic), each a line with what was found and, when it
 * failed, what to do. Pure: the caller gathers the Pod, the Services, the agent's /mappings and the
 * connection results (check-run.ts).
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY, parseNplAnnotation } from '@npl/core/annotation';
import type { CompleteNplEntry } from '@npl/core/annotation';
import type { AgentMapping, AgentReport } from './agent-report.js';
import type { CheckLine } from './format.js';
import { hostPort } from './format.js';
import { nplServicesOf } from './selection.js';

/** What the agent of the Pod's node said: its report, or why it could not be read. */
export type AgentAnswer = { readonly url: string; readonly report: AgentReport } | { readonly url: string; readonly error: string };

export interface CheckInput {
  readonly namespace: string;
  readonly name: string;
  readonly pod: V1Pod | undefined;
  /** The Services of the Pod's namespace. */
  readonly services: readonly V1Service[];
  /** Undefined when the agent was not asked (no Pod, no hostIP). */
  readonly agent?: AgentAnswer;
  /** With --connect: `ip:port` (hostPort) -> undefined when a TCP connection was made, else the error. */
  readonly connects?: ReadonlyMap<string, string | undefined>;
  /** The agent health port, for hints. */
  readonly agentPort: number;
}

const pass = (text: string): CheckLine => ({ status: 'pass', text });
const fail = (text: string, hint: string): CheckLine => ({ status: 'fail', text, hint });
const skip = (text: string): CheckLine => ({ status: 'skip', text });

function podLine(input: CheckInput): CheckLine {
  const key = `${input.namespace}/${input.name}`;
  const { pod } = input;
  if (!pod) return fail(`Pod ${key} not found`, `check the namespace and name: kubectl get pod -n ${input.namespace} ${input.name}`);
  const node = pod.spec?.nodeName;
  if (!node) return fail(`Pod ${key} is not scheduled to a node`, 'wait until it is scheduled: kubectl describe pod says why it is not');
  if (!pod.status?.hostIP) return fail(`Pod ${key} on node ${node} has no hostIP yet`, 'wait until the kubelet reports it (kubectl get pod -o wide)');
  return pass(`Pod ${key} runs on node ${node} (hostIP ${pod.status.hostIP})`);
}

function serviceLine(input: CheckInput, pod: V1Pod): CheckLine {
  const services = nplServicesOf(pod, input.services);
  if (services.length > 0) return pass(`selected by NodePortLocal Service${services.length > 1 ? 's' : ''} ${services.join(', ')}`);
  return fail(
    `no Service annotated ${NPL_ENABLED_ANNOTATION_KEY}: "true" (of type ClusterIP or LoadBalancer) selects the Pod`,
    `annotate a Service whose selector matches its labels: kubectl annotate service -n ${input.namespace} <name> ${NPL_ENABLED_ANNOTATION_KEY}=true`,
  );
}

type Parsed = { readonly entries: CompleteNplEntry[]; readonly lines: CheckLine[] };

function annotationLines(pod: V1Pod): Parsed {
  const node = pod.spec?.nodeName ?? '';
  const text = pod.metadata?.annotations?.[NPL_ANNOTATION_KEY];
  if (text === undefined) {
    return {
      entries: [],
      lines: [
        fail(`annotation ${NPL_ANNOTATION_KEY} is absent`, `npl-agent writes it once the Pod has an IP and an NPL Service selects it: check npl-agent on node ${node} (its /readyz and logs)`),
        skip('annotation not parsed (absent)'),
      ],
    };
  }
  const present = pass(`annotation ${NPL_ANNOTATION_KEY} is present`);
  try {
    const parsed = parseNplAnnotation(text);
    const entries = parsed.filter((e): e is CompleteNplEntry => e.incomplete === undefined);
    const incomplete = parsed.length - entries.length;
    if (incomplete > 0) {
      return { entries, lines: [present, fail(`annotation has ${incomplete} incomplete entr${incomplete > 1 ? 'ies' : 'y'} of ${parsed.length}`, `npl-agent on node ${node} rewrites edited annotations at once; if this stays, check its logs`)] };
    }
    return { entries, lines: [present, pass(`annotation parses: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}`)] };
  } catch (err) {
    return { entries: [], lines: [present, fail(`annotation cannot be parsed: ${(err as Error).message}`, `npl-agent on node ${node} rewrites corrupted annotations at once; if this stays, check its logs`)] };
  }
}

function agentLine(input: CheckInput, node: string): CheckLine {
  const agent = input.agent;
  if (!agent) return skip('npl-agent not asked (the Pod has no node)');
  if ('report' in agent) return pass(`npl-agent on node ${node} answers at ${agent.url}`);
  return fail(
    `npl-agent on node ${node} does not answer at ${agent.url}: ${agent.error}`,
    `check that npl-agent runs on ${node} (kubectl get pods -A -o wide | grep npl-agent) and listens on its node IP; pass --agent-port if the chart's agent.healthPort is not ${input.agentPort}`,
  );
}

const describeEntry = (e: { protocol: string; podPort: number; nodeIP: string | null; nodePort: number }): string => `${e.protocol}/${e.podPort} -> ${hostPort(e.nodeIP ?? '?', e.nodePort)}`;

const RULE_HINT: Record<string, string> = {
  missing: "the agent's drift repair reinstalls it within its --verify-period (60 s by default); if it stays missing, read the agent's logs (Dataplane drift found)",
  pending: 'an add or the start-up sync is installing it: check again in a moment',
  unknown: 'the agent could not read its dataplane: see the dataplanes field of its /mappings and its logs',
};

function ruleLines(e: CompleteNplEntry, m: AgentMapping, node: string): CheckLine[] {
  const what = describeEntry(e);
  const lines: CheckLine[] = [];
  if (m.nodePort !== e.nodePort) {
    lines.push(fail(`${what}: npl-agent on ${node} maps this pod port to node port ${m.nodePort}`, 'the annotation is stale: the agent rewrites it; if it stays, read the agent logs'));
  }
  lines.push(m.rule === 'present' ? pass(`${what}: rule present in the dataplane of ${node}`) : fail(`${what}: rule ${m.rule} in the dataplane of ${node}`, RULE_HINT[m.rule] ?? 'read the agent logs'));
  if (m.socketHeld === true) lines.push(pass(`${what}: node port socket held by npl-agent`));
  else if (m.socketHeld === null) lines.push(skip(`${what}: npl-agent cannot say whether it holds the node port socket`));
  else lines.push(fail(`${what}: node port socket not held by npl-agent`, `another process may hold port ${m.nodePort}/${m.protocol} on ${node} (ss -lntup there); read the agent logs`));
  return lines;
}

const endpointKey = (x: { family: string; protocol: string; podPort: number }): string => `${x.family}/${x.protocol}/${x.podPort}`;

function mappingLines(input: CheckInput, entries: readonly CompleteNplEntry[], node: string): CheckLine[] {
  const agent = input.agent;
  if (!agent || !('report' in agent)) return entries.map((e) => skip(`${describeEntry(e)}: rule and socket not checked (npl-agent not reached)`));
  const byEndpoint = new Map(agent.report.mappings.map((m) => [endpointKey(m), m]));
  const lines = entries.flatMap((e) => {
    const m = byEndpoint.get(endpointKey({ family: e.ipFamily, protocol: e.protocol, podPort: e.podPort }));
    if (!m) return [fail(`${describeEntry(e)}: npl-agent on ${node} has no such mapping`, "the annotation is stale or the Pod was not reconciled yet: check again in a moment, then read the agent's logs")];
    return ruleLines(e, m, node);
  });
  const annotated = new Set(entries.map((e) => endpointKey({ family: e.ipFamily, protocol: e.protocol, podPort: e.podPort })));
  for (const m of agent.report.mappings) {
    if (!annotated.has(endpointKey(m))) lines.push(fail(`${describeEntry(m)}: npl-agent maps it but the annotation lacks it`, "the annotation update is pending or failing: read the agent's logs (pods/status patch)"));
  }
  return lines;
}

function connectLines(input: CheckInput, entries: readonly CompleteNplEntry[]): CheckLine[] {
  const connects = input.connects;
  if (!connects) return [];
  return entries.map((e) => {
    const target = hostPort(e.nodeIP, e.nodePort);
    if (e.protocol !== 'tcp') return skip(`${describeEntry(e)}: no connect check for ${e.protocol} (no handshake)`);
    const error = connects.get(target);
    if (connects.has(target) && error === undefined) return pass(`TCP connect to ${target} succeeded`);
    return fail(`TCP connect to ${target} failed: ${error ?? 'not tried'}`, 'if the rule and socket checks pass, check routing and firewalls between here and the node, and that the Pod listens on its port');
  });
}

/** Every check line, in order; later checks are skipped (`-`) when an earlier one leaves nothing to check. */
export function evaluateCheck(input: CheckInput): CheckLine[] {
  const first = podLine(input);
  const pod = input.pod;
  if (first.status === 'fail' || !pod) return [first];
  const node = pod.spec?.nodeName ?? '';
  const parsed = annotationLines(pod);
  return [first, serviceLine(input, pod), ...parsed.lines, agentLine(input, node), ...mappingLines(input, parsed.entries, node), ...connectLines(input, parsed.entries)];
}

/** The node addresses `--connect` should try: each complete TCP entry's nodeIP:nodePort. */
export function connectTargets(pod: V1Pod | undefined): { host: string; port: number }[] {
  const text = pod?.metadata?.annotations?.[NPL_ANNOTATION_KEY];
  if (text === undefined) return [];
  try {
    return parseNplAnnotation(text)
      .filter((e): e is CompleteNplEntry => e.incomplete === undefined && e.protocol === 'tcp')
      .map((e) => ({ host: e.nodeIP, port: e.nodePort }));
  } catch {
    return [];
  }
}
