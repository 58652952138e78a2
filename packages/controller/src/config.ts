/**
 * npl-controller configuration from flags and environment variables (a flag wins over its
 * variable). Parsing is pure; an invalid value is a ControllerError CTL_CONFIG_INVALID naming the
 * flag, the variable and the value. Secrets are never flags: the password comes from a file (a
 * mounted Secret) or the environment.
 */
import { parseArgs } from 'node:util';
import { parseListenAddress } from '@npl/runtime';
import type { BackendKind } from './backend/types.js';
import type { AuthMode } from './bigip/client.js';
import { ControllerError } from './errors.js';
import { objectNameProblem } from './names.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Where the BIG-IP credentials are read from, at every login. */
export type CredentialsSource =
  | { readonly kind: 'directory'; readonly dir: string }
  | { readonly kind: 'username'; readonly username: string; readonly passwordFile?: string; readonly passwordEnv?: string };

export interface ControllerConfig {
  readonly bigipUrl: string;
  readonly partition: string;
  readonly backend: BackendKind;
  readonly credentials: CredentialsSource;
  readonly caFile?: string;
  readonly insecure: boolean;
  readonly auth: AuthMode;
  /** Watched namespaces; undefined: all. */
  readonly namespaces?: readonly string[];
  /** Label selector of watched namespaces (`k=v,k2!=v2,k3`). */
  readonly namespaceLabelSelector?: string;
  readonly resyncMs: number;
  readonly relistMs: number;
  readonly healthAddress: string;
  readonly kubeconfig?: string;
  readonly logLevel: LogLevel;
  readonly leaderElection: LeaderElectionConfig;
}

/** Leader election on a Lease (client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry). */
export interface LeaderElectionConfig {
  /** false: this process is the only writer (no Lease, starts syncing at once). */
  readonly enabled: boolean;
  /** Namespace of the Lease; undefined: the pod's own (POD_NAMESPACE, then the ServiceAccount's), else kube-system. */
  readonly namespace?: string;
  /** Name of the Lease. */
  readonly id: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

interface OptionSpec {
  readonly env: string;
  readonly help: string;
  readonly default?: string;
}

/** Every option, its variable, default and help, in `--help` order. */
export const OPTIONS = {
  'bigip-url': { env: 'BIGIP_URL', help: 'BIG-IP management URL, https://host[:port] (required)' },
  'bigip-partition': { env: 'BIGIP_PARTITION', default: 'k8s', help: 'Partition (AS3 tenant) holding the pools; must exist' },
  backend: { env: 'NPL_CONTROLLER_BACKEND', default: 'icontrol', help: 'icontrol (LTM objects through iControl REST) or as3 (one declaration per tenant)' },
  'bigip-credentials-dir': { env: 'BIGIP_CREDENTIALS_DIR', help: 'Directory with files username and password (a mounted Secret)' },
  'bigip-username': { env: 'BIGIP_USERNAME', help: 'BIG-IP user when no credentials directory is given' },
  'bigip-password-file': { env: 'BIGIP_PASSWORD_FILE', help: 'File holding the password (else the variable BIGIP_PASSWORD)' },
  'bigip-ca-file': { env: 'BIGIP_CA_FILE', help: 'PEM bundle to trust for the BIG-IP certificate (default: system CAs)' },
  'bigip-insecure': { env: 'BIGIP_INSECURE', default: 'false', help: 'true skips TLS verification (labs only; logs a warning)' },
  'bigip-auth': { env: 'BIGIP_AUTH', default: 'token', help: 'token (login, refresh, Basic fallback) or basic' },
  namespace: { env: 'NPL_NAMESPACES', help: 'Watched namespace (repeatable or comma-separated); all when unset' },
  'namespace-label-selector': { env: 'NPL_NAMESPACE_LABEL_SELECTOR', help: 'Watch only namespaces with these labels (k=v,k!=v,k)' },
  'resync-period': { env: 'NPL_RESYNC_PERIOD', default: '30s', help: 'Full BIG-IP resync period (repairs edits by hand); 0 disables' },
  'relist-period': { env: 'NPL_RELIST_PERIOD', default: '5m', help: 'Informer relist period (safety net for stalled watches)' },
  'health-address': { env: 'NPL_HEALTH_ADDRESS', default: ':10362', help: 'Listen address of /healthz, /readyz and /metrics' },
  kubeconfig: { env: 'KUBECONFIG', help: 'kubeconfig file; in-cluster ServiceAccount credentials when unset' },
  'log-level': { env: 'NPL_LOG_LEVEL', default: 'info', help: 'fatal, error, warn, info, debug, trace or silent' },
  'leader-elect': { env: 'NPL_LEADER_ELECT', default: 'true', help: 'true: only the holder of the Lease writes to BIG-IP (run 2+ replicas for HA); false: one replica only' },
  'leader-election-namespace': { env: 'NPL_LEADER_ELECTION_NAMESPACE', help: "Namespace of the Lease (default: the pod's, from POD_NAMESPACE or the ServiceAccount, else kube-system)" },
  'leader-election-id': { env: 'NPL_LEADER_ELECTION_ID', default: 'npl-controller', help: 'Name of the Lease (one per BIG-IP partition managed)' },
  'leader-election-lease-duration': { env: 'NPL_LEADER_ELECTION_LEASE_DURATION', default: '15s', help: 'How long a standby waits after the last renewal seen before taking over (whole seconds)' },
  'leader-election-renew-deadline': { env: 'NPL_LEADER_ELECTION_RENEW_DEADLINE', default: '10s', help: 'How long the leader keeps trying to renew before it gives up (and exits)' },
  'leader-election-retry-period': { env: 'NPL_LEADER_ELECTION_RETRY_PERIOD', default: '2s', help: 'Time between two attempts to acquire or renew the Lease' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function describe(name: OptionName): string {
  return `--${name} (${OPTIONS[name].env})`;
}

function invalid(name: OptionName, value: string, expected: string): ControllerError {
  return new ControllerError('CTL_CONFIG_INVALID', `${describe(name)} ${JSON.stringify(value)}: expected ${expected}`);
}

/** `30s`, `5m`, `1h`, `250ms` or `0`, in ms. */
export function parseDuration(text: string, name: OptionName): number {
  if (text.trim() === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw invalid(name, text, 'a duration such as 500ms, 30s, 5m or 1h');
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

export const HELP = `Usage: npl-controller [options]
       npl-controller render -f FILE... [--backend icontrol|as3] [--bigip-partition P]

Keeps one BIG-IP pool per port of every Service annotated nodeportlocal.antrea.io/enabled: "true",
with the NodePortLocal node IP and port of each selected pod as members.

Options (each also read from the environment variable shown; a flag wins):
${Object.entries(OPTIONS)
  .map(([name, o]) => {
    const def = 'default' in o ? ` [default ${o.default}]` : '';
    return `  --${name.padEnd(25)} ${o.env.padEnd(29)} ${o.help}${def}`;
  })
  .join('\n')}
  --help                                                  Show this help
The password is never a flag: BIGIP_PASSWORD, --bigip-password-file or --bigip-credentials-dir.
`;

export type ParseResult = { readonly help: true } | { readonly help: false; readonly config: ControllerConfig };

type Values = Record<string, string | boolean | string[] | undefined>;

function readValues(argv: readonly string[]): Values {
  try {
    const options = Object.fromEntries(Object.keys(OPTIONS).map((k) => [k, { type: 'string' as const, ...(k === 'namespace' ? { multiple: true } : {}) }]));
    return parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean' } }, strict: true }).values;
  } catch (err) {
    throw new ControllerError('CTL_CONFIG_INVALID', `${(err as Error).message}; see --help`);
  }
}

/** Parse flags then variables. Unknown flags and invalid values throw CTL_CONFIG_INVALID. */
export function parseControllerConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParseResult {
  const values = readValues(argv);
  if (values.help === true) return { help: true };
  const get = (name: OptionName): string | undefined => {
    const v = values[name];
    if (typeof v === 'string') return v;
    if (Array.isArray(v)) return v.join(',');
    const e = env[OPTIONS[name].env];
    if (e !== undefined && e !== '') return e;
    const spec: OptionSpec = OPTIONS[name];
    return spec.default;
  };
  return { help: false, config: buildConfig(get, env) };
}

function oneOf<T extends string>(name: OptionName, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw invalid(name, value, allowed.join(' or '));
  return value as T;
}

function parseUrl(text: string | undefined): string {
  if (!text) throw new ControllerError('CTL_CONFIG_INVALID', `${describe('bigip-url')} is required: the BIG-IP management address, e.g. https://192.0.2.1`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('bigip-url', text, 'a URL such as https://192.0.2.1 or https://bigip.example.com:8443');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || (url.pathname !== '/' && url.pathname !== '')) {
    throw invalid('bigip-url', text, 'https://host[:port] with no path');
  }
  return url.origin;
}

function credentialsOf(get: (name: OptionName) => string | undefined, env: Readonly<Record<string, string | undefined>>): CredentialsSource {
  const dir = get('bigip-credentials-dir');
  if (dir) return { kind: 'directory', dir };
  const username = get('bigip-username');
  const passwordFile = get('bigip-password-file');
  const hasEnvPassword = (env.BIGIP_PASSWORD ?? '') !== '';
  if (!username || (!passwordFile && !hasEnvPassword)) {
    throw new ControllerError('CTL_CONFIG_INVALID', `BIG-IP credentials are required: ${describe('bigip-credentials-dir')}, or ${describe('bigip-username')} with ${describe('bigip-password-file')} or BIGIP_PASSWORD`);
  }
  return { kind: 'username', username, ...(passwordFile ? { passwordFile } : { passwordEnv: 'BIGIP_PASSWORD' }) };
}

function namespacesOf(text: string | undefined): string[] | undefined {
  if (!text) return undefined;
  const list = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const ns of list) if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns)) throw invalid('namespace', ns, 'a namespace name (RFC 1123 label)');
  return list.length > 0 ? list : undefined;
}

function partitionOf(text: string): string {
  const problem = objectNameProblem(text);
  if (problem) throw invalid('bigip-partition', text, `a BIG-IP partition name (${problem})`);
  return text;
}

/** client-go's own checks (leaderelection.NewLeaderElector), reported against our flags. */
export function leaderElectionOf(get: (name: OptionName) => string | undefined): LeaderElectionConfig {
  const enabled = oneOf('leader-elect', get('leader-elect') as string, ['true', 'false'] as const) === 'true';
  const namespace = get('leader-election-namespace');
  const id = get('leader-election-id') as string;
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(id)) throw invalid('leader-election-id', id, 'a Lease name (RFC 1123 subdomain)');
  if (namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) throw invalid('leader-election-namespace', namespace, 'a namespace name (RFC 1123 label)');
  const leaseText = get('leader-election-lease-duration') as string;
  const renewText = get('leader-election-renew-deadline') as string;
  const retryText = get('leader-election-retry-period') as string;
  const leaseDurationMs = parseDuration(leaseText, 'leader-election-lease-duration');
  const renewDeadlineMs = parseDuration(renewText, 'leader-election-renew-deadline');
  const retryPeriodMs = parseDuration(retryText, 'leader-election-retry-period');
  if (leaseDurationMs < 1_000 || leaseDurationMs % 1_000 !== 0) throw invalid('leader-election-lease-duration', leaseText, 'a whole number of seconds >= 1s (the Lease stores seconds)');
  if (retryPeriodMs <= 0) throw invalid('leader-election-retry-period', retryText, 'a duration > 0');
  if (renewDeadlineMs >= leaseDurationMs) throw invalid('leader-election-renew-deadline', renewText, `less than ${describe('leader-election-lease-duration')} ${leaseText}`);
  if (renewDeadlineMs <= 1.2 * retryPeriodMs) throw invalid('leader-election-renew-deadline', renewText, `more than 1.2 x ${describe('leader-election-retry-period')} ${retryText}`);
  return { enabled, ...(namespace ? { namespace } : {}), id, leaseDurationMs, renewDeadlineMs, retryPeriodMs };
}

function buildConfig(get: (name: OptionName) => string | undefined, env: Readonly<Record<string, string | undefined>>): ControllerConfig {
  const healthAddress = get('health-address') as string;
  try {
    parseListenAddress(healthAddress, describe('health-address'));
  } catch (err) {
    throw new ControllerError('CTL_CONFIG_INVALID', (err as Error).message);
  }
  const namespaces = namespacesOf(get('namespace'));
  const selector = get('namespace-label-selector');
  const caFile = get('bigip-ca-file');
  const kubeconfig = get('kubeconfig');
  return {
    bigipUrl: parseUrl(get('bigip-url')),
    partition: partitionOf(get('bigip-partition') as string),
    backend: oneOf('backend', get('backend') as string, ['icontrol', 'as3'] as const),
    credentials: credentialsOf(get, env),
    insecure: oneOf('bigip-insecure', get('bigip-insecure') as string, ['true', 'false'] as const) === 'true',
    auth: oneOf('bigip-auth', get('bigip-auth') as string, ['token', 'basic'] as const),
    ...(caFile ? { caFile } : {}),
    ...(namespaces ? { namespaces } : {}),
    ...(selector ? { namespaceLabelSelector: selector } : {}),
    resyncMs: parseDuration(get('resync-period') as string, 'resync-period'),
    relistMs: parseDuration(get('relist-period') as string, 'relist-period'),
    healthAddress,
    ...(kubeconfig ? { kubeconfig } : {}),
    logLevel: oneOf('log-level', get('log-level') as string, LOG_LEVELS),
    leaderElection: leaderElectionOf(get),
  };
}
