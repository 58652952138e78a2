/**
 * The Services that opted in to NodePortLocal (annotation exactly "true"), by namespace, kept from
 * the Service informer's events. A Pod reconcile only needs these (selectTargetPorts ignores every
 * other Service), so it no longer scans every Service of the cluster (issue 11: 10,000 Services).
 */
import type { V1Service } from '@kubernetes/client-node';
import { NPL_ENABLED_ANNOTATION_KEY, serviceKey } from '@npl/core';

export class OptedInServices {
  private readonly byNamespace = new Map<string, Map<string, V1Service>>();

  /** Apply an informer event: `svc` undefined = deleted (then `old` names it). */
  update(old: V1Service | undefined, svc: V1Service | undefined): void {
    const either = svc ?? old;
    if (!either) return;
    const ns = either.metadata?.namespace ?? '';
    const key = serviceKey(either);
    if (svc?.metadata?.annotations?.[NPL_ENABLED_ANNOTATION_KEY] === 'true') this.add(ns, key, svc);
    else this.remove(ns, key);
  }

  private add(ns: string, key: string, svc: V1Service): void {
    let services = this.byNamespace.get(ns);
    if (!services) {
      services = new Map<string, V1Service>();
      this.byNamespace.set(ns, services);
    }
    services.set(key, svc);
  }

  private remove(ns: string, key: string): void {
    const services = this.byNamespace.get(ns);
    services?.delete(key);
    if (services?.size === 0) this.byNamespace.delete(ns);
  }

  /** The opted-in Services of `namespace`, in no particular order. */
  list(namespace: string): V1Service[] {
    const services = this.byNamespace.get(namespace);
    return services ? [...services.values()] : [];
  }
}
