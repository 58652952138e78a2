/**
 * A Node without kubelet for benchmarks that need more Pods, or Pods faster, than the local
 * cluster's node stand-in can run (bench/memory.ts, bench/churn.ts). The agent serves the Node
 * (`--node-name`; InternalIP = a real node's IP, so its sockets and nftables live in that node's
 * namespace); the bench binds Pods to it (tolerating every taint, since the node controller taints a
 * Node whose kubelet never reports) and writes their status (Running, one IP from 198.19.128.0/17)
 * as a kubelet would. The API server, watches, PATCHes, nftables and sockets stay real.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Cluster, ClusterNode } from '@npl/cluster';
import { core, NS } from '../e2e/harness.js';

export const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Pod IPs for kubelet-less Pods: index i (0 ≤ i < 32,000) → 198.19.128.2 … (250 per /24). */
export function kubeletlessPodIP(i: number): string {
  if (!(Number.isInteger(i) && i >= 0 && i < 128 * 250)) throw new Error(`kubelet-less pod IP index ${i}: expected an integer in [0, 32000)`);
  return `198.19.${128 + Math.floor(i / 250)}.${(i % 250) + 2}`;
}

/** Retries `fn` up to 5 times with a growing pause (the API server of the 2-core machine sheds load). */
export async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 5) throw err;
      await sleep(300 * (attempt + 1));
    }
  }
}

/** Creates Node `name` whose InternalIP is `host`'s (the agent started with `--node-name name` on `host`). */
export async function createKubeletlessNode(cluster: Cluster, name: string, host: ClusterNode, labels: Readonly<Record<string, string>>): Promise<void> {
  const api = core(cluster);
  await api.createNode({ body: { metadata: { name, labels: { ...labels } } } });
  await api.patchNodeStatus({ name, body: { status: { addresses: [{ type: 'InternalIP', address: host.ip }] } } }, MERGE);
}

/** A Pod bound to kubelet-less Node `node` (tolerating its taints), one container serving `port`. */
export function kubeletlessPod(name: string, node: string, labels: Readonly<Record<string, string>>, port: number): V1Pod {
  return {
    metadata: { name, labels: { ...labels } },
    spec: { nodeName: node, tolerations: [{ operator: 'Exists' }], containers: [{ name: 'server', image: 'npl-e2e/server:1', ports: [{ containerPort: port }] }] },
  };
}

/** Writes what a kubelet would once the Pod runs: phase Running, `ip`, the host's IP. */
export async function writeRunningStatus(cluster: Cluster, name: string, ip: string, host: ClusterNode): Promise<void> {
  await core(cluster).patchNamespacedPodStatus({ namespace: NS, name, body: { status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: host.ip } } }, MERGE);
}

/** Pod IPs for churned kubelet-less Pods: each Pod gets the longest-freed IP, else a new one. */
export class KubeletlessIPs {
  private readonly free: number[] = [];
  private readonly byPod = new Map<string, number>();
  private next = 0;

  /** The IP of Pod `name` (allocated on first call). */
  take(name: string): string {
    let i = this.byPod.get(name);
    if (i === undefined) {
      i = this.free.length > 0 ? this.free.shift()! : this.next++;
      this.byPod.set(name, i);
    }
    return kubeletlessPodIP(i);
  }

  /** Frees the IP of Pod `name` (gone); no-op when it had none. */
  release(name: string): void {
    const i = this.byPod.get(name);
    if (i === undefined) return;
    this.byPod.delete(name);
    this.free.push(i);
  }

  /** Distinct IPs handed out so far. */
  get used(): number {
    return this.next;
  }
}
