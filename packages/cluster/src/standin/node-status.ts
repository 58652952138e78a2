import { CoordinationV1Api, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig, V1Node, V1NodeStatus } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { StandinNode } from './config.js';

const LEASE_NS = 'kube-node-lease';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** RFC 3339 with microseconds, the wire form of metav1.MicroTime. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function statusCode(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

/**
 * A Ready node's status as a kubelet reports it (capacity sized for benchmark loads), with the
 * node's ExternalIPs (if any) before its InternalIP.
 */
export function nodeStatus(node: StandinNode, kubeletVersion: string, now: Date, externalIPs: readonly string[] = [], internalIPs: readonly string[] = node.ips): V1NodeStatus {
  const resources = { cpu: '16', memory: '64Gi', pods: '600', 'ephemeral-storage': '100Gi' };
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  return {
    // ExternalIPs first (as life listed them), then one InternalIP per family, primary first, as
    // kubelet reports a dual-stack --node-ip.
    addresses: [
      ...externalIPs.map((address) => ({ type: 'ExternalIP', address })),
      ...internalIPs.map((address) => ({ type: 'InternalIP', address })),
      { type: 'Hostname', address: node.name },
    ],
    capacity: resources,
    allocatable: resources,
    conditions: [
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      cond('Ready', 'True', 'KubeletReady', 'npl local-cluster node stand-in is posting ready status'),
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: node.name,
      systemUUID: node.name,
      bootID: node.name,
      kernelVersion: 'netns',
      osImage: 'npl local cluster',
      containerRuntimeVersion: 'npl-netns://1',
      kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

/**
 * Registers the Node (podCIDR is set at creation: NodeRestriction forbids changing it later) and
 * keeps it Ready: renews the node Lease every 10 s and re-posts the status every 60 s.
 */
export class NodeHeartbeat {
  private readonly core: CoreV1Api;
  private readonly coordination: CoordinationV1Api;
  private timers: NodeJS.Timeout[] = [];
  private readonly node: StandinNode;
  private readonly kubeletVersion: string;
  private readonly log: Logger;
  /** Reads the node's ExternalIPs from its host (namespace) at each status post. */
  externalIPs: () => Promise<readonly string[]> = () => Promise.resolve([]);
  /** The InternalIPs to report at each status post (default: all of the node's). */
  internalIPs: () => Promise<readonly string[]> = () => Promise.resolve(this.node.ips);

  constructor(node: StandinNode, kc: KubeConfig, kubeletVersion: string, log: Logger) {
    this.node = node;
    this.kubeletVersion = kubeletVersion;
    this.log = log;
    this.core = kc.makeApiClient(CoreV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
  }

  async register(): Promise<void> {
    const body: V1Node = {
      metadata: {
        name: this.node.name,
        labels: {
          'kubernetes.io/hostname': this.node.name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
        },
      },
      spec: { podCIDR: this.node.podCIDR, podCIDRs: [...this.node.podCIDRs] },
      status: nodeStatus(this.node, this.kubeletVersion, new Date(), await this.externalIPs(), await this.internalIPs()),
    };
    try {
      await this.core.createNode({ body });
    } catch (err) {
      if (statusCode(err) !== 409) throw err;
    }
    await this.postStatus();
    await this.renewLease();
  }

  start(): void {
    this.timers.push(setInterval(() => void this.renewLease().catch((e: unknown) => this.log.warn({ err: e }, 'lease renewal failed')), 10_000));
    this.timers.push(setInterval(() => void this.postStatus().catch((e: unknown) => this.log.warn({ err: e }, 'node status update failed')), 60_000));
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  async postStatus(): Promise<void> {
    const status = nodeStatus(this.node, this.kubeletVersion, new Date(), await this.externalIPs(), await this.internalIPs());
    await this.core.patchNodeStatus({ name: this.node.name, body: { status } }, mergePatch);
  }

  async renewLease(): Promise<void> {
    const name = this.node.name;
    const spec = { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime(new Date()) };
    try {
      await this.coordination.patchNamespacedLease({ name, namespace: LEASE_NS, body: { spec } }, mergePatch);
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
      const node = await this.core.readNode({ name });
      await this.coordination.createNamespacedLease({
        namespace: LEASE_NS,
        body: {
          metadata: {
            name,
            namespace: LEASE_NS,
            ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata!.uid! }],
          },
          // MicroTime goes on the wire as a string; the typed field is a Date.
          spec: spec as unknown as { renewTime: Date },
        },
      });
    }
  }
}
