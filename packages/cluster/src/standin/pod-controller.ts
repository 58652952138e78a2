import { CoreV1Api, ListWatch, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { podKey } from '../layout.js';
import type { StandinNode } from './config.js';
import type { PodNetwork } from './pod-network.js';
import { WorkQueue } from './queue.js';
import type { ContainerRuntime, PodSandbox } from './runtime.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface Sandbox extends PodSandbox {
  readonly startedAt: Date;
}

const keyOf = (pod: V1Pod): string => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

function isTerminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** The status a kubelet would write for a running pod whose containers all started and are ready. */
export function runningStatus(pod: V1Pod, sb: Sandbox, hostIPs: readonly string[]): V1PodStatus {
  const t = sb.startedAt;
  const cond = (type: string) => ({ type, status: 'True', lastTransitionTime: t });
  const containerID = (name: string) => `npl://${sb.uid}/${name}`;
  return {
    phase: 'Running',
    hostIP: hostIPs[0],
    hostIPs: hostIPs.map((ip) => ({ ip })),
    podIP: sb.ip,
    podIPs: sb.ips.map((ip) => ({ ip })),
    startTime: t,
    qosClass: pod.status?.qosClass,
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(cond),
    initContainerStatuses: (pod.spec?.initContainers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: `npl-local://${c.image ?? ''}`,
      containerID: containerID(c.name),
      ready: true,
      started: false,
      restartCount: 0,
      state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: t, finishedAt: t, containerID: containerID(c.name) } },
    })),
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: `npl-local://${c.image ?? ''}`,
      containerID: containerID(c.name),
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: t } },
    })),
  };
}

function statusUpToDate(pod: V1Pod, sb: Sandbox): boolean {
  const s = pod.status;
  return (
    s?.phase === 'Running' &&
    s.podIP === sb.ip &&
    (s.podIPs ?? []).length === sb.ips.length &&
    (s.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') &&
    (s.containerStatuses ?? []).length === (pod.spec?.containers ?? []).length
  );
}

/**
 * The node stand-in's pod loop for one node: watches pods bound to the node and, per pod key,
 * reconciles level-based: make the sandbox (namespace, veth, IP) and start the containers, write
 * a kubelet-like status; on deletion tear down and finish the deletion (grace period 0).
 */
export class PodController {
  private readonly core: CoreV1Api;
  private readonly informer: ListWatch<V1Pod>;
  private readonly queue: WorkQueue;
  private readonly sandboxes = new Map<string, Sandbox>();
  /** Pod namespaces found at start-up (by pod UID key prefix) with their address. */
  readonly adopted = new Map<string, string>();
  private resync: NodeJS.Timeout | undefined;
  private stopped = false;
  private synced = false;
  private readonly node: StandinNode;
  private readonly network: PodNetwork;
  private readonly runtime: ContainerRuntime;
  private readonly log: Logger;

  constructor(node: StandinNode, kc: KubeConfig, network: PodNetwork, runtime: ContainerRuntime, log: Logger) {
    this.node = node;
    this.network = network;
    this.runtime = runtime;
    this.log = log;
    this.core = kc.makeApiClient(CoreV1Api);
    const fieldSelector = `spec.nodeName=${node.name}`;
    this.informer = new ListWatch<V1Pod>(
      '/api/v1/pods',
      new Watch(kc),
      () => this.core.listPodForAllNamespaces({ fieldSelector }),
      false,
      undefined,
      fieldSelector,
    );
    this.queue = new WorkQueue((k) => this.reconcile(k), 8, (key, err) => this.log.warn({ pod: key, err }, 'pod reconcile failed; retrying'));
    const enqueue = (pod: V1Pod): void => this.queue.add(keyOf(pod));
    this.informer.on('add', enqueue);
    this.informer.on('update', enqueue);
    this.informer.on('delete', enqueue);
    this.informer.on('error', (err) => {
      if (this.stopped) return;
      this.log.warn({ err }, 'pod watch failed; restarting');
      setTimeout(() => void this.informer.start().catch(() => undefined), 1_000);
    });
  }

  async start(): Promise<void> {
    await this.informer.start();
    this.synced = true;
    // Safety net against silent watch stalls: reconcile every known pod periodically.
    this.resync = setInterval(() => this.resyncAll(), 30_000);
  }

  stop(): void {
    this.stopped = true;
    if (this.resync) clearInterval(this.resync);
    this.queue.stop();
    void this.informer.stop();
  }

  /** Reopens every pod's listeners (after the podnet helper restarted). */
  restartContainers(): void {
    for (const key of this.sandboxes.keys()) this.queue.add(`restart:${key}`);
  }

  /** Whether the first list has completed. */
  isSynced(): boolean {
    return this.synced;
  }

  /** Pod UIDs this controller knows (cached pods and live sandboxes). */
  knownUids(): Set<string> {
    const s = new Set<string>();
    for (const p of this.informer.list()) if (p.metadata?.uid) s.add(p.metadata.uid);
    for (const sb of this.sandboxes.values()) s.add(sb.uid);
    return s;
  }

  private resyncAll(): void {
    for (const p of this.informer.list()) this.queue.add(keyOf(p));
    for (const k of this.sandboxes.keys()) this.queue.add(k);
  }

  private async reconcile(queued: string): Promise<void> {
    const restart = queued.startsWith('restart:');
    const key = restart ? queued.slice('restart:'.length) : queued;
    const [namespace, name] = key.split('/') as [string, string];
    const pod = this.informer.get(name, namespace);
    const sb = await this.currentSandbox(key, pod);
    if (!pod || pod.spec?.nodeName !== this.node.name) return;
    if (pod.metadata?.deletionTimestamp || isTerminal(pod)) {
      if (sb) await this.teardown(key, sb);
      else await this.dropAdopted(pod.metadata!.uid!);
      if (pod.metadata?.deletionTimestamp) await this.finishDeletion(pod);
      return;
    }
    await this.ensureRunning(key, pod, sb, restart);
  }

  /** Removes a namespace left by an earlier stand-in for a pod that is going away. */
  private async dropAdopted(uid: string): Promise<void> {
    const k = podKey(uid);
    const ip = this.adopted.get(k);
    if (ip === undefined) return;
    this.adopted.delete(k);
    await this.network.teardown(uid);
    this.network.allocator.release(ip);
  }

  /** The key's sandbox if it belongs to `pod`; a sandbox of a former pod of that name is removed. */
  private async currentSandbox(key: string, pod: V1Pod | undefined): Promise<Sandbox | undefined> {
    const sb = this.sandboxes.get(key);
    if (sb && pod?.metadata?.uid !== sb.uid) {
      await this.teardown(key, sb);
      return undefined;
    }
    return sb;
  }

  private async ensureRunning(key: string, pod: V1Pod, existing: Sandbox | undefined, restart: boolean): Promise<void> {
    let sb = existing;
    if (!sb) sb = await this.createSandbox(key, pod);
    else if (restart) await this.runtime.startPod(pod, sb);
    if (!statusUpToDate(pod, sb)) await this.patchStatus(pod, sb);
  }

  private async createSandbox(key: string, pod: V1Pod): Promise<Sandbox> {
    const uid = pod.metadata!.uid!;
    const hostNetwork = pod.spec?.hostNetwork === true;
    const nodeNetnsPath = `/run/netns/${this.node.netns}`;
    let ip = this.node.ip;
    let ips = this.node.ips;
    let netnsPath = nodeNetnsPath;
    if (!hostNetwork) {
      const adoptedIP = this.adopted.get(podKey(uid));
      if (adoptedIP) {
        ip = adoptedIP;
        ips = this.network.podIPs(ip);
        this.adopted.delete(podKey(uid));
      } else {
        ip = this.network.allocator.allocate();
        ips = this.network.podIPs(ip);
        try {
          await this.network.setup(uid, ips);
        } catch (err) {
          this.network.allocator.release(ip);
          throw err;
        }
      }
      netnsPath = `/run/netns/${this.network.netnsName(uid)}`;
    }
    const ps = pod.status?.startTime ? new Date(pod.status.startTime) : new Date();
    const sb: Sandbox = { uid, namespace: pod.metadata!.namespace!, name: pod.metadata!.name!, netnsPath, nodeNetnsPath, ip, ips, hostNetwork, startedAt: ps };
    try {
      await this.runtime.startPod(pod, sb);
    } catch (err) {
      await this.teardown(key, sb);
      throw err;
    }
    this.sandboxes.set(key, sb);
    this.log.info({ pod: key, podIPs: ips, hostNetwork }, 'pod started');
    return sb;
  }

  private async teardown(key: string, sb: Sandbox): Promise<void> {
    await this.runtime.stopPod(sb).catch((err: unknown) => this.log.warn({ pod: key, err }, 'stopping containers failed'));
    if (!sb.hostNetwork) {
      await this.network.teardown(sb.uid);
      this.network.allocator.release(sb.ip);
    }
    this.sandboxes.delete(key);
    this.log.info({ pod: key }, 'pod stopped');
  }

  private async patchStatus(pod: V1Pod, sb: Sandbox): Promise<void> {
    try {
      await this.core.patchNamespacedPodStatus(
        { name: sb.name, namespace: sb.namespace, body: { metadata: { uid: sb.uid }, status: runningStatus(pod, sb, this.node.ips) } },
        mergePatch,
      );
    } catch (err) {
      if ((err as { code?: number }).code === 404) return;
      throw err;
    }
  }

  private async finishDeletion(pod: V1Pod): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({
        name: pod.metadata!.name!,
        namespace: pod.metadata!.namespace!,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata!.uid! } },
      });
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 404 || code === 409) return;
      throw err;
    }
  }
}
