/**
 * Builders of Kubernetes objects for tests: a Service, a Pod with an NPL annotation, an EndpointSlice.
 */
import type { V1EndpointSlice, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';

export interface ServiceOptions {
  namespace?: string;
  type?: string;
  selector?: Record<string, string>;
  ports?: V1ServicePort[];
  annotations?: Record<string, string>;
  enabled?: string | null;
  ipFamilies?: string[];
}

export function service(name: string, o: ServiceOptions = {}): V1Service {
  const annotations = { ...(o.enabled === null ? {} : { 'nodeportlocal.antrea.io/enabled': o.enabled ?? 'true' }), ...o.annotations };
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: o.namespace ?? 'prod', uid: `uid-${name}`, annotations },
    spec: {
      type: o.type ?? 'ClusterIP',
      selector: o.selector ?? { app: name },
      ports: o.ports ?? [{ port: 8080, targetPort: 8080, protocol: 'TCP' }],
      ...(o.ipFamilies ? { ipFamilies: o.ipFamilies } : {}),
    },
  };
}

export interface Mapping {
  podPort: number;
  nodeIP: string;
  nodePort: number;
  protocol?: string;
  ipFamily?: string;
}

export interface PodOptions {
  namespace?: string;
  labels?: Record<string, string>;
  mappings?: Mapping[];
  annotation?: string;
  containerPorts?: { name: string; containerPort: number; protocol?: string }[];
  deleting?: boolean;
}

export function pod(name: string, o: PodOptions = {}): V1Pod {
  const annotation = o.annotation ?? (o.mappings
    ? JSON.stringify(o.mappings.map((m) => ({ protocol: 'tcp', ipFamily: m.nodeIP.includes(':') ? 'IPv6' : 'IPv4', ...m })))
    : undefined);
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: o.namespace ?? 'prod', labels: o.labels ?? { app: 'web' },
      ...(annotation !== undefined ? { annotations: { 'nodeportlocal.antrea.io': annotation } } : {}),
      ...(o.deleting ? { deletionTimestamp: new Date(0) } : {}),
    },
    spec: { containers: [{ name: 'main', ports: o.containerPorts ?? [] }] },
  };
}

export interface EndpointState {
  pod: string;
  ready?: boolean;
  terminating?: boolean;
}

export function endpointSlice(serviceName: string, endpoints: EndpointState[], namespace = 'prod', suffix = 'a'): V1EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name: `${serviceName}-${suffix}`, namespace, labels: { 'kubernetes.io/service-name': serviceName } },
    endpoints: endpoints.map((e, i) => ({
      addresses: [`198.18.1.${i + 1}`],
      conditions: { ...(e.ready !== undefined ? { ready: e.ready } : {}), ...(e.terminating !== undefined ? { terminating: e.terminating } : {}) },
      targetRef: { kind: 'Pod', name: e.pod, namespace },
    })),
  };
}
