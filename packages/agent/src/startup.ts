/**
 * Start-up checks of npl-agent's inputs, each failure one clear line (what, which flag, what to do):
 * the kubeconfig is loaded and the agent's Node read before anything else. Only what waiting can
 * fix is retried, with backoff and a log line saying so (API server unreachable or answering 5xx,
 * the Node not registered yet); a missing or unreadable kubeconfig, rejected credentials (401/403)
 * or a certificate the agent cannot verify stop the agent with exit code 2, as invalid flags do.
 */
import { readFileSync } from 'node:fs';
import type { V1Node } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node';
import type { Clock, Logger } from '@npl/runtime';
import { backoffDelay } from '@npl/runtime';

/** A start-up input that waiting cannot fix; the CLI prints `npl-agent: <message>` and exits 2. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

const KUBECONFIG_FLAG = '--kubeconfig (KUBECONFIG)';
const NODE_FLAG = '--node-name (NODE_NAME)';

/** Where the credentials come from, for messages: the kubeconfig path or the in-cluster ServiceAccount. */
export function credentialsSource(kubeconfig: string | undefined): string {
  return kubeconfig ? `${KUBECONFIG_FLAG} ${JSON.stringify(kubeconfig)}` : 'the in-cluster ServiceAccount (no --kubeconfig (KUBECONFIG))';
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
}

function fsReason(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  if (code === 'EISDIR') return 'is a directory';
  return undefined;
}

/**
 * Loads the kubeconfig (`path`), or in-cluster credentials when `path` is undefined. Throws
 * StartupError for a missing, unreadable or invalid file, a kubeconfig without a current cluster,
 * and in-cluster use outside a Pod (KUBERNETES_SERVICE_HOST unset).
 */
export function loadKubeConfig(path: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (!path) {
    if (!env.KUBERNETES_SERVICE_HOST) {
      throw new StartupError(`no ${KUBECONFIG_FLAG} given and not running in a Pod (KUBERNETES_SERVICE_HOST is unset): pass --kubeconfig with the path of a kubeconfig`);
    }
    kc.loadFromCluster();
    return kc;
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = fsReason(err) ?? `cannot be read (${firstLine(err)})`;
    throw new StartupError(`${KUBECONFIG_FLAG} ${JSON.stringify(path)} ${reason}: give the path of a readable kubeconfig file, or leave it unset in a Pod to use its ServiceAccount`);
  }
  try {
    kc.loadFromString(text);
  } catch (err) {
    throw new StartupError(`${KUBECONFIG_FLAG} ${JSON.stringify(path)} is not a valid kubeconfig (${firstLine(err)}): fix the file or give another one`);
  }
  if (!kc.getCurrentCluster()?.server) {
    throw new StartupError(`${KUBECONFIG_FLAG} ${JSON.stringify(path)} has no current context with a cluster server: set current-context to one that names a cluster`);
  }
  return kc;
}

export type ReadFailure = { readonly retry: true; readonly what: string } | { readonly retry: false; readonly what: string };

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

function codeOf(err: unknown): string | undefined {
  const own = (err as { code?: unknown } | undefined)?.code;
  if (typeof own === 'string') return own;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return cause && cause !== err ? codeOf(cause) : undefined;
}

function causeMessage(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  const own = err instanceof Error ? err.message : String(err);
  return cause instanceof Error && cause.message ? `${own}: ${cause.message}` : own;
}

/**
 * Whether waiting can fix a failed read of the Node (pure). HTTP 401/403 and TLS verification
 * failures cannot; network errors, 429 and 5xx can; any other HTTP status cannot.
 */
export function classifyReadError(err: unknown, source: string, server: string): ReadFailure {
  const status = (err as { code?: unknown }).code;
  if (typeof status === 'number') {
    if (status === 401) return { retry: false, what: `the API server ${server} rejected the credentials of ${source} (HTTP 401 Unauthorized): renew the token or certificate of that kubeconfig user, or of the ServiceAccount` };
    if (status === 403) return { retry: false, what: `the API server ${server} forbids ${source} to read Nodes (HTTP 403 Forbidden): grant nodes get/list/watch (see manifests/rbac.yaml)` };
    if (status === 429 || status >= 500) return { retry: true, what: `the API server ${server} answered HTTP ${status}` };
    return { retry: false, what: `the API server ${server} answered HTTP ${status} to a Node read: check the server URL of ${source}` };
  }
  const code = codeOf(err);
  if (code && !NETWORK_CODES.has(code) && /CERT|SELF_SIGNED|TLS|SSL|UNABLE_TO_(GET|VERIFY)/.test(code)) {
    return { retry: false, what: `the API server ${server} presented a certificate that ${source} cannot verify (${code}): fix the cluster's certificate-authority in that kubeconfig` };
  }
  return { retry: true, what: `the API server ${server} is unreachable (${code ?? causeMessage(err)})` };
}

export interface WaitForNodeOptions {
  readonly nodeName: string;
  /** Reads this agent's Node; undefined when it does not exist. */
  readonly read: () => Promise<V1Node | undefined>;
  /** `credentialsSource(...)`, for messages. */
  readonly source: string;
  readonly server: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Also wait until the Node has an InternalIP (the health server listens on it). */
  readonly needAddress?: boolean;
}

/** Retry delays: 1 s doubling to 30 s, ±10 %. */
const RETRY = { initialMs: 1_000, factor: 2, maxMs: 30_000, jitter: 0.1 };

/**
 * Reads the Node until it exists (and, with `needAddress`, has an address), retrying with backoff
 * what waiting can fix and logging each retry once per distinct reason (then at debug). Throws
 * StartupError for what it cannot fix, or the signal's reason when aborted.
 */
export async function waitForNode(o: WaitForNodeOptions): Promise<V1Node> {
  let lastWhat = '';
  for (let attempt = 0; ; attempt++) {
    let what: string;
    let node: V1Node | undefined;
    try {
      node = await o.read();
      what = node
        ? `Node ${o.nodeName} has no InternalIP yet (the health server listens on it)`
        : `Node ${JSON.stringify(o.nodeName)} of ${NODE_FLAG} does not exist (yet): waiting for the kubelet to register it; if it never appears, check ${NODE_FLAG} against kubectl get nodes`;
      if (node && (!o.needAddress || nodeListenHost(node))) return node;
    } catch (err) {
      const verdict = classifyReadError(err, o.source, o.server);
      if (!verdict.retry) throw new StartupError(verdict.what);
      what = `${verdict.what}: retrying`;
    }
    const delay = Math.round(backoffDelay(RETRY, attempt));
    const level = what === lastWhat ? 'debug' : 'warn';
    o.logger[level]({ node: o.nodeName, retryInMs: delay, attempt: attempt + 1 }, `Waiting at start-up, will retry with backoff: ${what}`);
    lastWhat = what;
    await o.clock.sleep(delay, o.signal);
  }
}

/** The address the health server listens on by default: the Node's first InternalIP, IPv4 first. */
export function nodeListenHost(node: V1Node): string | undefined {
  const internal = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
  return internal.find((a) => !a.includes(':')) ?? internal[0];
}

/** `NODE_IP:port` resolves to `ip:port` (`[ip]:port` for IPv6); other addresses are returned as they are. */
export const NODE_IP_HOST = 'NODE_IP';

export function resolveListenAddress(address: string, nodeIP: string | undefined): string {
  if (!address.startsWith(`${NODE_IP_HOST}:`)) return address;
  if (!nodeIP) throw new StartupError(`--health-address (NPL_HEALTH_ADDRESS) ${JSON.stringify(address)}: the node's address is unknown; give an explicit address such as 127.0.0.1:10361`);
  const port = address.slice(NODE_IP_HOST.length + 1);
  return nodeIP.includes(':') ? `[${nodeIP}]:${port}` : `${nodeIP}:${port}`;
}
