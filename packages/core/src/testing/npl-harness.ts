/**
 * A stateful model of one node for reconcile tests: Pods, Services and the Node as an API server
 * would hold them, port tables over FakePortReserver/FakeMappingRules, and annotation patches
 * applied to the stored Pods. Mirrors Antrea's controller test fixture (spec §8): range
 * 61000-65000, Pod default/test-pod, Service default/test-svc 80->80/TCP, Node test-node.
 */
import type { V1Node, V1Pod, V1Service } from '@kubernetes/client-node';
import { nodeIPs } from '../addresses.js';
import type { AnnotationAction } from '../annotation-plan.js';
import { nplAnnotationOf } from '../annotation-plan.js';
import type { CompleteNplEntry } from '../annotation.js';
import { isCompleteNplEntry, NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY, parseNplAnnotation } from '../annotation.js';
import { PortTable } from '../port-table.js';
import type { PodReconcileResult } from '../reconcile.js';
import { reconcilePod } from '../reconcile.js';
import type { IPFamily, PortRange, Protocol } from '../types.js';
import { FakeMappingRules, FakePortReserver } from './fakes.js';

export const TEST_RANGE: PortRange = { start: 61000, end: 65000 };
export const TEST_POD_IP = '192.168.32.10';
export const TEST_NODE_IPV4 = '10.10.10.10';
export const TEST_NODE_IPV6 = 'fd12:3456:789a:1::1';

export function testNode(): V1Node {
  return {
    metadata: { name: 'test-node' },
    status: {
      addresses: [
        { type: 'ExternalIP', address: TEST_NODE_IPV4 },
        { type: 'InternalIP', address: '10.0.0.1' },
        { type: 'ExternalIP', address: TEST_NODE_IPV6 },
        { type: 'InternalIP', address: 'fd12:3456:789a:1::2' },
      ],
    },
  };
}

export function testPod(name = 'test-pod', ips: string[] = [TEST_POD_IP], ns = 'default'): V1Pod {
  return {
    metadata: { namespace: ns, name, labels: { foo: name } },
    spec: { nodeName: 'test-node', containers: [{ name: 'c', ports: [{ containerPort: 80, protocol: 'TCP' }] }] },
    status: { phase: 'Running', podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) },
  };
}

export function testService(name = 'test-svc', selector: Record<string, string> = { foo: 'test-pod' }, ns = 'default'): V1Service {
  return {
    metadata: { namespace: ns, name, annotations: { [NPL_ENABLED_ANNOTATION_KEY]: 'true' } },
    spec: {
      type: 'ClusterIP',
      selector,
      ipFamilies: ['IPv4'],
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }],
    },
  };
}

/** One expected annotation entry: nodeIP and nodePort are checked only when given. */
export interface ExpectedEntry {
  readonly podPort: number;
  readonly protocol?: Protocol;
  readonly ipFamily?: IPFamily;
  readonly nodeIP?: string;
  readonly nodePort?: number;
}

function checkEntry(actual: readonly CompleteNplEntry[], want: ExpectedEntry, range: PortRange): string[] {
  const protocol = want.protocol ?? 'tcp';
  const ipFamily = want.ipFamily ?? 'IPv4';
  const got = actual.find((a) => a.podPort === want.podPort && a.protocol === protocol && a.ipFamily === ipFamily);
  if (!got) return [`no entry for ${want.podPort}/${protocol}/${ipFamily}`];
  const problems: string[] = [];
  const nodeIP = want.nodeIP ?? (ipFamily === 'IPv4' ? TEST_NODE_IPV4 : TEST_NODE_IPV6);
  if (got.nodeIP !== nodeIP) problems.push(`${want.podPort}/${protocol}: nodeIP ${got.nodeIP}, want ${nodeIP}`);
  const portOk = want.nodePort !== undefined ? got.nodePort === want.nodePort : got.nodePort >= range.start && got.nodePort <= range.end;
  if (!portOk) problems.push(`${want.podPort}/${protocol}: nodePort ${got.nodePort}, want ${want.nodePort ?? `${range.start}-${range.end}`}`);
  return problems;
}

export class NplHarness {
  readonly pods = new Map<string, V1Pod>();
  readonly services = new Map<string, V1Service>();
  node: V1Node = testNode();
  readonly reservers = new Map<IPFamily, FakePortReserver>();
  readonly rules = new Map<IPFamily, FakeMappingRules>();
  readonly tables = new Map<IPFamily, PortTable>();
  patches = 0;

  constructor(families: readonly IPFamily[] = ['IPv4'], range: PortRange = TEST_RANGE) {
    for (const family of families) {
      const reserver = new FakePortReserver();
      const rules = new FakeMappingRules(family);
      this.reservers.set(family, reserver);
      this.rules.set(family, rules);
      this.tables.set(family, new PortTable({ family, range, reserver, rules }));
    }
  }

  table(family: IPFamily = 'IPv4'): PortTable {
    const t = this.tables.get(family);
    if (!t) throw new Error(`no ${family} table`);
    return t;
  }

  rulesOf(family: IPFamily = 'IPv4'): FakeMappingRules {
    const r = this.rules.get(family);
    if (!r) throw new Error(`no ${family} rules`);
    return r;
  }

  putPod(pod: V1Pod): void {
    this.pods.set(`${pod.metadata!.namespace}/${pod.metadata!.name}`, structuredClone(pod));
  }

  putService(svc: V1Service): void {
    this.services.set(`${svc.metadata!.namespace}/${svc.metadata!.name}`, structuredClone(svc));
  }

  pod(key = 'default/test-pod'): V1Pod {
    const p = this.pods.get(key);
    if (!p) throw new Error(`no pod ${key}`);
    return p;
  }

  /** Reconcile one Pod and apply the annotation patch to the stored Pod, as the agent does. */
  async sync(key = 'default/test-pod'): Promise<PodReconcileResult> {
    const pod = this.pods.get(key);
    const ns = key.split('/')[0];
    const result = await reconcilePod({
      key,
      pod,
      services: [...this.services.values()].filter((s) => s.metadata?.namespace === ns),
      nodeIPs: nodeIPs(this.node),
      tables: this.tables,
    });
    if (pod) this.applyAnnotation(pod, result.annotation);
    return result;
  }

  /** Reconcile every stored Pod in key order, then removed keys given in `gone`. */
  async syncAll(gone: readonly string[] = []): Promise<void> {
    for (const key of [...this.pods.keys()].sort()) await this.sync(key);
    for (const key of gone) await this.sync(key);
  }

  annotationText(key = 'default/test-pod'): string | undefined {
    return nplAnnotationOf(this.pod(key));
  }

  /** Parsed annotation entries, all complete (a test failure otherwise). */
  annotation(key = 'default/test-pod'): CompleteNplEntry[] {
    const text = this.annotationText(key);
    if (text === undefined) return [];
    const parsed = parseNplAnnotation(text);
    if (!parsed.every(isCompleteNplEntry)) throw new Error(`incomplete entries in ${text}`);
    return parsed;
  }

  /**
   * Antrea's ExpectedNPLAnnotations.Check: same count; entries matched by (podPort, protocol,
   * ipFamily); nodeIP and nodePort compared when given, else nodePort must be in the range.
   * Returns a list of problems, empty when the annotation matches.
   */
  check(expected: readonly ExpectedEntry[], key = 'default/test-pod', range: PortRange = TEST_RANGE): string[] {
    const actual = this.annotation(key);
    const problems: string[] = [];
    if (actual.length !== expected.length) problems.push(`want ${expected.length} entries, got ${actual.length}: ${this.annotationText(key)}`);
    for (const want of expected) problems.push(...checkEntry(actual, want, range));
    return problems;
  }

  /** True when the family's dataplane holds a rule DNATing to podIP:podPort for that protocol. */
  hasRule(podIP: string, podPort: number, protocol: Protocol = 'tcp', family: IPFamily = 'IPv4'): boolean {
    return this.rulesOf(family)
      .mappings()
      .some((m) => m.podIP === podIP && m.podPort === podPort && m.protocol === protocol);
  }

  private applyAnnotation(pod: V1Pod, action: AnnotationAction): void {
    if (action.kind === 'none') return;
    this.patches++;
    const annotations = { ...(pod.metadata!.annotations ?? {}) };
    if (action.kind === 'set') annotations[NPL_ANNOTATION_KEY] = action.value;
    else delete annotations[NPL_ANNOTATION_KEY];
    pod.metadata!.annotations = annotations;
  }
}
