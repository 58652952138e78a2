/**
 * Which Pod updates can skip a reconcile (issue 11). Every annotation PATCH comes back as a watch
 * update of the same Pod; reconciling it again costs a full plan and changes nothing. Level-based
 * correctness is kept by a narrow rule: an update is skipped only when every field a reconcile reads
 * is unchanged from the previous cached version AND the annotation is exactly the value the last
 * successful reconcile of that Pod left (wrote, or found correct). A user's edit of the annotation
 * therefore always reconciles (and is corrected); so does any change of labels, IPs, phase, node or
 * container ports. Pure apart from the map of settled values.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { nplAnnotationOf } from '@npl/core';

function recordsEqual(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>> | undefined): boolean {
  if (a === b) return true;
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => Object.hasOwn(b ?? {}, k) && a?.[k] === b?.[k]);
}

function podIPsEqual(a: V1Pod, b: V1Pod): boolean {
  const ia = a.status?.podIPs ?? [];
  const ib = b.status?.podIPs ?? [];
  return ia.length === ib.length && ia.every((x, i) => x.ip === ib[i]?.ip);
}

function containerPortsEqual(a: readonly V1Container[] | undefined, b: readonly V1Container[] | undefined): boolean {
  const ca = a ?? [];
  const cb = b ?? [];
  if (ca.length !== cb.length) return false;
  return ca.every((c, i) => {
    const pa = c.ports ?? [];
    const pb = cb[i]?.ports ?? [];
    return (
      pa.length === pb.length &&
      pa.every((p, j) => {
        const q = pb[j];
        return q !== undefined && p.containerPort === q.containerPort && p.name === q.name && p.protocol === q.protocol && p.hostPort === q.hostPort;
      })
    );
  });
}

/**
 * True when `a` and `b` agree on everything a Pod reconcile reads apart from the annotation:
 * node, namespace and name, labels, phase, `status.podIPs`, and the containers' ports (name,
 * number, protocol, hostPort). Anything else (conditions, resourceVersion, managedFields) is noise.
 */
export function reconcileInputsEqual(a: V1Pod, b: V1Pod): boolean {
  return metadataEqual(a, b) && a.spec?.nodeName === b.spec?.nodeName && a.status?.phase === b.status?.phase && podIPsEqual(a, b) && containerPortsEqual(a.spec?.containers, b.spec?.containers);
}

function metadataEqual(a: V1Pod, b: V1Pod): boolean {
  const [ma, mb] = [a.metadata ?? {}, b.metadata ?? {}];
  return ma.namespace === mb.namespace && ma.name === mb.name && recordsEqual(ma.labels, mb.labels);
}

/** Per Pod key, the annotation value (null: absent) the last successful reconcile left in place. */
export class SettledAnnotations {
  private readonly settled = new Map<string, string | null>();

  /** Record `value` for `key`: call before the PATCH that writes it, or after a reconcile that found it correct. */
  settle(key: string, value: string | null): void {
    this.settled.set(key, value);
  }

  /** Forget `key` (the Pod is gone, or its reconcile failed: its next update must reconcile). */
  forget(key: string): void {
    this.settled.delete(key);
  }

  /** Number of Pods remembered (for tests and metrics). */
  get size(): number {
    return this.settled.size;
  }

  /**
   * True when the update `old` -> `pod` of Pod `key` needs no reconcile: the reconcile inputs are
   * unchanged and the annotation is the settled value (typically the echo of our own PATCH).
   */
  isNoop(key: string, pod: V1Pod, old: V1Pod): boolean {
    if (!this.settled.has(key)) return false;
    if ((nplAnnotationOf(pod) ?? null) !== this.settled.get(key)) return false;
    return reconcileInputsEqual(old, pod);
  }
}
