/**
 * Stateful in-memory stand-ins for nplctl's side effects, for unit tests of the commands: a
 * cluster (Pods and Services, queried as the API server answers: namespace, node field selector,
 * equality label selector), agents' /mappings bodies by URL, and TCP listeners by host:port.
 */
import type { V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { Deps } from '../commands.js';
import type { ClusterReader } from '../kube.js';

function matchesLabels(pod: V1Pod, selector: string | undefined): boolean {
  if (selector === undefined) return true;
  const labels = pod.metadata?.labels ?? {};
  return selector.split(',').every((term) => {
    const [k = '', v = ''] = term.split('=');
    return labels[k] === v;
  });
}

export class FakeCluster implements ClusterReader {
  readonly pods = new Map<string, V1Pod>();
  readonly services = new Map<string, V1Service>();
  /** Every list query, in call order, as text (to check the query was narrowed server-side). */
  readonly queries: string[] = [];

  addPod(pod: V1Pod): this {
    this.pods.set(`${pod.metadata?.namespace}/${pod.metadata?.name}`, pod);
    return this;
  }

  addService(svc: V1Service): this {
    this.services.set(`${svc.metadata?.namespace}/${svc.metadata?.name}`, svc);
    return this;
  }

  listPods(q: { namespace?: string; node?: string; labelSelector?: string }): Promise<V1Pod[]> {
    this.queries.push(`pods ns=${q.namespace ?? '*'} node=${q.node ?? '*'} labels=${q.labelSelector ?? '*'}`);
    return Promise.resolve(
      [...this.pods.values()].filter(
        (p) => (q.namespace === undefined || p.metadata?.namespace === q.namespace) && (q.node === undefined || p.spec?.nodeName === q.node) && matchesLabels(p, q.labelSelector),
      ),
    );
  }

  readPod(namespace: string, name: string): Promise<V1Pod | undefined> {
    return Promise.resolve(this.pods.get(`${namespace}/${name}`));
  }

  readService(namespace: string, name: string): Promise<V1Service | undefined> {
    return Promise.resolve(this.services.get(`${namespace}/${name}`));
  }

  listServices(namespace: string): Promise<V1Service[]> {
    return Promise.resolve([...this.services.values()].filter((s) => s.metadata?.namespace === namespace));
  }
}

/** Deps over a FakeCluster, agent answers by URL (absent URL: ECONNREFUSED) and open TCP ports. */
export function fakeDeps(cluster: FakeCluster, agents: Map<string, unknown> = new Map(), listening: Set<string> = new Set()): Deps & { readonly fetched: string[] } {
  const fetched: string[] = [];
  return {
    reader: cluster,
    fetched,
    fetchJson: (url) => {
      fetched.push(url);
      return agents.has(url) ? Promise.resolve(agents.get(url)) : Promise.reject(new Error('ECONNREFUSED'));
    },
    connect: (host, port) => (listening.has(`${host}:${port}`) ? Promise.resolve() : Promise.reject(new Error('ECONNREFUSED'))),
  };
}

export const ANNOTATION = 'nodeportlocal.antrea.io';

/** A running Pod on `node` (hostIP `hostIP`), labels app=<app>, container port 80 named http. */
export function pod(o: { ns?: string; name: string; node?: string; hostIP?: string; app?: string; annotation?: string; uid?: string }): V1Pod {
  return {
    metadata: {
      namespace: o.ns ?? 'default',
      name: o.name,
      uid: o.uid ?? `uid-${o.name}`,
      labels: { app: o.app ?? 'web' },
      ...(o.annotation === undefined ? {} : { annotations: { [ANNOTATION]: o.annotation } }),
    },
    spec: { ...(o.node === undefined ? {} : { nodeName: o.node }), containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 80 }] }] },
    status: { phase: 'Running', ...(o.hostIP === undefined ? {} : { hostIP: o.hostIP }) },
  };
}

/** An NPL-enabled ClusterIP Service selecting app=<app>, port 80 -> targetPort (default 80). */
export function service(o: { ns?: string; name: string; app?: string; enabled?: boolean; type?: string; ports?: V1ServicePort[] }): V1Service {
  return {
    metadata: { namespace: o.ns ?? 'default', name: o.name, ...(o.enabled === false ? {} : { annotations: { [`${ANNOTATION}/enabled`]: 'true' } }) },
    spec: { type: o.type ?? 'ClusterIP', selector: { app: o.app ?? 'web' }, ports: o.ports ?? [{ port: 80, targetPort: 80 }] },
  };
}

/** An annotation value with one entry per [podPort, protocol, nodeIP, nodePort]. */
export function annotation(...entries: [number, 'tcp' | 'udp', string, number][]): string {
  return JSON.stringify(entries.map(([podPort, protocol, nodeIP, nodePort]) => ({ podPort, nodeIP, nodePort, protocol, ipFamily: nodeIP.includes(':') ? 'IPv6' : 'IPv4' })));
}
