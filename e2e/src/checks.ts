/**
 * The checks Antrea's NodePortLocal e2e makes, in its order — annotation, dataplane rule, reserved
 * socket, real traffic — written once against `Driver`, so the same scenario runs on every driver.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import type { V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { CompleteNplEntry, DnatMapping } from '@npl/core';
import { isCompleteNplEntry, NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY, parseNftRuleset, parseNplAnnotation } from '@npl/core';
import { eventually } from '@npl/runtime';
import type { Driver, NodeInfo, Origin, Protocol, ServerPort } from './driver.js';

/** Deadline of one wait for the cluster to converge (annotation, rule, pod Running). */
export const CONVERGE_MS = 90_000;

export interface PortRef {
  readonly nodePort: number;
  readonly protocol: Protocol;
}

/** The objects of one scenario, in one namespace; `cleanup` deletes what it created. */
export class ScenarioObjects {
  private pods: string[] = [];
  private services: string[] = [];

  constructor(
    readonly driver: Driver,
    readonly namespace: string,
  ) {}

  core(): CoreV1Api {
    return this.driver.kubeConfig().makeApiClient(CoreV1Api);
  }

  /** Creates a test server Pod on `node` answering on `ports` with its name; resolves once it runs. */
  async pod(name: string, node: NodeInfo, labels: Record<string, string>, ports: readonly ServerPort[] = [{ containerPort: 80 }]): Promise<V1Pod> {
    const { container, volumes } = this.driver.serverPod(ports);
    await this.core().createNamespacedPod({
      namespace: this.namespace,
      body: { metadata: { name, labels }, spec: { nodeName: node.name, terminationGracePeriodSeconds: 1, containers: [container], volumes } },
    });
    this.pods.push(name);
    return this.waitRunning(name);
  }

  /** Creates an NPL-enabled Service (`nodeportlocal.antrea.io/enabled: "true"`). */
  async service(name: string, selector: Record<string, string>, ports: readonly V1ServicePort[], extra: Partial<V1Service['spec']> = {}): Promise<void> {
    await this.core().createNamespacedService({
      namespace: this.namespace,
      body: { metadata: { name, annotations: { [NPL_ENABLED_ANNOTATION_KEY]: 'true' } }, spec: { selector, ports: [...ports], ...extra } },
    });
    this.services.push(name);
  }

  async readPod(name: string): Promise<V1Pod | undefined> {
    try {
      return await this.core().readNamespacedPod({ name, namespace: this.namespace });
    } catch {
      return undefined;
    }
  }

  async deletePod(name: string): Promise<void> {
    await this.core().deleteNamespacedPod({ name, namespace: this.namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
    await eventually(async () => (await this.readPod(name)) === undefined, CONVERGE_MS, `pod ${this.namespace}/${name} deleted`);
    this.pods = this.pods.filter((p) => p !== name);
  }

  async deleteService(name: string): Promise<void> {
    await this.core().deleteNamespacedService({ name, namespace: this.namespace }).catch(() => undefined);
    this.services = this.services.filter((s) => s !== name);
  }

  async cleanup(): Promise<void> {
    for (const s of [...this.services]) await this.deleteService(s);
    for (const p of [...this.pods]) await this.deletePod(p);
  }

  waitRunning(name: string): Promise<V1Pod> {
    return eventually(
      async () => {
        const p = await this.readPod(name);
        const ready = p?.status?.containerStatuses?.every((c) => c.ready) ?? false;
        return p?.status?.phase === 'Running' && p.status.podIP && ready ? p : undefined;
      },
      CONVERGE_MS,
      `pod ${this.namespace}/${name} running and ready`,
    );
  }

  /** Parsed, complete entries of the Pod's NPL annotation; [] without one. */
  async annotation(pod: string): Promise<CompleteNplEntry[]> {
    const text = (await this.readPod(pod))?.metadata?.annotations?.[NPL_ANNOTATION_KEY];
    return text === undefined ? [] : parseNplAnnotation(text).filter(isCompleteNplEntry);
  }

  /** Waits until the Pod's annotation has `count` entries satisfying `check`; returns them. */
  waitAnnotation(pod: string, count: number, check: (e: CompleteNplEntry[]) => boolean = () => true): Promise<CompleteNplEntry[]> {
    return eventually(
      async () => {
        const a = await this.annotation(pod);
        return a.length === count && check(a) ? a : undefined;
      },
      CONVERGE_MS,
      `annotation of ${this.namespace}/${pod} with ${count} entries`,
    );
  }
}

/** What the node's nftables table maps (`nft -j list table ip <table>`); [] without the table. */
export async function nftMappings(driver: Driver, node: NodeInfo): Promise<DnatMapping[]> {
  const table = driver.layout.nftTable;
  try {
    return parseNftRuleset(await driver.execOnNode(node, ['nft', '-j', 'list', 'table', 'ip', table]), { table });
  } catch (err) {
    if (/No such file or directory/.test((err as Error).message)) return [];
    throw err;
  }
}

/** True when a socket on the node holds the port (TCP listening or UDP bound), as Antrea checks with ss. */
export async function socketHeld(driver: Driver, node: NodeInfo, port: number, protocol: Protocol): Promise<boolean> {
  const out = await driver.execOnNode(node, ['ss', '-Hn', protocol === 'tcp' ? '-lt' : '-lu', 'sport', `= :${port}`]);
  return out.trim().length > 0;
}

/** The node whose name is `name`. */
export function nodeNamed(driver: Driver, name: string | undefined): NodeInfo {
  const n = driver.allNodes().find((x) => x.name === name);
  if (!n) throw new Error(`no node ${name} in ${driver.allNodes().map((x) => x.name).join(', ')}`);
  return n;
}

/**
 * Antrea's e2e check of one mapping: the node's dataplane maps it to the Pod, the port is held by a
 * socket, the annotation carries the node's IP, and traffic of the entry's protocol from outside
 * the cluster and from `also` (e.g. another node) reaches the Pod. Returns the problems found.
 */
export async function mappingProblems(driver: Driver, pod: V1Pod, entry: CompleteNplEntry, also: readonly Origin[] = []): Promise<string[]> {
  const problems: string[] = [];
  const node = nodeNamed(driver, pod.spec?.nodeName);
  const podIP = pod.status?.podIP;
  const rules = await nftMappings(driver, node);
  if (!rules.some((m) => m.nodePort === entry.nodePort && m.protocol === entry.protocol && m.podIP === podIP && m.podPort === entry.podPort)) {
    problems.push(`no nft mapping ${entry.protocol}/${entry.nodePort} -> ${podIP}:${entry.podPort} on ${node.name}`);
  }
  if (!(await socketHeld(driver, node, entry.nodePort, entry.protocol))) problems.push(`${entry.protocol} port ${entry.nodePort} not held on ${node.name}`);
  if (entry.nodeIP !== node.ip) problems.push(`nodeIP ${entry.nodeIP}, want ${node.ip}`);
  const name = pod.metadata?.name ?? '';
  for (const from of [{ kind: 'outside' } as const, ...also]) {
    const got = await driver.request(from, node.ip, entry.nodePort, entry.protocol);
    if (got.trim() !== name) problems.push(`${entry.protocol} from ${describeOrigin(from)} to ${node.ip}:${entry.nodePort} answered ${JSON.stringify(got)}, want ${name}`);
  }
  return problems;
}

export function describeOrigin(o: Origin): string {
  if (o.kind === 'outside') return 'outside';
  if (o.kind === 'node') return `node ${o.node.name}`;
  return `pod ${o.namespace}/${o.pod}`;
}

/** Waits until no rule and no socket of the node holds any of `ports`. */
export async function waitGone(driver: Driver, node: NodeInfo, ports: readonly PortRef[]): Promise<void> {
  await eventually(
    async () => {
      const rules = await nftMappings(driver, node);
      for (const { nodePort, protocol } of ports) {
        if (rules.some((m) => m.nodePort === nodePort && m.protocol === protocol)) return false;
        if (await socketHeld(driver, node, nodePort, protocol)) return false;
      }
      return true;
    },
    CONVERGE_MS,
    `rules and sockets of ${ports.map((p) => `${p.protocol}/${p.nodePort}`).join(', ')} removed on ${node.name}`,
  );
}
