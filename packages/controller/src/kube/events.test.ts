import { describe, expect, it } from '@jest/globals';
import type { V1ObjectReference } from '@kubernetes/client-node';
import type { EventRecorder, EventType } from '@npl/runtime';
import { ServiceEvents } from './events.js';
import { desiredPool as pool } from '../testing/states.js';
import type { DesiredState } from '../model.js';

class ListRecorder implements EventRecorder {
  readonly lines: string[] = [];
  record(o: V1ObjectReference, type: EventType, reason: string, message: string): void {
    this.lines.push(`${o.namespace}/${o.name} ${type} ${reason}: ${message}`);
  }
}

const state = (members: [string, number, boolean?][]): DesiredState => ({
  partition: 'k8s', pools: [pool('web', members)],
  ignored: [{ service: { namespace: 'prod', name: 'np' }, reason: 'type NodePort is not supported' }],
});
const report = { writes: 1, changes: [], resyncNeeded: false };

describe('Service events', () => {
  it('PoolSynced once per pool change, ServiceIgnored with the reason, PoolSyncFailed with BIG-IP message', () => {
    const rec = new ListRecorder();
    const events = new ServiceEvents(rec);
    events.synced(state([['192.0.2.10', 61001], ['192.0.2.11', 61002, false]]), report);
    events.synced(state([['192.0.2.10', 61001], ['192.0.2.11', 61002, false]]), report);
    events.failed(state([['192.0.2.10', 61001]]), 'BIG-IP POST /x: HTTP 503 (busy): Service Unavailable');
    expect(rec.lines).toEqual([
      'prod/web Normal PoolSynced: pool /k8s/web synced: 2 members (1 draining)',
      'prod/np Warning ServiceIgnored: Service ignored: type NodePort is not supported',
      'prod/np Warning ServiceIgnored: Service ignored: type NodePort is not supported',
      'prod/web Warning PoolSyncFailed: BIG-IP sync failed: BIG-IP POST /x: HTTP 503 (busy): Service Unavailable',
      'prod/np Warning ServiceIgnored: Service ignored: type NodePort is not supported',
    ]);
  });
});
