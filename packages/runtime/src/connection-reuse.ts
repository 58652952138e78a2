/**
 * Keep-alive for every API call of one KubeConfig (agent: issue 11; the controller too). @kubernetes/client-node 2.0.1 builds a
 * new undici Agent for each request (KubeConfig.applySecurityAuthentication -> createDispatcher), so
 * each annotation PATCH and Event POST opened a new TLS connection with a new SecureContext, and the
 * connections linger until garbage-collected. In the 500-pod roll-out that was the largest share of
 * the agent's CPU (TLS set-up, certificate checks, socket writes; see docs/benchmarks).
 *
 * This shares one dispatcher per distinct connection configuration (server, CA, client certificate
 * and key, verification flags), the way client-go shares one transport. Credentials sent as headers
 * (bearer tokens, re-read from the ServiceAccount file by client-node) are unaffected. When the
 * configuration changes (a rotated client certificate), the previous dispatcher is closed once its
 * requests finish.
 *
 * It wraps a method client-node keeps private in its type declarations; when that method is absent
 * (a client-node that changed it), nothing is wrapped and requests behave as before.
 */
import type { KubeConfig } from '@kubernetes/client-node';

interface ClosableDispatcher {
  close(): Promise<void>;
}

type CreateDispatcher = (cluster: unknown, agentOptions: Record<string, unknown>) => ClosableDispatcher | undefined;

const KEY_FIELDS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

function text(v: unknown): string {
  if (v === undefined) return '';
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  if (Array.isArray(v)) return v.map(text).join('\u0000');
  if (typeof v === 'string') return v;
  return JSON.stringify(v) ?? '';
}

/** The identity of a connection configuration: what a TLS connection depends on. */
export function connectionKey(cluster: unknown, agentOptions: Readonly<Record<string, unknown>>): string {
  const c = (cluster ?? {}) as { server?: unknown; proxyUrl?: unknown; skipTLSVerify?: unknown; tlsServerName?: unknown };
  return [c.server, c.proxyUrl, c.skipTLSVerify, c.tlsServerName, ...KEY_FIELDS.map((f) => agentOptions[f])].map(text).join('\u0001');
}

/**
 * Make `kc` reuse one dispatcher (and its keep-alive connections) per connection configuration.
 * Returns true when wrapped. Idempotent.
 */
export function reuseConnections(kc: KubeConfig): boolean {
  const target = kc as unknown as { createDispatcher?: CreateDispatcher; nplReusesConnections?: boolean };
  if (target.nplReusesConnections) return true;
  const original = target.createDispatcher;
  if (typeof original !== 'function') return false;
  let current: { key: string; dispatcher: ClosableDispatcher | undefined } | undefined;
  target.createDispatcher = function (cluster, agentOptions) {
    const key = connectionKey(cluster, agentOptions);
    if (current?.key === key) return current.dispatcher;
    const previous = current?.dispatcher;
    current = { key, dispatcher: original.call(this, cluster, agentOptions) };
    // Graceful: waits for the requests (watches included) still running on it.
    previous?.close().catch(() => undefined);
    return current.dispatcher;
  };
  target.nplReusesConnections = true;
  return true;
}
