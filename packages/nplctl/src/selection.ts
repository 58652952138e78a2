/**
 * Which Services put a Pod under NodePortLocal, read as npl-agent reads them (Antrea's rules): a
 * Service in the Pod's namespace annotated `nodeportlocal.antrea.io/enabled: "true"`, not of type
 * NodePort or ExternalName, whose non-empty selector matches the Pod's labels. Pure.
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { NPL_ENABLED_ANNOTATION_KEY } from '@npl/core/annotation';

/** `namespace/name` of any object. */
export function objectKey(o: { metadata?: { namespace?: string; name?: string } }): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** True when the Service opts in and can have an effect (type and selector). */
export function isNplService(svc: V1Service): boolean {
  if (svc.metadata?.annotations?.[NPL_ENABLED_ANNOTATION_KEY] !== 'true') return false;
  const type = svc.spec?.type ?? 'ClusterIP';
  return type !== 'NodePort' && type !== 'ExternalName' && Object.keys(svc.spec?.selector ?? {}).length > 0;
}

/** True when the Service's selector (non-empty) matches the Pod's labels, in the same namespace. */
export function selects(svc: V1Service, pod: V1Pod): boolean {
  const selector = svc.spec?.selector ?? {};
  if (Object.keys(selector).length === 0 || svc.metadata?.namespace !== pod.metadata?.namespace) return false;
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** NodePortLocal Services selecting the Pod, as `namespace/name`, sorted. */
export function nplServicesOf(pod: V1Pod, services: readonly V1Service[]): string[] {
  return services
    .filter((s) => isNplService(s) && selects(s, pod))
    .map(objectKey)
    .sort();
}

/**
 * The pod ports (`port/protocol`, protocol lower case) a Service sends to on this Pod: each Service
 * port's targetPort, a name resolved through the Pod's container ports, the port itself when
 * targetPort is unset. SCTP ports and names the Pod does not declare give nothing.
 */
export function servicePodPorts(svc: V1Service, pod: V1Pod): Set<string> {
  const named = namedPorts(pod);
  const out = new Set<string>();
  for (const p of svc.spec?.ports ?? []) {
    const protocol = (p.protocol ?? 'TCP').toLowerCase();
    if (protocol !== 'tcp' && protocol !== 'udp') continue;
    const port = targetPodPort(p.targetPort ?? p.port, protocol, named);
    if (port !== undefined) out.add(`${port}/${protocol}`);
  }
  return out;
}

/** `name/protocol` -> container port of every named container port of the Pod. */
function namedPorts(pod: V1Pod): Map<string, number> {
  const named = new Map<string, number>();
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name) named.set(`${p.name}/${(p.protocol ?? 'TCP').toLowerCase()}`, p.containerPort);
  }
  return named;
}

function targetPodPort(target: number | string, protocol: string, named: ReadonlyMap<string, number>): number | undefined {
  if (typeof target === 'number') return target;
  return /^\d+$/.test(target) ? Number(target) : named.get(`${target}/${protocol}`);
}
