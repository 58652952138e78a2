import { CoreV1Api, ListWatch, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { podKey } from '../layout.js';
import type { StandinNode } from './config.js';
import type { PodNetwork } from './pod-network.js';
import { POD_IP_ANNOTATION } from './pod-network.js';
import type { ProbeTarget } from './podnet-client.js';
import { PodReadiness } from './prober.js';
import { WorkQueue } from './queue.js';
import type { ContainerRuntime, PodSandbox } from './runtime.js';
import { completionOf, containersExitAt, markedUnhealthy, type Completion } from './termination.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface Sandbox extends PodSandbox {
  readonly startedAt: Date;
  /** The readiness probes; absent until the containers started. */
  readiness?: PodReadiness;
  /** The npl.test/ready switch as last applied to the runtime. */
  unhealthy?: boolean;
}

/** What a PodController drives: the node's pod network, the container runtime and the prober. */
export interface PodControllerDeps {
  readonly network: PodNetwork;
  readonly runtime: ContainerRuntime;
  /** Runs one readiness probe from inside the namespace at `netnsPath`; resolves true on success. */
  readonly probe: (netnsPath: string, target: ProbeTarget) => Promise<boolean>;
}

/** Readiness of the pod's containers: by name, and when it last changed. */
export interface ContainerReadiness {
  ready(container: string): boolean;
  lastChange(): Date;
}

const allReady = (since: Date): ContainerReadiness => ({ ready: () => true, lastChange: () => since });

const keyOf = (pod: V1Pod): string => `${pod.metadata?.namespace}/${pod.metadata?.name}`;

function isTerminal(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/**
 * The status a kubelet would write for a running pod whose containers all started; each
 * container is ready as `readiness` says (all, by default), and the pod is Ready and
 * ContainersReady when all of them are.
 */
export function runningStatus(pod: V1Pod, sb: Sandbox, hostIPs: readonly string[], readiness: ContainerReadiness = allReady(sb.startedAt)): V1PodStatus {
  const t = sb.startedAt;
  const containers = pod.spec?.containers ?? [];
  const notReady = containers.filter((c) => !readiness.ready(c.name)).map((c) => c.name);
  const cond = (type: string) => {
    if ((type !== 'Ready' && type !== 'ContainersReady') || notReady.length === 0) {
      return { type, status: 'True', lastTransitionTime: type === 'Ready' || type === 'ContainersReady' ? readiness.lastChange() : t };
    }
    return { type, status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${notReady.join(' ')}]`, lastTransitionTime: readiness.lastChange() };
  };
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
    containerStatuses: containers.map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: `npl-local://${c.image ?? ''}`,
      containerID: containerID(c.name),
      ready: readiness.ready(c.name),
      started: true,
      restartCount: 0,
      state: { running: { startedAt: t } },
    })),
  };
}

/**
 * The status a kubelet writes when every container of the pod exited by itself and the pod will
 * not be restarted: phase Succeeded or Failed, containers terminated, not Ready (PodCompleted).
 * Pod IP and start time stay as they were.
 */
export function completedStatus(pod: V1Pod, sb: Pick<Sandbox, 'uid' | 'startedAt'>, done: Completion): V1PodStatus {
  const finishedAt = new Date(done.at);
  const containerID = (name: string) => `npl://${sb.uid}/${name}`;
  const cond = (type: string, status: string, reason?: string) => ({ type, status, ...(reason ? { reason } : {}), lastTransitionTime: finishedAt });
  return {
    phase: done.phase,
    conditions: [
      cond('PodReadyToStartContainers', 'False'),
      cond('Initialized', 'True'),
      cond('Ready', 'False', 'PodCompleted'),
      cond('ContainersReady', 'False', 'PodCompleted'),
      cond('PodScheduled', 'True'),
    ],
    containerStatuses: (pod.spec?.containers ?? []).map((c) => ({
      name: c.name,
      image: c.image ?? '',
      imageID: `npl-local://${c.image ?? ''}`,
      containerID: containerID(c.name),
      ready: false,
      started: false,
      restartCount: 0,
      state: {
        terminated: { exitCode: done.exitCode, reason: done.exitCode === 0 ? 'Completed' : 'Error', startedAt: sb.startedAt, finishedAt, containerID: containerID(c.name) },
      },
    })),
  };
}

/** Whether the status's Ready condition and container readiness already say what `readiness` does. */
function readinessUpToDate(pod: V1Pod, readiness: ContainerReadiness): boolean {
  const containers = pod.spec?.containers ?? [];
  const podReady = containers.every((c) => readiness.ready(c.name)) ? 'True' : 'False';
  const statuses = pod.status?.containerStatuses ?? [];
  return (
    (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === podReady) &&
    statuses.length === containers.length &&
    containers.every((c) => statuses.find((x) => x.name === c.name)?.ready === readiness.ready(c.name))
  );
}

/** Whether the pod's status already says what `runningStatus` would (phase, IPs, readiness). */
function statusUpToDate(pod: V1Pod, sb: Sandbox, readiness: ContainerReadiness): boolean {
  const s = pod.status;
  return s?.phase === 'Running' && s.podIP === sb.ip && (s.podIPs ?? []).length === sb.ips.length && readinessUpToDate(pod, readiness);
}

/** completionOf, or none when its annotations are malformed (logged): the pod keeps running. */
function completionOrNone(pod: V1Pod, startedAt: Date, log: Logger): Completion | undefined {
  try {
    return completionOf(pod, startedAt);
  } catch (err) {
    log.warn({ pod: keyOf(pod), err: (err as Error).message }, 'ignoring malformed completion annotation');
    return undefined;
  }
}

/** containersExitAt, or "now" when its annotation is malformed (logged): never blocks a deletion. */
function exitAtOrNow(pod: V1Pod, log: Logger): number {
  try {
    return containersExitAt(pod) ?? Date.now();
  } catch (err) {
    log.warn({ pod: keyOf(pod), err: (err as Error).message }, 'ignoring malformed termination annotation');
    return Date.now();
  }
}

/**
 * The node stand-in's pod loop for one node: watches pods bound to the node and, per pod key,
 * reconciles level-based: make the sandbox (namespace, veth, IP) and start the containers, run
 * their readiness probes, write a kubelet-like status; on deletion keep the pod running and
 * serving until its containers exit (containersExitAt: preStop, SIGTERM delay, grace period),
 * then tear down and finish the deletion (grace period 0).
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
  private readonly probe: PodControllerDeps['probe'];
  private readonly log: Logger;
  /** Wake-ups of pods whose containers exit later (graceful termination, completion), by pod key. */
  private readonly exitTimers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  /** UIDs of pods whose containers completed here: never started again, even from a stale cache. */
  private readonly completed = new Set<string>();

  constructor(node: StandinNode, kc: KubeConfig, deps: PodControllerDeps, log: Logger) {
    this.node = node;
    this.network = deps.network;
    this.runtime = deps.runtime;
    this.probe = deps.probe;
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
    this.informer.on('delete', (pod) => {
      if (pod.metadata?.uid) this.completed.delete(pod.metadata.uid);
      enqueue(pod);
    });
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
    for (const t of this.exitTimers.values()) clearTimeout(t.timer);
    for (const sb of this.sandboxes.values()) sb.readiness?.stop();
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
    if (pod.metadata?.deletionTimestamp || isTerminal(pod)) await this.stopPod(key, pod, sb);
    else if (!this.completed.has(pod.metadata!.uid!)) await this.ensureRunning(key, pod, sb, restart);
  }

  /** Queues the pod again at `at` (ms since the epoch), or earlier if already due then. */
  private wakeAt(key: string, at: number): void {
    const current = this.exitTimers.get(key);
    if (current && current.at <= at) return;
    clearTimeout(current?.timer);
    const timer = setTimeout(() => {
      this.exitTimers.delete(key);
      this.queue.add(key);
    }, Math.max(0, at - Date.now()) + 50);
    this.exitTimers.set(key, { at, timer });
  }

  /**
   * A pod being deleted keeps running until its containers exited; then (and at once for a pod
   * that completed) its sandbox goes, and a deleted pod's deletion is finished.
   */
  private async stopPod(key: string, pod: V1Pod, sb: Sandbox | undefined): Promise<void> {
    if (sb && pod.metadata?.deletionTimestamp && !isTerminal(pod) && this.stillExiting(key, pod)) {
      await this.syncRunning(pod, sb);
      return;
    }
    if (sb) await this.teardown(key, sb);
    else await this.dropAdopted(pod.metadata!.uid!);
    if (pod.metadata?.deletionTimestamp) {
      await this.finishDeletion(pod);
      this.completed.delete(pod.metadata.uid!);
    }
  }

  /**
   * True while the containers of a pod being deleted have not exited yet (they keep serving);
   * the pod is queued again for when they have.
   */
  private stillExiting(key: string, pod: V1Pod): boolean {
    const exitAt = exitAtOrNow(pod, this.log);
    if (exitAt <= Date.now()) return false;
    if (this.exitTimers.get(key)?.at !== exitAt) this.log.info({ pod: key, exitInMs: exitAt - Date.now() }, 'pod terminating; containers keep running');
    this.wakeAt(key, exitAt);
    return true;
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
    else if (restart) {
      await this.runtime.startPod(pod, sb);
      sb.unhealthy = markedUnhealthy(pod);
    }
    const done = completionOrNone(pod, sb.startedAt, this.log);
    if (done && done.at <= Date.now()) await this.complete(key, pod, sb, done);
    else {
      if (done) this.wakeAt(key, done.at);
      await this.syncRunning(pod, sb);
    }
  }

  /** The containers exited by themselves: write the terminal status, then stop the sandbox. */
  private async complete(key: string, pod: V1Pod, sb: Sandbox, done: Completion): Promise<void> {
    this.completed.add(sb.uid);
    try {
      await this.core.patchNamespacedPodStatus({ name: sb.name, namespace: sb.namespace, body: { metadata: { uid: sb.uid }, status: completedStatus(pod, sb, done) } }, mergePatch);
    } catch (err) {
      if ((err as { code?: number }).code !== 404) {
        this.completed.delete(sb.uid);
        throw err;
      }
    }
    this.log.info({ pod: key, phase: done.phase, exitCode: done.exitCode }, 'pod completed');
    await this.teardown(key, sb);
  }

  /** Applies the npl.test/ready switch to the running containers and writes the status if stale. */
  private async syncRunning(pod: V1Pod, sb: Sandbox): Promise<void> {
    const unhealthy = markedUnhealthy(pod);
    if (sb.unhealthy !== unhealthy) {
      await this.runtime.updatePod(pod, sb);
      sb.unhealthy = unhealthy;
    }
    const readiness = sb.readiness ?? allReady(sb.startedAt);
    if (!statusUpToDate(pod, sb, readiness)) await this.patchStatus(pod, sb, readiness);
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
        const requested = pod.metadata?.annotations?.[POD_IP_ANNOTATION];
        ip = requested ? this.network.claim(requested) : this.network.allocator.allocate();
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
    sb.unhealthy = markedUnhealthy(pod);
    // kubelet probes from the host: here from the node's namespace, to the pod IP (the node IP
    // for hostNetwork pods).
    sb.readiness = new PodReadiness(pod, ip, ps, (t) => this.probe(nodeNetnsPath, t), () => this.queue.add(key));
    this.sandboxes.set(key, sb);
    this.log.info({ pod: key, podIPs: ips, hostNetwork }, 'pod started');
    return sb;
  }

  private async teardown(key: string, sb: Sandbox): Promise<void> {
    sb.readiness?.stop();
    clearTimeout(this.exitTimers.get(key)?.timer);
    this.exitTimers.delete(key);
    await this.runtime.stopPod(sb).catch((err: unknown) => this.log.warn({ pod: key, err }, 'stopping containers failed'));
    if (!sb.hostNetwork) {
      await this.network.teardown(sb.uid);
      this.network.allocator.release(sb.ip);
    }
    this.sandboxes.delete(key);
    this.log.info({ pod: key }, 'pod stopped');
  }

  private async patchStatus(pod: V1Pod, sb: Sandbox, readiness: ContainerReadiness): Promise<void> {
    try {
      await this.core.patchNamespacedPodStatus(
        { name: sb.name, namespace: sb.namespace, body: { metadata: { uid: sb.uid }, status: runningStatus(pod, sb, this.node.ips, readiness) } },
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
