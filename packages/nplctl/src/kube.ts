/**
 * nplctl's side effects: the kubeconfig (found as kubectl finds it), reads of Pods and Services,
 * npl-agent's /mappings over HTTP, and TCP connections. Each behind a small interface so the
 * commands (commands.ts) can be tested with stateful fakes.
 */
import { existsSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { UsageError } from './args.js';

/** The reads nplctl makes. Each throws the API error (ApiException with `.code`) except where noted. */
export interface ClusterReader {
  /** Pods of `namespace` (all namespaces when undefined), narrowed by node and label selector. */
  listPods(q: { namespace?: string; node?: string; labelSelector?: string }): Promise<V1Pod[]>;
  /** The Pod, or undefined when it does not exist (404). */
  readPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  /** The Service, or undefined when it does not exist (404). */
  readService(namespace: string, name: string): Promise<V1Service | undefined>;
  listServices(namespace: string): Promise<V1Service[]>;
}

/**
 * The kubeconfig as kubectl finds it: `--kubeconfig`, else `KUBECONFIG` (a path list), else
 * `~/.kube/config`, else the Pod's ServiceAccount when in a cluster. `context` switches context.
 * Throws UsageError naming what is missing or unreadable.
 */
export function loadKubeConfig(opts: { kubeconfig?: string; context?: string }, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig !== undefined) {
      if (!existsSync(opts.kubeconfig)) throw new UsageError(`--kubeconfig ${JSON.stringify(opts.kubeconfig)} does not exist`);
      kc.loadFromFile(opts.kubeconfig);
    } else if (env['KUBECONFIG'] || existsSync(path.join(homedir(), '.kube', 'config'))) {
      kc.loadFromDefault();
    } else if (env['KUBERNETES_SERVICE_HOST']) {
      kc.loadFromCluster();
    } else {
      throw new UsageError('no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config, or run in a Pod');
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot load the kubeconfig: ${(err as Error).message}`);
  }
  if (opts.context !== undefined) {
    if (!kc.getContexts().some((c) => c.name === opts.context)) throw new UsageError(`--context ${JSON.stringify(opts.context)}: no such context in the kubeconfig`);
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) throw new UsageError('the kubeconfig has no current cluster: pass --context or set current-context');
  return kc;
}

const notFound = (err: unknown): boolean => (err as { code?: number }).code === 404;

/** ClusterReader over the API server of `kc`. */
export class ApiClusterReader implements ClusterReader {
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async listPods(q: { namespace?: string; node?: string; labelSelector?: string }): Promise<V1Pod[]> {
    const opts = {
      ...(q.node !== undefined ? { fieldSelector: `spec.nodeName=${q.node}` } : {}),
      ...(q.labelSelector !== undefined ? { labelSelector: q.labelSelector } : {}),
    };
    const list = q.namespace !== undefined ? await this.core.listNamespacedPod({ namespace: q.namespace, ...opts }) : await this.core.listPodForAllNamespaces(opts);
    return list.items;
  }

  async readPod(namespace: string, name: string): Promise<V1Pod | undefined> {
    try {
      return await this.core.readNamespacedPod({ namespace, name });
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  async readService(namespace: string, name: string): Promise<V1Service | undefined> {
    try {
      return await this.core.readNamespacedService({ namespace, name });
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err;
    }
  }

  async listServices(namespace: string): Promise<V1Service[]> {
    return (await this.core.listNamespacedService({ namespace })).items;
  }
}

/** GET `url` and its JSON body; throws an Error with the status or the network error. */
export async function fetchJson(url: string, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(cause?.code ?? cause?.message ?? (err as Error).message);
  }
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${(await res.text()).trim().slice(0, 200)}`);
  return res.json();
}

/** How long a connection must stay open for `tcpConnect` to count it as reaching a server. */
export const CONNECT_GRACE_MS = 300;

/**
 * Opens a TCP connection to host:port and closes it. Resolves when connected and the peer kept the
 * connection open for CONNECT_GRACE_MS (or sent data). Rejects with the error code, on timeout, or
 * when the peer closed the connection at once without a byte: that is what npl-agent's placeholder
 * socket on the node port does (it holds the port and drops connections), which answers only when
 * the DNAT rule did not send the connection to the Pod.
 */
export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port, timeout: timeoutMs });
    let timer: NodeJS.Timeout | undefined;
    let connected = false;
    const done = (err?: Error): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const closedAtOnce = (): void => done(new Error("the node closed the connection at once without a byte: npl-agent's placeholder socket answered, not the Pod (is the DNAT rule in place?)"));
    socket.once('connect', () => {
      connected = true;
      socket.setTimeout(0);
      timer = setTimeout(() => done(), Math.min(CONNECT_GRACE_MS, timeoutMs));
      socket.once('data', () => done());
      socket.once('end', closedAtOnce);
      socket.once('close', closedAtOnce);
    });
    socket.once('timeout', () => done(new Error(`timed out after ${timeoutMs} ms`)));
    socket.once('error', (err: NodeJS.ErrnoException) => (connected ? closedAtOnce() : done(new Error(err.code ?? err.message))));
  });
}
