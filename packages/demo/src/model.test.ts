import { describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import {
  expectedMembers, initialState, isComplete, memberName, memberOwner, observeScales, podView, poolMatchesPods, RECENT_MS,
  recordRequest, withBigip, withBigipError, withDeployment, withoutPod, withPod, withScale, type DemoState,
} from './model.js';

function pod(name: string, opts: { node?: string; nodePort?: number; ready?: boolean; deleting?: boolean; annotation?: string } = {}): V1Pod {
  const annotation = opts.annotation ?? (opts.nodePort ? JSON.stringify([{ podPort: 80, nodeIP: '198.18.1.10', nodePort: opts.nodePort, protocol: 'tcp', ipFamily: 'IPv4' }]) : undefined);
  return {
    metadata: { name, ...(annotation ? { annotations: { 'nodeportlocal.antrea.io': annotation } } : {}), ...(opts.deleting ? { deletionTimestamp: new Date(0) } : {}) },
    spec: { nodeName: opts.node ?? 'node-0', containers: [] },
    status: { phase: 'Running', podIP: '198.19.16.1', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

const base = (): DemoState => initialState('web', 'default', '198.18.1.1:8080', 80);

function members(...ports: number[]) {
  return { fullPath: '/k8s/web_80_default', members: ports.map((p) => ({ name: `198.18.1.10:${p}`, session: 'user-enabled', state: 'unchecked' })) };
}

/** Two mapped pods, a matching pool, desired 2. */
function settled(): DemoState {
  let s = withDeployment(base(), { spec: { replicas: 2, selector: {}, template: {} } });
  s = withPod(s, podView(pod('web-b', { nodePort: 61001 })));
  s = withPod(s, podView(pod('web-a', { nodePort: 61000 })));
  return withBigip(s, members(61000, 61001), { fullPath: '/k8s/vs', destination: '198.18.1.1:8080', pool: '/k8s/web_80_default', enabled: true });
}

describe('podView', () => {
  it('reads node, pod IP, readiness and the NPL mappings of a pod', () => {
    expect(podView(pod('web-a', { node: 'node-1', nodePort: 61000 }))).toEqual({
      name: 'web-a', node: 'node-1', podIP: '198.19.16.1', phase: 'Running', ready: true, terminating: false,
      mappings: [{ podPort: 80, nodeIP: '198.18.1.10', nodePort: 61000, protocol: 'tcp' }],
    });
  });

  it('shows an unreadable annotation instead of throwing', () => {
    const v = podView(pod('web-a', { annotation: '{not json' }));
    expect(v.mappings).toEqual([]);
    expect(v.annotationError).toMatch(/nodeportlocal\.antrea\.io/);
  });

  it('marks a pod being deleted as terminating', () => {
    expect(podView(pod('web-a', { deleting: true })).terminating).toBe(true);
  });
});

describe('pods, pool and members', () => {
  it('keeps pods sorted by name and replaces one by name', () => {
    let s = settled();
    expect(s.pods.map((p) => p.name)).toEqual(['web-a', 'web-b']);
    s = withPod(s, podView(pod('web-a', { nodePort: 61005 })));
    expect(s.pods.map((p) => p.mappings[0]!.nodePort)).toEqual([61005, 61001]);
    expect(withoutPod(s, 'web-a').pods.map((p) => p.name)).toEqual(['web-b']);
  });

  it('names members as BIG-IP does: addr:port for IPv4, addr.port for IPv6', () => {
    expect(memberName({ podPort: 80, nodeIP: '198.18.1.10', nodePort: 61000, protocol: 'tcp' })).toBe('198.18.1.10:61000');
    expect(memberName({ podPort: 80, nodeIP: '2001:db8:18:1::10', nodePort: 61000, protocol: 'tcp' })).toBe('2001:db8:18:1::10.61000');
  });

  it('matches the pool against the live pods, terminating pods excluded', () => {
    const s = settled();
    expect(expectedMembers(s)).toEqual(['198.18.1.10:61000', '198.18.1.10:61001']);
    expect(poolMatchesPods(s)).toBe(true);
    expect(memberOwner(s, '198.18.1.10:61001')).toBe('web-b');
    const deleting = withPod(s, podView(pod('web-b', { nodePort: 61001, deleting: true })));
    expect(poolMatchesPods(deleting)).toBe(false);
    expect(poolMatchesPods(withBigip(deleting, members(61000), undefined))).toBe(true);
  });

  it('keeps the last BIG-IP view on a read error and clears the error on the next read', () => {
    const failed = withBigipError(settled(), 'ECONNREFUSED');
    expect(failed.pool?.members).toHaveLength(2);
    expect(failed.bigipError).toBe('ECONNREFUSED');
    expect(withBigip(failed, undefined, undefined)).not.toHaveProperty('bigipError');
  });
});

describe('requests and completeness', () => {
  it('tallies answers per pod and failures, keeping only the recent window', () => {
    let s = recordRequest(settled(), { at: 0, pod: 'web-a' });
    s = recordRequest(s, { at: 100, error: 'ECONNRESET' });
    s = recordRequest(s, { at: RECENT_MS + 50, pod: 'web-b' });
    expect(s.requests).toMatchObject({ ok: 2, failed: 1, byPod: { 'web-a': 1, 'web-b': 1 }, lastError: 'ECONNRESET' });
    expect(s.requests.recent).toEqual([{ at: 100, error: 'ECONNRESET' }, { at: RECENT_MS + 50, pod: 'web-b' }]);
  });

  it('is complete once every desired pod is mapped, in the pool and answered', () => {
    let s = settled();
    expect(isComplete(s)).toBe(false);
    s = recordRequest(s, { at: 1, pod: 'web-a' });
    expect(isComplete(s)).toBe(false);
    s = recordRequest(s, { at: 2, pod: 'web-b' });
    expect(isComplete(s)).toBe(true);
    expect(isComplete(withDeployment(s, { spec: { replicas: 3, selector: {}, template: {} } }))).toBe(false);
  });
});

describe('observeScales', () => {
  it('records when the display first showed the pods, then the pool, then every pod answering', () => {
    let s = withScale(settled(), 3, 1_000);
    s = withDeployment(s, { spec: { replicas: 3, selector: {}, template: {} } });
    s = observeScales(s, 1_100);
    expect(s.scales).toEqual([{ replicas: 3, requestedAt: 1_000 }]);
    s = observeScales(withPod(s, podView(pod('web-c', { nodePort: 61002 }))), 1_400);
    expect(s.scales[0]).toEqual({ replicas: 3, requestedAt: 1_000, podsAt: 1_400 });
    s = observeScales(withBigip(s, members(61000, 61001, 61002), undefined), 1_700);
    expect(s.scales[0]?.poolAt).toBe(1_700);
    for (const [at, p] of [[1_800, 'web-a'], [1_900, 'web-b']] as const) s = recordRequest(s, { at, pod: p });
    expect(observeScales(s, 1_950).scales[0]?.answeredAt).toBeUndefined();
    s = observeScales(recordRequest(s, { at: 2_000, pod: 'web-c' }), 2_050);
    expect(s.scales[0]).toEqual({ replicas: 3, requestedAt: 1_000, podsAt: 1_400, poolAt: 1_700, answeredAt: 2_050 });
    expect(observeScales(s, 9_000).scales[0]?.answeredAt).toBe(2_050);
  });

  it('does not count answers from before the scale', () => {
    let s = recordRequest(recordRequest(settled(), { at: 10, pod: 'web-a' }), { at: 20, pod: 'web-b' });
    s = observeScales(withScale(s, 2, 500), 600);
    expect(s.scales[0]).toEqual({ replicas: 2, requestedAt: 500, podsAt: 600, poolAt: 600 });
  });
});
