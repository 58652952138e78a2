/**
 * What the agent's informers keep of each object (issue 11, memory): only the fields a reconcile,
 * the start-up restore, Events or the health checks read. A Pod or Service from the API server
 * carries managedFields, conditions, container statuses, volumes, env, and annotations such as
 * kubectl's last-applied-configuration — several KiB each, multiplied by 10,000 Services.
 * The slim copy keeps `resourceVersion` (the informer's relist diff) and the uid (Events).
 *
 * Contract for readers: a cached Pod has metadata {name, namespace, uid, resourceVersion, labels,
 * annotations: only nodeportlocal.antrea.io}, spec {nodeName, containers[].name and .ports},
 * status {phase, podIP, podIPs}; a cached Service has metadata {name, namespace, uid,
 * resourceVersion, annotations: only nodeportlocal.antrea.io/enabled}, and only when that annotation
 * is "true" (every agent code path ignores the others' specs: most of a cluster's Services never opt
 * in) spec {type, selector, ports (name, port, targetPort, protocol), ipFamilies, ipFamilyPolicy}.
 * Code that needs more must add it here.
 */
import type { KubernetesObject, V1ObjectMeta, V1Pod, V1Service } from '@kubernetes/client-node';
import { NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY } from '@npl/core';
import type { ListWatchSource } from '@npl/runtime';

function slimMeta(m: V1ObjectMeta | undefined, annotationKey: string): V1ObjectMeta {
  const out: V1ObjectMeta = {};
  if (m?.name !== undefined) out.name = m.name;
  if (m?.namespace !== undefined) out.namespace = m.namespace;
  if (m?.uid !== undefined) out.uid = m.uid;
  if (m?.resourceVersion !== undefined) out.resourceVersion = m.resourceVersion;
  const value = m?.annotations?.[annotationKey];
  if (value !== undefined) out.annotations = { [annotationKey]: value };
  return out;
}

export function slimPod(pod: V1Pod): V1Pod {
  const meta = slimMeta(pod.metadata, NPL_ANNOTATION_KEY);
  if (pod.metadata?.labels) meta.labels = pod.metadata.labels;
  const out: V1Pod = { metadata: meta };
  if (pod.spec) {
    out.spec = {
      ...(pod.spec.nodeName !== undefined ? { nodeName: pod.spec.nodeName } : {}),
      containers: (pod.spec.containers ?? []).map((c) => ({
        name: c.name,
        ...(c.ports ? { ports: c.ports.map((p) => ({ containerPort: p.containerPort, ...(p.name !== undefined ? { name: p.name } : {}), ...(p.protocol !== undefined ? { protocol: p.protocol } : {}), ...(p.hostPort !== undefined ? { hostPort: p.hostPort } : {}) })) } : {}),
      })),
    };
  }
  if (pod.status) {
    const { phase, podIP, podIPs } = pod.status;
    out.status = {
      ...(phase !== undefined ? { phase } : {}),
      ...(podIP !== undefined ? { podIP } : {}),
      ...(podIPs !== undefined ? { podIPs: podIPs.map((p) => ({ ip: p.ip })) } : {}),
    };
  }
  return out;
}

export function slimService(svc: V1Service): V1Service {
  const out: V1Service = { metadata: slimMeta(svc.metadata, NPL_ENABLED_ANNOTATION_KEY) };
  if (svc.spec && out.metadata?.annotations?.[NPL_ENABLED_ANNOTATION_KEY] === 'true') {
    const { type, selector, ports, ipFamilies, ipFamilyPolicy } = svc.spec;
    out.spec = {
      ...(type !== undefined ? { type } : {}),
      ...(selector !== undefined ? { selector } : {}),
      ...(ports !== undefined
        ? { ports: ports.map((p) => ({ port: p.port, ...(p.name !== undefined ? { name: p.name } : {}), ...(p.targetPort !== undefined ? { targetPort: p.targetPort } : {}), ...(p.protocol !== undefined ? { protocol: p.protocol } : {}) })) }
        : {}),
      ...(ipFamilies !== undefined ? { ipFamilies } : {}),
      ...(ipFamilyPolicy !== undefined ? { ipFamilyPolicy } : {}),
    };
  }
  return out;
}

/** `source` with every listed and watched object passed through `slim` before the informer caches it. */
export function slimSource<T extends KubernetesObject>(source: ListWatchSource<T>, slim: (obj: T) => T): ListWatchSource<T> {
  return {
    async list() {
      const res = await source.list();
      return { items: res.items.map(slim), resourceVersion: res.resourceVersion };
    },
    watch(resourceVersion, onEvent, onDone) {
      // ERROR events carry a Status, not a T: passed through untouched (the informer reads its code).
      return source.watch(resourceVersion, (type, obj) => onEvent(type, type === 'ERROR' ? obj : slim(obj)), onDone);
    },
  };
}
