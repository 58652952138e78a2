/**
 * The NodePortLocal controller of one node (Antrea's NPLController): informer events become Pod
 * keys in a work queue; a worker reconciles one key at a time (core's reconcilePod) and patches the
 * annotation. Level based: handlers never look at what changed beyond choosing which keys to queue;
 * a Pod update is not queued only when it changes nothing a reconcile reads and carries the
 * annotation the last reconcile left (the echo of our own PATCH; see pod-echo.ts).
 */
import type { V1Node, V1ObjectReference, V1Pod, V1Service } from '@kubernetes/client-node';
import type { AnnotationAction, IPFamily, NodeIPs, PlanStep, PortEntry, PortTable } from '@npl/core';
import {
  isNplEnabledService,
  isNplError,
  nodeIPs,
  nodeIPsEqual,
  NPL_ENABLED_ANNOTATION_KEY,
  nplAnnotationOf,
  podsAffectedByServiceChange,
  portRangeSize,
  reconcilePod,
  serviceKey,
} from '@npl/core';
import type { EventRecorder, Informer, Logger, WorkQueue } from '@npl/runtime';
import type { AnnotationWriter } from './kube/annotation-writer.js';
import type { AgentMetrics } from './metrics.js';
import { SettledAnnotations } from './pod-echo.js';
import { OptedInServices } from './service-index.js';

export interface ControllerDeps {
  readonly nodeName: string;
  readonly pods: Informer<V1Pod>;
  readonly services: Informer<V1Service>;
  readonly nodes: Informer<V1Node>;
  readonly tables: ReadonlyMap<IPFamily, PortTable>;
  readonly annotations: AnnotationWriter;
  readonly events: EventRecorder;
  readonly logger: Logger;
  readonly metrics: AgentMetrics;
  readonly queue: WorkQueue<string>;
  /** Told when this Node's IPs changed after start-up (the address families may have changed). */
  readonly onNodeIPsChanged?: () => void;
}

function podRef(pod: V1Pod): V1ObjectReference {
  return { kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid };
}

function serviceRef(svc: V1Service): V1ObjectReference {
  return { kind: 'Service', apiVersion: 'v1', namespace: svc.metadata?.namespace, name: svc.metadata?.name, uid: svc.metadata?.uid };
}

const TYPE_PROBLEM: Readonly<Record<string, string>> = {
  NodePort: 'Service is of type NodePort and cannot be used for NodePortLocal, the NodePortLocal annotation will have no effect',
  ExternalName: 'Service is of type ExternalName and cannot be used for NodePortLocal, the NodePortLocal annotation will have no effect',
};

/** Why an opted-in Service has (partly) no effect, in Antrea's words; undefined when it may work. */
export function serviceProblem(svc: V1Service): string | undefined {
  if (svc.metadata?.annotations?.[NPL_ENABLED_ANNOTATION_KEY] !== 'true') return undefined;
  const { type = '', selector = {}, ports = [] } = svc.spec ?? {};
  const typeProblem = TYPE_PROBLEM[type];
  if (typeProblem) return typeProblem;
  if (Object.keys(selector).length === 0) return 'Service does not have a selector, the NodePortLocal annotation will have no effect';
  if (ports.some((p) => p.protocol === 'SCTP')) return 'Service includes a SCTP Service port, which will be ignored';
  return undefined;
}

export class NplController {
  private currentNodeIPs: NodeIPs = {};
  /** Pods whose last reconcile found no free node port: queued again as soon as a mapping is deleted. */
  private readonly waitingForPort = new Set<string>();
  /** Keys whose reconcile in flight deleted a mapping (freed a port). */
  private readonly freedPorts = new Set<string>();
  private readonly settled = new SettledAnnotations();
  private readonly optedIn = new OptedInServices();

  constructor(private readonly deps: ControllerDeps) {
    deps.metrics.registry.onCollect(() => this.updateGauges());
  }

  /** The node IPs the annotations carry now. */
  nodeIPs(): NodeIPs {
    return this.currentNodeIPs;
  }

  /** Wire informer events to the queue. Call before the informers start. */
  registerHandlers(): void {
    const { pods, services, nodes, queue } = this.deps;
    const keyOf = (pod: V1Pod): string => `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    pods.on('add', (pod) => queue.add(keyOf(pod)));
    pods.on('update', (pod, old) => {
      const key = keyOf(pod);
      if (this.settled.isNoop(key, pod, old)) this.deps.metrics.updatesSkipped.inc();
      else queue.add(key);
    });
    pods.on('delete', (pod) => {
      const key = keyOf(pod);
      this.settled.forget(key);
      queue.add(key);
    });
    services.on('add', (svc) => this.onServiceChange(undefined, svc));
    services.on('update', (svc, old) => this.onServiceChange(old, svc));
    services.on('delete', (svc) => this.onServiceChange(svc, undefined));
    nodes.on('add', (node) => this.onNode(node));
    nodes.on('update', (node) => this.onNode(node));
  }

  /** Queue every local Pod (start-up, node IP change). */
  enqueueAll(): void {
    for (const pod of this.deps.pods.list()) this.deps.queue.add(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
  }

  /** Recompute node IPs from the informer; true when they changed. */
  refreshNodeIPs(): boolean {
    const node = this.deps.nodes.get(this.deps.nodeName);
    const ips = node ? nodeIPs(node) : {};
    if (nodeIPsEqual(ips, this.currentNodeIPs)) return false;
    this.currentNodeIPs = ips;
    return true;
  }

  /** Reconcile one Pod key; throws to requeue with backoff. */
  async syncPod(key: string): Promise<void> {
    const started = performance.now();
    const { metrics } = this.deps;
    try {
      await this.reconcile(key);
      this.waitingForPort.delete(key);
      metrics.reconciles.inc({ result: 'success' });
    } catch (err) {
      // Unsettled: the next update of this Pod reconciles whatever it carries.
      this.settled.forget(key);
      metrics.reconciles.inc({ result: 'error' });
      throw err;
    } finally {
      metrics.reconcileSeconds.observe((performance.now() - started) / 1000);
      if (this.freedPorts.delete(key)) this.retryWaitingForPort(key);
    }
  }

  /** A port was freed: the Pods that found none retry now rather than after their backoff (minutes). */
  private retryWaitingForPort(freedBy: string): void {
    for (const key of this.waitingForPort) if (key !== freedBy) this.deps.queue.add(key);
  }

  private async reconcile(key: string): Promise<void> {
    const { pods, tables, nodeName } = this.deps;
    const cached = pods.get(key);
    const pod = cached && cached.spec?.nodeName === nodeName ? cached : undefined;
    const [namespace = ''] = key.split('/');
    const log = this.deps.logger.child({ pod: key });
    let result;
    try {
      result = await reconcilePod({
        key,
        pod,
        // Only opted-in Services can select ports; the others would be reported as ignored and dropped.
        services: this.optedIn.list(namespace),
        nodeIPs: this.currentNodeIPs,
        tables,
        onStep: (step, entry) => this.onStep(log, key, step, entry),
      });
    } catch (err) {
      this.onReconcileError(key, pod, err);
      throw err;
    }
    if (!pod) {
      this.settled.forget(key);
      return;
    }
    await this.applyAnnotation(key, pod, result.annotation, log);
  }

  private async applyAnnotation(key: string, pod: V1Pod, action: AnnotationAction, log: Logger): Promise<void> {
    if (action.kind === 'none') {
      this.settled.settle(key, nplAnnotationOf(pod) ?? null);
      return;
    }
    const value = action.kind === 'set' ? action.value : null;
    // Settled before the PATCH: its watch echo may arrive before the response does.
    this.settled.settle(key, value);
    const written = await this.deps.annotations.write(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '', value);
    if (!written) return;
    this.deps.metrics.annotationPatches.inc({ op: action.kind });
    log.info({ annotation: value }, action.kind === 'set' ? 'Updated NodePortLocal annotation' : 'Removed NodePortLocal annotation');
  }

  private onStep(log: Logger, key: string, step: PlanStep, entry: PortEntry | undefined): void {
    const { metrics } = this.deps;
    if (step.op === 'add' && entry) {
      metrics.mappingsAdded.inc({ family: entry.family, protocol: entry.protocol });
      log.info(
        { nodePort: entry.nodePort, podIP: entry.podIP, podPort: entry.podPort, protocol: entry.protocol, family: entry.family },
        'Added NodePortLocal rule',
      );
    } else if (step.op === 'delete') {
      const e = step.entry;
      this.freedPorts.add(key);
      metrics.mappingsDeleted.inc({ family: e.family, protocol: e.protocol });
      const msg =
        step.reason === 'pod-ip-changed'
          ? 'Deleted NodePortLocal rule for Pod because of IP change'
          : step.reason === 'defunct'
            ? 'Deleted defunct NodePortLocal rule for Pod to prevent re-use'
            : 'Deleted NodePortLocal rule';
      log.info({ nodePort: e.nodePort, podIP: e.podIP, podPort: e.podPort, protocol: e.protocol, family: e.family, reason: step.reason, key }, msg);
    }
  }

  private onReconcileError(key: string, pod: V1Pod | undefined, err: unknown): void {
    if (isNplError(err, 'NPL_PORT_EXHAUSTED')) {
      this.waitingForPort.add(key);
      this.deps.metrics.allocationFailures.inc();
      if (pod) this.deps.events.record(podRef(pod), 'Warning', 'NodePortLocalPortsExhausted', (err as Error).message);
    } else if (isNplError(err, 'NPL_DATAPLANE_FAILED')) {
      this.deps.metrics.dataplaneErrors.inc();
    }
  }

  private onServiceChange(oldSvc: V1Service | undefined, newSvc: V1Service | undefined): void {
    this.optedIn.update(oldSvc, newSvc);
    if (newSvc) this.reportServiceProblem(newSvc, oldSvc);
    // Most Services never opt in: skip listing the namespace's Pods for them.
    if (!(oldSvc && isNplEnabledService(oldSvc)) && !(newSvc && isNplEnabledService(newSvc))) return;
    const keys = podsAffectedByServiceChange(oldSvc, newSvc, this.deps.pods.list((newSvc ?? oldSvc)?.metadata?.namespace));
    for (const key of keys) this.deps.queue.add(key);
  }

  private reportServiceProblem(svc: V1Service, old: V1Service | undefined): void {
    const problem = serviceProblem(svc);
    if (!problem || (old && serviceProblem(old) === problem)) return;
    this.deps.logger.warn({ service: serviceKey(svc), enabled: isNplEnabledService(svc) }, problem);
    this.deps.events.record(serviceRef(svc), 'Warning', 'NodePortLocalIgnored', problem);
  }

  private onNode(node: V1Node): void {
    if (node.metadata?.name !== this.deps.nodeName) return;
    const before = this.currentNodeIPs;
    if (!this.refreshNodeIPs()) return;
    if (!before.IPv4 && !before.IPv6) return;
    this.deps.logger.info({ before, after: this.currentNodeIPs }, 'Node IPs changed, reconciling all Pods');
    this.deps.onNodeIPsChanged?.();
    this.enqueueAll();
  }

  /** Recount the mapping, free-port and queue gauges from the tables (run at each /metrics scrape). */
  private updateGauges(): void {
    const { metrics, tables, queue } = this.deps;
    metrics.mappings.reset();
    metrics.portsFree.reset();
    for (const [family, table] of tables) {
      const entries = table.entries();
      for (const protocol of ['tcp', 'udp'] as const) {
        const held = entries.filter((e) => e.protocol === protocol).length;
        metrics.mappings.set(held, { family, protocol });
        metrics.portsFree.set(portRangeSize(table.range) - held, { family, protocol });
      }
    }
    metrics.queueDepth.set(queue.length());
  }
}
