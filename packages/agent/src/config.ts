/**
 * npl-agent configuration from flags and environment variables (a flag wins over its variable).
 * Parsing is pure; an invalid value is an `AgentConfigError` naming the flag, the variable and the value.
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import type { PortRange } from '@npl/core';
import { DEFAULT_IPTABLES_CHAIN, parsePortRange } from '@npl/core';
import { parseListenAddress } from '@npl/runtime';

export type DataplaneKind = 'nftables' | 'iptables';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface AgentConfig {
  readonly nodeName: string;
  readonly portRange: PortRange;
  readonly dataplane: DataplaneKind;
  readonly nftTable: string;
  readonly iptablesChain: string;
  /** `host:port`, `[v6]:port`, `:port` (every address) or `NODE_IP:port` (this node's IP, see nodeIP). */
  readonly healthAddress: string;
  /** This node's IP from --node-ip (the downward API's status.hostIP); the Node's InternalIP is read when unset. */
  readonly nodeIP?: string;
  readonly kubeconfig?: string;
  readonly workers: number;
  /** How often informers relist (safety net for stalled watches), ms. */
  readonly relistMs: number;
  /** How often the dataplane is compared with the port tables and repaired, ms (0 = never). */
  readonly verifyMs: number;
  /** How long a watch or the dataplane may keep failing before /readyz fails, ms. */
  readonly unreadyAfterMs: number;
  /** How long workers or the drift-repair loop may make no progress (with work) before /healthz fails, ms. */
  readonly stallMs: number;
  readonly logLevel: LogLevel;
  /** API client rate: requests per second and burst (0 = unlimited). */
  readonly apiQps: number;
  readonly apiBurst: number;
}

export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
}

interface OptionSpec {
  readonly env: string;
  readonly help: string;
  readonly default?: string;
}

/** Every option, its variable, default and help, in `--help` order. */
export const OPTIONS = {
  'node-name': { env: 'NODE_NAME', help: 'Name of the Node this agent serves (required; the downward API gives it)' },
  'port-range': { env: 'NPL_PORT_RANGE', default: '61000-62000', help: 'Node ports to allocate from, start-end inclusive' },
  dataplane: { env: 'NPL_DATAPLANE', default: 'nftables', help: 'nftables (own tables ip/ip6 npl) or iptables (Antrea-compatible chain)' },
  'nft-table': { env: 'NPL_NFT_TABLE', default: 'npl', help: 'Name of our nftables tables (families ip and ip6)' },
  'iptables-chain': { env: 'NPL_IPTABLES_CHAIN', default: DEFAULT_IPTABLES_CHAIN, help: "nat chain for the iptables dataplane (Antrea's, so either agent takes over the other's rules)" },
  'health-address': {
    env: 'NPL_HEALTH_ADDRESS',
    default: 'NODE_IP:10361',
    help: 'Listen address of /healthz, /readyz, /metrics and /mappings: host:port, [v6]:port, :port (every address) or NODE_IP:port (this node)',
  },
  'node-ip': { env: 'NODE_IP', help: "This node's IP for NODE_IP in --health-address (downward API status.hostIP); else the Node's InternalIP" },
  kubeconfig: { env: 'KUBECONFIG', help: 'kubeconfig file; in-cluster ServiceAccount credentials when unset' },
  workers: { env: 'NPL_WORKERS', default: '4', help: 'Pods reconciled in parallel' },
  'relist-period': { env: 'NPL_RELIST_PERIOD', default: '5m', help: 'Informer relist period (safety net for stalled watches)' },
  'verify-period': { env: 'NPL_VERIFY_PERIOD', default: '60s', help: 'Dataplane drift check and repair period; 0 disables' },
  'unready-after': { env: 'NPL_UNREADY_AFTER', default: '60s', help: '/readyz fails once a watch or the dataplane has failed this long' },
  'stall-limit': { env: 'NPL_STALL_LIMIT', default: '2m', help: '/healthz fails once workers or the drift check made no progress this long' },
  'log-level': { env: 'NPL_LOG_LEVEL', default: 'info', help: 'fatal, error, warn, info, debug, trace or silent' },
  'api-qps': { env: 'NPL_API_QPS', default: '50', help: 'API requests per second, as the kubelet (0 = unlimited)' },
  'api-burst': { env: 'NPL_API_BURST', default: '100', help: 'API request burst, as the kubelet' },
} as const satisfies Record<string, OptionSpec>;

type OptionName = keyof typeof OPTIONS;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function describe(name: OptionName): string {
  return `--${name} (${OPTIONS[name].env})`;
}

/** Parse `30s`, `5m`, `1h`, `250ms` or `0`. */
export function parseDuration(text: string, name: OptionName): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (text.trim() === '0') return 0;
  if (!m) throw new AgentConfigError(`${describe(name)} ${JSON.stringify(text)}: expected a duration such as 500ms, 30s, 5m or 1h`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

function parseCount(text: string, name: OptionName, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new AgentConfigError(`${describe(name)} ${JSON.stringify(text)}: expected a whole number from ${min} to ${max}`);
  }
  return Number(text);
}

const NFT_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,31}$/;
const CHAIN_NAME = /^[A-Za-z0-9_-]{1,28}$/;

function parseName(text: string, name: OptionName, re: RegExp, what: string): string {
  if (!re.test(text)) throw new AgentConfigError(`${describe(name)} ${JSON.stringify(text)}: expected ${what}`);
  return text;
}

export const HELP = `Usage: npl-agent [options]

NodePortLocal for any CNI: gives every pod port selected by a Service annotated
nodeportlocal.antrea.io/enabled: "true" a port on its node, installs the DNAT rule and
writes the pod annotation nodeportlocal.antrea.io, exactly as Antrea does.

Options (each also read from the environment variable shown; a flag wins):
${Object.entries(OPTIONS)
  .map(([name, o]) => {
    const def = 'default' in o ? ` [default ${o.default}]` : '';
    return `  --${name.padEnd(16)} ${o.env.padEnd(20)} ${o.help}${def}`;
  })
  .join('\n')}
  --help                                Show this help
`;

export type ParseResult = { readonly help: true } | { readonly help: false; readonly config: AgentConfig };

/** Parse flags then variables. Unknown flags and invalid values throw `AgentConfigError`. */
export function parseAgentConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParseResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.keys(OPTIONS).map((k) => [k, { type: 'string' as const }]));
    values = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean' } }, strict: true }).values;
  } catch (err) {
    throw new AgentConfigError(`${(err as Error).message}; see --help`);
  }
  if (values.help === true) return { help: true };
  const get = (name: OptionName): string | undefined => {
    const v = values[name];
    if (typeof v === 'string') return v;
    const e = env[OPTIONS[name].env];
    if (e !== undefined && e !== '') return e;
    const spec: OptionSpec = OPTIONS[name];
    return spec.default;
  };
  return { help: false, config: buildConfig(get) };
}

function positive(ms: number, name: OptionName): number {
  if (ms <= 0) throw new AgentConfigError(`${describe(name)} "0": expected a duration above 0 such as 30s`);
  return ms;
}

function checkListenAddress(text: string): string {
  try {
    parseListenAddress(text, describe('health-address'));
  } catch (err) {
    throw new AgentConfigError((err as Error).message);
  }
  return text;
}

function buildConfig(get: (name: OptionName) => string | undefined): AgentConfig {
  const nodeName = get('node-name');
  if (!nodeName) throw new AgentConfigError(`${describe('node-name')} is required: set it from the downward API (spec.nodeName)`);
  const dataplane = get('dataplane') as string;
  if (dataplane !== 'nftables' && dataplane !== 'iptables') {
    throw new AgentConfigError(`${describe('dataplane')} ${JSON.stringify(dataplane)}: expected nftables or iptables`);
  }
  const logLevel = get('log-level') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new AgentConfigError(`${describe('log-level')} ${JSON.stringify(logLevel)}: expected one of ${LOG_LEVELS.join(', ')}`);
  }
  const kubeconfig = get('kubeconfig');
  const nodeIP = get('node-ip');
  if (nodeIP !== undefined && !isIP(nodeIP)) throw new AgentConfigError(`${describe('node-ip')} ${JSON.stringify(nodeIP)}: expected an IPv4 or IPv6 address`);
  return {
    nodeName,
    portRange: parsePortRange(get('port-range') ?? '', { field: describe('port-range') }),
    dataplane,
    nftTable: parseName(get('nft-table') as string, 'nft-table', NFT_NAME, 'a letter then up to 31 letters, digits, _ or -'),
    iptablesChain: parseName(get('iptables-chain') as string, 'iptables-chain', CHAIN_NAME, 'up to 28 letters, digits, _ or -'),
    healthAddress: checkListenAddress(get('health-address') as string),
    ...(nodeIP ? { nodeIP } : {}),
    ...(kubeconfig ? { kubeconfig } : {}),
    workers: parseCount(get('workers') as string, 'workers', 1, 64),
    relistMs: parseDuration(get('relist-period') as string, 'relist-period'),
    verifyMs: parseDuration(get('verify-period') as string, 'verify-period'),
    unreadyAfterMs: positive(parseDuration(get('unready-after') as string, 'unready-after'), 'unready-after'),
    stallMs: positive(parseDuration(get('stall-limit') as string, 'stall-limit'), 'stall-limit'),
    logLevel,
    apiQps: parseCount(get('api-qps') as string, 'api-qps', 0, 10_000),
    apiBurst: parseCount(get('api-burst') as string, 'api-burst', 1, 10_000),
  };
}
