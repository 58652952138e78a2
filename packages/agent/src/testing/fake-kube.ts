/**
 * In-memory stand-ins for the agent's two Kubernetes writes, for wiring tests without a cluster:
 * annotation patches applied to the Pods of a FakeListWatch (so the informer sees them, as with the
 * API server), and Events kept in a list.
 */
import type { V1ObjectReference, V1Pod } from '@kubernetes/client-node';
import { NPL_ANNOTATION_KEY } from '@npl/core';
import type { EventRecorder, EventType } from '@npl/runtime';
import type { FakeListWatch } from '@npl/runtime/testing';
import type { AnnotationWriter } from '../kube/annotation-writer.js';

export class FakeAnnotationWriter implements AnnotationWriter {
  /** Patches applied, in order: `ns/name=value` or `ns/name=null`. */
  readonly patches: string[] = [];
  private readonly pods: FakeListWatch<V1Pod>;

  constructor(pods: FakeListWatch<V1Pod>) {
    this.pods = pods;
  }

  write(namespace: string, name: string, value: string | null): Promise<boolean> {
    const pod = this.pods.get(`${namespace}/${name}`);
    if (!pod) return Promise.resolve(false);
    const annotations = { ...pod.metadata?.annotations };
    if (value === null) delete annotations[NPL_ANNOTATION_KEY];
    else annotations[NPL_ANNOTATION_KEY] = value;
    this.pods.upsert({ ...pod, metadata: { ...pod.metadata, annotations } });
    this.patches.push(`${namespace}/${name}=${value}`);
    return Promise.resolve(true);
  }

  /** The Pod's current annotation value. */
  value(namespace: string, name: string): string | undefined {
    return this.pods.get(`${namespace}/${name}`)?.metadata?.annotations?.[NPL_ANNOTATION_KEY];
  }
}

export class FakeEventRecorder implements EventRecorder {
  readonly events: { object: string; type: EventType; reason: string; message: string }[] = [];

  record(object: V1ObjectReference, type: EventType, reason: string, message: string): void {
    this.events.push({ object: `${object.kind}/${object.namespace ? `${object.namespace}/` : ''}${object.name}`, type, reason, message });
  }
}
