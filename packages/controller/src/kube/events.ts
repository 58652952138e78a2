/**
 * Kubernetes Events on Services: pool synced, sync failed (with BIG-IP's message), Service ignored
 * and why. Sent through @npl/runtime's EventRecorder.
 */
import type { V1ObjectReference } from '@kubernetes/client-node';
import type { EventRecorder } from '@npl/runtime';
import type { SyncReport } from '../backend/types.js';
import type { DesiredPool, DesiredState, ServiceRef } from '../model.js';

export const EVENT_REASONS = {
  synced: 'PoolSynced',
  failed: 'PoolSyncFailed',
  ignored: 'ServiceIgnored',
} as const;

function serviceObject(ref: ServiceRef): V1ObjectReference {
  return { kind: 'Service', apiVersion: 'v1', namespace: ref.namespace, name: ref.name, ...(ref.uid ? { uid: ref.uid } : {}) };
}

function poolText(pool: DesiredPool, partition: string): string {
  const disabled = pool.members.filter((m) => !m.enabled).length;
  return `pool /${partition}/${pool.name} synced: ${pool.members.length} members${disabled ? ` (${disabled} draining)` : ''}`;
}

/** Turns sync outcomes into Events on the Services concerned. */
export class ServiceEvents {
  private readonly recorder: EventRecorder;
  /** Pool content last reported as synced, by pool name. */
  private readonly reported = new Map<string, string>();

  constructor(recorder: EventRecorder) {
    this.recorder = recorder;
  }

  /** After a successful sync: one PoolSynced per pool whose content changed since last reported. */
  synced(desired: DesiredState, _report: SyncReport): void {
    for (const pool of desired.pools) {
      const text = JSON.stringify(pool);
      if (this.reported.get(pool.name) === text) continue;
      this.reported.set(pool.name, text);
      this.recorder.record(serviceObject(pool.service), 'Normal', EVENT_REASONS.synced, poolText(pool, desired.partition));
    }
    const names = new Set(desired.pools.map((p) => p.name));
    for (const name of this.reported.keys()) if (!names.has(name)) this.reported.delete(name);
    this.ignored(desired);
  }

  /** After a failed sync: a Warning with BIG-IP's message on every Service with a pool. */
  failed(desired: DesiredState, message: string): void {
    const services = new Map(desired.pools.map((p) => [`${p.service.namespace}/${p.service.name}`, p.service]));
    for (const ref of services.values()) this.recorder.record(serviceObject(ref), 'Warning', EVENT_REASONS.failed, `BIG-IP sync failed: ${message}`);
    this.ignored(desired);
  }

  private ignored(desired: DesiredState): void {
    for (const i of desired.ignored) this.recorder.record(serviceObject(i.service), 'Warning', EVENT_REASONS.ignored, `Service ignored: ${i.reason}`);
  }
}
