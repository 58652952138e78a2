/**
 * nplctl's command line: `nplctl list …`, `nplctl check ns/pod …`, `nplctl help`. Pure: argv in,
 * a command or a UsageError (exit code 2) out.
 */
import { parseArgs } from 'node:util';

/** The chart's default agent.healthPort (charts/npl/values.yaml): where npl-agent serves /mappings. */
export const DEFAULT_AGENT_PORT = 10361;
export const DEFAULT_TIMEOUT_MS = 5_000;

export const HELP = `Usage:
  nplctl list [--node NODE] [--service NS/NAME | --namespace NS] [-o table|json]
  nplctl check NS/POD [--agent-port PORT] [--connect] [--timeout SECONDS]

Lists NodePortLocal mappings from the Pods' nodeportlocal.antrea.io annotations, and checks one Pod
end to end (annotation, NodePortLocal Service, rules and sockets on its node, optional TCP connect).

Commands:
  list     One row per mapping: namespace, pod, node, pod port/protocol, family, node IP:node port.
           A malformed annotation is reported on stderr for its Pod; the others are still listed.
  check    One line per check, ✔ passed, ✘ failed (with what to do), - not applicable.
           Exit code 0 when every check passed, 1 when one failed.

Options:
  --kubeconfig FILE      kubeconfig to use (else KUBECONFIG, ~/.kube/config, or in-cluster credentials)
  --context NAME         kubeconfig context to use (default: its current context)
  --node NODE            list: only Pods on this node
  --service NS/NAME      list: only Pods this Service selects, and only the ports it targets
  -n, --namespace NS     list: only Pods of this namespace
  -o, --output FORMAT    list: table (default) or json
  --agent-port PORT      check: port of npl-agent's health server on the Pod's node [default ${DEFAULT_AGENT_PORT}, the chart's agent.healthPort]
  --connect              check: also open a TCP connection to each TCP entry's nodeIP:nodePort from here
  --timeout SECONDS      check: limit for each agent request and connection [default ${DEFAULT_TIMEOUT_MS / 1000}]
  -h, --help             show this help

Exit codes: 0 done (check: every check passed), 1 a check failed or the cluster could not be read,
2 invalid command line or kubeconfig.
`;

/** A command line nplctl cannot run; exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface Common {
  readonly kubeconfig?: string;
  readonly context?: string;
}

export type Command =
  | { readonly kind: 'help' }
  | ({ readonly kind: 'list'; readonly node?: string; readonly service?: { namespace: string; name: string }; readonly namespace?: string; readonly output: 'table' | 'json' } & Common)
  | ({ readonly kind: 'check'; readonly namespace: string; readonly name: string; readonly agentPort: number; readonly connect: boolean; readonly timeoutMs: number } & Common);

const OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  node: { type: 'string' },
  service: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  output: { type: 'string', short: 'o' },
  'agent-port': { type: 'string' },
  connect: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parse>['values'];

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** `ns/name` of `flag`, or a UsageError naming the flag and the expected form. */
export function parseObjectRef(text: string, what: string): { namespace: string; name: string } {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(text);
  if (!m) throw new UsageError(`${what} ${JSON.stringify(text)}: expected namespace/name, e.g. default/web`);
  return { namespace: m[1]!, name: m[3]! };
}

function only(values: Values, allowed: readonly (keyof Values)[], command: string): void {
  const extra = (Object.keys(values) as (keyof Values)[]).filter((k) => !allowed.includes(k) && k !== 'kubeconfig' && k !== 'context' && k !== 'help');
  if (extra.length > 0) throw new UsageError(`${command} does not take --${String(extra[0])}`);
}

function common(values: Values): Common {
  return { ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}), ...(values.context !== undefined ? { context: values.context } : {}) };
}

function listCommand(values: Values, positionals: readonly string[]): Command {
  only(values, ['node', 'service', 'namespace', 'output'], 'list');
  if (positionals.length > 0) throw new UsageError(`list takes no arguments, got ${JSON.stringify(positionals[0])}`);
  if (values.service !== undefined && values.namespace !== undefined) throw new UsageError('--service and --namespace exclude each other (the Service names its namespace)');
  const output = values.output ?? 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError(`--output ${JSON.stringify(output)}: expected table or json`);
  return {
    kind: 'list',
    output,
    ...common(values),
    ...(values.node !== undefined ? { node: values.node } : {}),
    ...(values.service !== undefined ? { service: parseObjectRef(values.service, '--service') } : {}),
    ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
  };
}

function number(text: string | undefined, flag: string, fallback: number, ok: (n: number) => boolean, expected: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (text.trim() === '' || !ok(n)) throw new UsageError(`${flag} ${JSON.stringify(text)}: expected ${expected}`);
  return n;
}

function checkCommand(values: Values, positionals: readonly string[]): Command {
  only(values, ['agent-port', 'connect', 'timeout'], 'check');
  if (positionals.length !== 1) throw new UsageError(`check takes one Pod as namespace/name, got ${positionals.length} arguments`);
  const pod = parseObjectRef(positionals[0]!, 'Pod');
  const agentPort = number(values['agent-port'], '--agent-port', DEFAULT_AGENT_PORT, (n) => Number.isInteger(n) && n >= 1 && n <= 65535, 'a port of 1-65535');
  const seconds = number(values.timeout, '--timeout', DEFAULT_TIMEOUT_MS / 1000, (n) => Number.isFinite(n) && n > 0 && n <= 600, 'seconds, more than 0 and at most 600');
  return { kind: 'check', ...pod, agentPort, connect: values.connect ?? false, timeoutMs: Math.round(seconds * 1000), ...common(values) };
}

/** The command of `argv` (without node and script). Throws UsageError. */
export function parseCommand(argv: readonly string[]): Command {
  const { values, positionals } = parse(argv);
  const [verb, ...rest] = positionals;
  if (values.help || verb === 'help' || verb === undefined) return { kind: 'help' };
  if (verb === 'list') return listCommand(values, rest);
  if (verb === 'check') return checkCommand(values, rest);
  throw new UsageError(`unknown command ${JSON.stringify(verb)}: expected list or check (nplctl --help)`);
}
