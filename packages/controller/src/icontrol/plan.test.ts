import { describe, expect, it } from '@jest/globals';
import type { DesiredPool, DesiredState } from '../model.js';
import type { LivePool, LiveState } from './live.js';
import { asLiveMember, dumpPlan, planIcontrol } from './plan.js';

const svc = { namespace: 'prod', name: 'web' };

function pool(name: string, members: [string, number, boolean?][], extra: Partial<DesiredPool> = {}): DesiredPool {
  return {
    name, service: svc, servicePort: 80, protocol: 'tcp', families: ['IPv4'],
    members: members.map(([address, port, enabled]) => ({ address, port, enabled: enabled ?? true })), ...extra,
  };
}

function desired(...pools: DesiredPool[]): DesiredState {
  return { partition: 'k8s', pools, ignored: [] };
}

function livePool(p: DesiredPool, extra: Partial<LivePool> = {}): LivePool {
  return {
    name: p.name, owned: true, monitor: p.monitor ?? '', loadBalancingMode: p.loadBalancingMode ?? 'round-robin',
    members: p.members.map((m) => asLiveMember(m, 'k8s')), ...extra,
  };
}

function live(pools: LivePool[], extra: Partial<LiveState> = {}): LiveState {
  const addresses = new Set(pools.flatMap((p) => p.members.map((m) => m.address)));
  return {
    partition: 'k8s', pools, virtuals: [],
    nodes: [...addresses].map((address) => ({ name: address, partition: 'k8s', address, owned: true })),
    ...extra,
  };
}

describe('icontrol plan', () => {
  it('nothing to do when BIG-IP already matches', () => {
    const p = pool('web_80_prod', [['192.0.2.10', 61001], ['192.0.2.11', 61002, false]], { monitor: '/Common/http' });
    expect(dumpPlan(planIcontrol(desired(p), live([livePool(p, { monitor: '/Common/http' })])))).toBe('');
  });

  it('creates missing nodes first, then the pool with its members', () => {
    const p = pool('web_80_prod', [['192.0.2.10', 61001], ['2001:db8::1', 61002, false]]);
    expect(dumpPlan(planIcontrol(desired(p), live([])))).toBe(
      ['createNode 192.0.2.10', 'createNode 2001:db8::1', 'createPool web_80_prod monitor=none lb=round-robin [192.0.2.10:61001, 2001:db8::1.61002 disabled]'].join('\n'),
    );
  });

  it('the smallest member change: add, drain, remove; unreferenced own nodes deleted after', () => {
    const before = pool('web_80_prod', [['192.0.2.10', 61001], ['192.0.2.11', 61002], ['192.0.2.12', 61003]]);
    const after = pool('web_80_prod', [['192.0.2.10', 61001], ['192.0.2.11', 61002, false], ['192.0.2.13', 61004]]);
    expect(dumpPlan(planIcontrol(desired(after), live([livePool(before)])))).toBe(
      ['createNode 192.0.2.13', 'addMember web_80_prod 192.0.2.13:61004', 'setMember web_80_prod 192.0.2.11:61002 disabled', 'removeMember web_80_prod 192.0.2.12:61003', 'deleteNode 192.0.2.12'].join('\n'),
    );
  });

  it('changes monitor and load-balancing mode in place', () => {
    const p = pool('web_80_prod', [], { monitor: '/Common/tcp', loadBalancingMode: 'least-connections-member' });
    expect(dumpPlan(planIcontrol(desired(p), live([livePool(pool('web_80_prod', []), { monitor: '/Common/http' })])))).toBe(
      'updatePool web_80_prod monitor=/Common/tcp loadBalancingMode=least-connections-member',
    );
    expect(dumpPlan(planIcontrol(desired(pool('web_80_prod', [])), live([livePool(pool('web_80_prod', []), { monitor: '/Common/http' })])))).toBe('updatePool web_80_prod monitor=none');
  });

  it('deletes only pools it owns; nodes of foreign pools stay', () => {
    const mine = livePool(pool('old_80_prod', [['192.0.2.20', 61005]]));
    const foreign = livePool(pool('hand_made', [['192.0.2.21', 80]]), { owned: false });
    const state = live([mine, foreign]);
    expect(dumpPlan(planIcontrol(desired(), state))).toBe('deletePool old_80_prod\ndeleteNode 192.0.2.20');
    const unreferencedForeignNode = { ...state, nodes: [...state.nodes, { name: '192.0.2.99', partition: 'k8s', address: '192.0.2.99', owned: false }] };
    expect(dumpPlan(planIcontrol(desired(), unreferencedForeignNode))).toBe('deletePool old_80_prod\ndeleteNode 192.0.2.20');
  });

  it('a node still used by a foreign pool is not deleted', () => {
    const mine = livePool(pool('old_80_prod', [['192.0.2.20', 61005]]));
    const foreign = livePool(pool('hand_made', [['192.0.2.20', 80]]), { owned: false });
    expect(dumpPlan(planIcontrol(desired(), live([mine, foreign])))).toBe('deletePool old_80_prod');
  });

  it('adopts a pool of the desired name that it did not create', () => {
    const p = pool('web_80_prod', [['192.0.2.10', 61001]]);
    expect(dumpPlan(planIcontrol(desired(p), live([livePool(p, { owned: false })])))).toBe('updatePool web_80_prod adopt');
  });

  it('manages the virtual server of a pool: create, repair a hand edit, delete when no longer wanted', () => {
    const virtual = { name: 'crd_192_0_2_50_80', address: '192.0.2.50', port: 80, protocol: 'tcp' as const };
    const p = pool('web_80_prod', [], { virtual });
    expect(dumpPlan(planIcontrol(desired(p), live([livePool(p)])))).toBe('createVirtual crd_192_0_2_50_80 192.0.2.50:80/tcp -> web_80_prod');
    const edited = { name: virtual.name, owned: true, address: '192.0.2.50', port: 8080, pool: '/k8s/web_80_prod', protocol: 'tcp' };
    expect(dumpPlan(planIcontrol(desired(p), live([livePool(p)], { virtuals: [edited] })))).toBe('updateVirtual crd_192_0_2_50_80 192.0.2.50:80/tcp -> web_80_prod');
    expect(dumpPlan(planIcontrol(desired(pool('web_80_prod', [])), live([livePool(p)], { virtuals: [edited] })))).toBe('deleteVirtual crd_192_0_2_50_80');
  });

  it('orders deletions of virtuals before pools so a pool in use is never deleted first', () => {
    const p = livePool(pool('old', []));
    const v = { name: 'crd_x', owned: true, address: '192.0.2.50', port: 80, pool: '/k8s/old', protocol: 'tcp' };
    expect(dumpPlan(planIcontrol(desired(), live([p], { virtuals: [v] })))).toBe('deleteVirtual crd_x\ndeletePool old');
  });

  it('does not create a node whose address exists in another partition', () => {
    const p = pool('web', [['192.0.2.10', 61001]]);
    const state = live([], { nodes: [{ name: '192.0.2.10', partition: 'Common', address: '192.0.2.10', owned: false }] });
    expect(dumpPlan(planIcontrol(desired(p), state))).toBe('createPool web monitor=none lb=round-robin [192.0.2.10:61001]');
  });
});
