import { describe, expect, it } from '@jest/globals';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { NPL_ANNOTATION_KEY, NPL_ENABLED_ANNOTATION_KEY } from '@npl/core';
import { reconcileInputsEqual, SettledAnnotations } from './pod-echo.js';
import { OptedInServices } from './service-index.js';

const VALUE = '[{"podPort":8080,"nodeIP":"198.18.0.10","nodePort":61000,"protocol":"tcp","ipFamily":"IPv4"}]';

function pod(over: { annotation?: string; labels?: Record<string, string>; ip?: string; phase?: string; port?: number; rv?: string; ready?: string } = {}): V1Pod {
  return {
    metadata: {
      namespace: 'default',
      name: 'web-1',
      resourceVersion: over.rv ?? '1',
      labels: over.labels ?? { app: 'web' },
      ...(over.annotation !== undefined ? { annotations: { [NPL_ANNOTATION_KEY]: over.annotation, other: 'x' } } : {}),
    },
    spec: { nodeName: 'node-a', containers: [{ name: 'c', ports: [{ containerPort: over.port ?? 8080, protocol: 'TCP' }] }] },
    status: { phase: over.phase ?? 'Running', podIPs: [{ ip: over.ip ?? '198.18.1.5' }], conditions: [{ type: 'Ready', status: over.ready ?? 'True' }] },
  };
}

describe('reconcileInputsEqual', () => {
  it('ignores the resourceVersion, conditions and other annotations', () => {
    expect(reconcileInputsEqual(pod(), pod({ rv: '2', ready: 'False', annotation: VALUE }))).toBe(true);
  });

  it.each([
    ['labels', pod({ labels: { app: 'db' } })],
    ['an added label', pod({ labels: { app: 'web', tier: 'x' } })],
    ['the pod IP', pod({ ip: '198.18.1.6' })],
    ['the phase', pod({ phase: 'Succeeded' })],
    ['a container port', pod({ port: 9090 })],
  ])('sees a change of %s', (_what, changed) => {
    expect(reconcileInputsEqual(pod(), changed)).toBe(false);
  });

  it('sees the node, a named port and a hostPort', () => {
    const base = pod();
    expect(reconcileInputsEqual(base, { ...base, spec: { ...base.spec!, nodeName: 'node-b' } })).toBe(false);
    const named = pod();
    named.spec!.containers[0]!.ports![0]!.name = 'http';
    expect(reconcileInputsEqual(base, named)).toBe(false);
    const host = pod();
    host.spec!.containers[0]!.ports![0]!.hostPort = 8080;
    expect(reconcileInputsEqual(base, host)).toBe(false);
  });
});

describe('SettledAnnotations', () => {
  it('skips the echo of the value written, and nothing before a reconcile settled it', () => {
    const s = new SettledAnnotations();
    expect(s.isNoop('default/web-1', pod({ annotation: VALUE, rv: '2' }), pod())).toBe(false);
    s.settle('default/web-1', VALUE);
    expect(s.isNoop('default/web-1', pod({ annotation: VALUE, rv: '2' }), pod())).toBe(true);
    // A later status-only update with the settled annotation is a no-op too.
    expect(s.isNoop('default/web-1', pod({ annotation: VALUE, rv: '3', ready: 'False' }), pod({ annotation: VALUE, rv: '2' }))).toBe(true);
  });

  it('never skips a user edit of the annotation, its removal, or a change of reconcile inputs', () => {
    const s = new SettledAnnotations();
    s.settle('default/web-1', VALUE);
    const old = pod({ annotation: VALUE });
    expect(s.isNoop('default/web-1', pod({ annotation: 'garbage', rv: '2' }), old)).toBe(false);
    expect(s.isNoop('default/web-1', pod({ rv: '2' }), old)).toBe(false);
    expect(s.isNoop('default/web-1', pod({ annotation: VALUE, labels: { app: 'db' } }), old)).toBe(false);
  });

  it('treats a removed annotation as the settled null, and forgets', () => {
    const s = new SettledAnnotations();
    s.settle('default/web-1', null);
    expect(s.isNoop('default/web-1', pod({ rv: '2' }), pod({ annotation: VALUE }))).toBe(true);
    s.forget('default/web-1');
    expect(s.size).toBe(0);
    expect(s.isNoop('default/web-1', pod({ rv: '3' }), pod({ rv: '2' }))).toBe(false);
  });
});

function svc(name: string, ns: string, enabled: string | undefined): V1Service {
  return { metadata: { namespace: ns, name, ...(enabled !== undefined ? { annotations: { [NPL_ENABLED_ANNOTATION_KEY]: enabled } } : {}) }, spec: { selector: { app: 'web' } } };
}

describe('OptedInServices', () => {
  it('holds the Services annotated exactly "true", by namespace, through adds, updates and deletes', () => {
    const idx = new OptedInServices();
    idx.update(undefined, svc('a', 'default', 'true'));
    idx.update(undefined, svc('b', 'default', 'True'));
    idx.update(undefined, svc('c', 'other', 'true'));
    idx.update(undefined, svc('d', 'default', undefined));
    expect(idx.list('default').map((s) => s.metadata?.name)).toEqual(['a']);
    expect(idx.list('other').map((s) => s.metadata?.name)).toEqual(['c']);
    idx.update(svc('b', 'default', 'True'), svc('b', 'default', 'true'));
    expect(idx.list('default').map((s) => s.metadata?.name).sort()).toEqual(['a', 'b']);
    idx.update(svc('a', 'default', 'true'), svc('a', 'default', 'false'));
    expect(idx.list('default').map((s) => s.metadata?.name)).toEqual(['b']);
    idx.update(svc('c', 'other', 'true'), undefined);
    expect(idx.list('other')).toEqual([]);
    expect(idx.list('nowhere')).toEqual([]);
  });

  it('keeps the newest object of an updated Service', () => {
    const idx = new OptedInServices();
    idx.update(undefined, svc('a', 'default', 'true'));
    const updated = { ...svc('a', 'default', 'true'), spec: { selector: { app: 'db' } } };
    idx.update(svc('a', 'default', 'true'), updated);
    expect(idx.list('default')).toEqual([updated]);
  });
});
