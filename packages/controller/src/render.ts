/**
 * `npl-controller render`: Services, Pods and EndpointSlices from YAML/JSON text in, the desired
 * BIG-IP state out (pools and members, or the AS3 declaration), without contacting anything.
 */
import type { KubernetesObject, V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { loadAllYaml } from '@kubernetes/client-node';
import { declarationFor } from './as3/declaration.js';
import type { BackendKind } from './backend/types.js';
import type { ClusterSnapshot } from './desired.js';
import { desiredState } from './desired.js';
import { ControllerError } from './errors.js';
import { dumpDesired } from './model.js';

export interface SourceText {
  readonly name: string;
  readonly text: string;
}

function collect(obj: unknown, into: { services: V1Service[]; pods: V1Pod[]; endpointSlices: V1EndpointSlice[] }): void {
  if (obj === null || typeof obj !== 'object') return;
  const o = obj as KubernetesObject & { items?: unknown };
  if (Array.isArray(o.items)) {
    for (const item of o.items) collect(item, into);
    return;
  }
  if (o.kind === 'Service') into.services.push(o);
  else if (o.kind === 'Pod') into.pods.push(o);
  else if (o.kind === 'EndpointSlice') into.endpointSlices.push(o as V1EndpointSlice);
}

/** The Services, Pods and EndpointSlices in the texts (documents, `List`s); other kinds are skipped. */
export function readObjects(sources: readonly SourceText[]): ClusterSnapshot {
  const into = { services: [] as V1Service[], pods: [] as V1Pod[], endpointSlices: [] as V1EndpointSlice[] };
  for (const source of sources) {
    let docs: unknown[];
    try {
      docs = loadAllYaml(source.text) as unknown[];
    } catch (err) {
      throw new ControllerError('CTL_RENDER_INPUT_INVALID', `${source.name}: not YAML or JSON Kubernetes objects: ${(err as Error).message}`, { cause: err });
    }
    for (const doc of docs) collect(doc, into);
  }
  for (const list of [into.services, into.pods, into.endpointSlices]) {
    for (const o of list) if (o.metadata) o.metadata.namespace ??= 'default';
  }
  return into;
}

export interface RenderOptions {
  readonly backend: BackendKind;
  readonly partition: string;
  readonly namespaces?: readonly string[];
}

/** Pools and members as text (icontrol), or the AS3 declaration as JSON (as3). */
export function render(snapshot: ClusterSnapshot, options: RenderOptions): string {
  const state = desiredState(snapshot, { partition: options.partition, ...(options.namespaces ? { namespaces: new Set(options.namespaces) } : {}) });
  if (options.backend === 'as3') return `${JSON.stringify(declarationFor(state), null, 2)}\n`;
  const text = dumpDesired(state);
  return text === '' ? '' : `${text}\n`;
}
