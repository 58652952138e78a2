import type { V1Pod } from '@kubernetes/client-node';
import { familyOf } from '../ip.js';
import type { ListenPort, PodnetClient } from './podnet-client.js';
import { markedUnhealthy } from './termination.js';

/** Where a pod's containers run: its network namespace and addresses, made by the pod network. */
export interface PodSandbox {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  /** Path of the pod's network namespace (the node's for hostNetwork pods). */
  readonly netnsPath: string;
  readonly nodeNetnsPath: string;
  /** Primary pod IP (= ips[0]). */
  readonly ip: string;
  /** One address per family of the cluster, primary first (the node's for hostNetwork pods). */
  readonly ips: readonly string[];
  readonly hostNetwork: boolean;
}

/**
 * The stand-in's container runtime seam. `startPod` is idempotent (a second call restarts the
 * pod's containers); `stopPod` is idempotent and succeeds for unknown pods. A later implementation
 * runs pods whose image is one of this repository's (agent, controller, emulator) as local
 * processes with the pod's args, env, mounted volumes and token; `RuntimeRouter` picks one per pod.
 */
export interface ContainerRuntime {
  /** True when this runtime runs the pod (e.g. by image). */
  handles(pod: V1Pod): boolean;
  startPod(pod: V1Pod, sandbox: PodSandbox): Promise<void>;
  /** Applies a change of a running pod's spec or annotations (e.g. npl.test/ready). Idempotent. */
  updatePod(pod: V1Pod, sandbox: PodSandbox): Promise<void>;
  stopPod(sandbox: PodSandbox): Promise<void>;
}

/**
 * The default runtime: no processes, one listener per declared container port opened by the
 * podnet helper inside the pod's namespace (TCP answers the pod name over HTTP, UDP echoes it).
 * hostPort gets a second listener in the node's namespace that answers the same. A pod annotated
 * `npl.test/ready: "false"` answers HTTP 503 instead of 200 (its httpGet readiness probe fails).
 */
export class NetnsServerRuntime implements ContainerRuntime {
  private readonly podnet: PodnetClient;

  constructor(podnet: PodnetClient) {
    this.podnet = podnet;
  }

  handles(): boolean {
    return true;
  }

  async startPod(pod: V1Pod, sandbox: PodSandbox): Promise<void> {
    // Listen on every family the pod has an address of (hostPort: the node has the same families).
    const families = [...new Set(sandbox.ips.map(familyOf))];
    const ports = declaredPorts(pod, sandbox).map((p) => ({ ...p, families }));
    await this.podnet.open(sandbox.uid, sandbox.netnsPath, sandbox.name, ports, markedUnhealthy(pod));
  }

  async updatePod(pod: V1Pod, sandbox: PodSandbox): Promise<void> {
    await this.podnet.setUnhealthy(sandbox.uid, markedUnhealthy(pod));
  }

  async stopPod(sandbox: PodSandbox): Promise<void> {
    await this.podnet.close(sandbox.uid);
  }
}

/** Every declared container port, plus hostPort listeners in the node namespace. */
export function declaredPorts(pod: V1Pod, sandbox: Pick<PodSandbox, 'hostNetwork' | 'nodeNetnsPath'>): ListenPort[] {
  const out: ListenPort[] = [];
  const seen = new Set<string>();
  for (const c of [...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      const protocol = (p.protocol ?? 'TCP').toUpperCase();
      if (protocol === 'SCTP') continue;
      const key = `${protocol}/${p.containerPort}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push({ port: p.containerPort, protocol });
      }
      if (p.hostPort && !sandbox.hostNetwork) {
        out.push({ port: p.hostPort, protocol, netns: sandbox.nodeNetnsPath, ...(p.hostIP ? { hostIP: p.hostIP } : {}) });
      }
    }
  }
  return out;
}

/** Sends each pod to the first runtime that handles it. */
export class RuntimeRouter implements ContainerRuntime {
  private readonly runtimes: readonly ContainerRuntime[];

  constructor(runtimes: readonly ContainerRuntime[]) {
    this.runtimes = runtimes;
  }

  handles(pod: V1Pod): boolean {
    return this.runtimes.some((r) => r.handles(pod));
  }

  startPod(pod: V1Pod, sandbox: PodSandbox): Promise<void> {
    return this.pick(pod).startPod(pod, sandbox);
  }

  updatePod(pod: V1Pod, sandbox: PodSandbox): Promise<void> {
    return this.pick(pod).updatePod(pod, sandbox);
  }

  async stopPod(sandbox: PodSandbox): Promise<void> {
    await Promise.all(this.runtimes.map((r) => r.stopPod(sandbox)));
  }

  private pick(pod: V1Pod): ContainerRuntime {
    const r = this.runtimes.find((x) => x.handles(pod));
    if (!r) throw new Error(`no container runtime for pod ${pod.metadata?.namespace}/${pod.metadata?.name}`);
    return r;
  }
}
