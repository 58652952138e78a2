import { afterEach, describe, expect, it } from '@jest/globals';
import type { EmulatorRig } from '../testing/emulator.js';
import { emulatorRig } from '../testing/emulator.js';
import { failureClass } from '../testing/failures.js';
import { desiredPool as pool, desiredState as desired } from '../testing/states.js';
import { IcontrolBackend } from './backend.js';

let rig: EmulatorRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function setup(): Promise<{ rig: EmulatorRig; backend: IcontrolBackend }> {
  rig = await emulatorRig();
  return { rig, backend: new IcontrolBackend({ client: rig.client, partition: 'k8s' }) };
}

/** Pools, members and nodes of partition k8s as the emulator dumps them. */
function k8s(r: EmulatorRig): string {
  return r.emu.state.dump().split('\n').filter((l) => l.includes('/k8s/')).join('\n');
}

const web = pool('web_80_prod', [['192.0.2.10', 61001], ['192.0.2.11', 61002, false], ['2001:db8::a', 61003]], { monitor: '/Common/http' });
const WEB_DUMP = [
  'pool /k8s/web_80_prod lb=round-robin monitor=/Common/http',
  '  member /k8s/192.0.2.10:61001 user-enabled user-up',
  '  member /k8s/192.0.2.11:61002 user-disabled user-up',
  '  member /k8s/2001:db8::a.61003 user-enabled user-up',
  'node /k8s/192.0.2.10 address=192.0.2.10 user-enabled user-up',
  'node /k8s/192.0.2.11 address=192.0.2.11 user-enabled user-up',
  'node /k8s/2001:db8::a address=2001:db8::a user-enabled user-up',
].join('\n');

describe('icontrol backend against the emulator', () => {
  it('creates pool, members (drained ones disabled) and nodes in one transaction; a second sync writes nothing', async () => {
    const { rig, backend } = await setup();
    const first = await backend.sync(desired(web));
    expect(first.writes).toBeGreaterThan(0);
    expect(k8s(rig)).toBe(WEB_DUMP);
    expect(rig.emu.requestLog.count({ method: 'PATCH', path: '/mgmt/tm/transaction/*' })).toBe(1);
    rig.emu.requestLog.clear();
    const second = await backend.sync(desired(web));
    expect(second).toEqual({ writes: 0, changes: [], resyncNeeded: false });
    expect(rig.emu.requestLog.entries().filter((e) => e.method !== 'GET')).toEqual([]);
  });

  it('follows member changes with the smallest writes and removes nodes it created once unreferenced', async () => {
    const { rig, backend } = await setup();
    await backend.sync(desired(web));
    const after = pool('web_80_prod', [['192.0.2.11', 61002], ['192.0.2.12', 61004]], { monitor: '/Common/http' });
    const report = await backend.sync(desired(after));
    expect(report.changes).toEqual([
      'createNode 192.0.2.12', 'addMember web_80_prod 192.0.2.12:61004', 'setMember web_80_prod 192.0.2.11:61002 enabled',
      'removeMember web_80_prod 192.0.2.10:61001', 'removeMember web_80_prod 2001:db8::a.61003', 'deleteNode 192.0.2.10', 'deleteNode 2001:db8::a',
    ]);
    expect(k8s(rig)).toBe([
      'pool /k8s/web_80_prod lb=round-robin monitor=/Common/http',
      '  member /k8s/192.0.2.11:61002 user-enabled user-up',
      '  member /k8s/192.0.2.12:61004 user-enabled user-up',
      'node /k8s/192.0.2.11 address=192.0.2.11 user-enabled user-up',
      'node /k8s/192.0.2.12 address=192.0.2.12 user-enabled user-up',
    ].join('\n'));
  });

  it('deletes only pools it owns: a hand-made pool and its node stay', async () => {
    const { rig, backend } = await setup();
    await rig.client.request('POST', '/mgmt/tm/ltm/pool', { name: 'hand_made', partition: 'k8s', members: [{ name: '192.0.2.99:80', address: '192.0.2.99' }] });
    await backend.sync(desired(web));
    await backend.sync(desired());
    expect(k8s(rig)).toBe(['pool /k8s/hand_made lb=round-robin', '  member /k8s/192.0.2.99:80 user-enabled user-up', 'node /k8s/192.0.2.99 address=192.0.2.99 user-enabled user-up'].join('\n'));
  });

  it('a node still referenced by a foreign pool is kept (01070110 tolerated)', async () => {
    const { rig, backend } = await setup();
    await backend.sync(desired(pool('a', [['192.0.2.10', 61001]])));
    await rig.client.request('POST', '/mgmt/tm/ltm/pool', { name: 'hand_made', partition: 'k8s', members: [{ name: '192.0.2.10:80' }] });
    await backend.sync(desired());
    expect(k8s(rig)).toContain('node /k8s/192.0.2.10');
  });

  it('repairs edits made by hand on the BIG-IP at the next sync', async () => {
    const { rig, backend } = await setup();
    await backend.sync(desired(web));
    await rig.client.request('DELETE', '/mgmt/tm/ltm/pool/~k8s~web_80_prod/members/~k8s~192.0.2.10:61001');
    await rig.client.request('PATCH', '/mgmt/tm/ltm/pool/~k8s~web_80_prod', { loadBalancingMode: 'ratio-member' });
    await rig.client.request('PATCH', '/mgmt/tm/ltm/pool/~k8s~web_80_prod/members/~k8s~192.0.2.11:61002', { session: 'user-enabled' });
    await rig.client.request('POST', '/mgmt/tm/ltm/pool/~k8s~web_80_prod/members', { name: '192.0.2.77:1234', partition: 'k8s' });
    await backend.sync(desired(web));
    const sorted = (text: string) => text.split('\n').sort().join('\n');
    expect(sorted(k8s(rig))).toBe(sorted(WEB_DUMP + '\nnode /k8s/192.0.2.77 address=192.0.2.77 user-enabled user-up'));
  });

  it('manages a virtual server using the pool, IPv6 included', async () => {
    const { rig, backend } = await setup();
    const withVs = pool('web_80_prod', [['192.0.2.10', 61001]], { virtual: { name: 'crd_2001_db8__50_80', address: '2001:db8::50', port: 80, protocol: 'tcp' } });
    await backend.sync(desired(withVs));
    expect(k8s(rig)).toContain('virtual /k8s/crd_2001_db8__50_80 destination=/k8s/2001:db8::50.80 tcp pool=/k8s/web_80_prod');
    expect((await backend.sync(desired(withVs))).writes).toBe(0);
    await backend.sync(desired());
    expect(k8s(rig)).toBe('');
  });

  it('token expiry between syncs: one re-login, the sync completes', async () => {
    const { rig, backend } = await setup();
    await backend.sync(desired(pool('a', [['192.0.2.10', 61001]])));
    rig.emu.expireTokens();
    await backend.sync(desired(web));
    expect(k8s(rig)).toBe(WEB_DUMP);
  });

  it('token expiry mid-sync (inside the transaction): one re-login, the transaction goes on and commits', async () => {
    // POSTs in order: login, transaction start, first queued command: expire the token after that one.
    let posts = 0;
    let armed = true;
    const ref: { emu?: EmulatorRig['emu'] } = {};
    rig = await emulatorRig({
      onResponse: (method) => {
        if (method === 'POST') posts++;
        if (armed && posts === 3) {
          armed = false;
          ref.emu?.expireTokens();
        }
      },
    });
    ref.emu = rig.emu;
    const backend = new IcontrolBackend({ client: rig.client, partition: 'k8s' });
    await backend.sync(desired(web));
    expect(armed).toBe(false);
    expect(rig.emu.requestLog.count({ method: 'POST', path: '/mgmt/shared/authn/login' })).toBe(2);
    expect(k8s(rig)).toBe(WEB_DUMP);
  });

  it('a 503 burst fails the sync as busy; nothing is lost once BIG-IP answers again', async () => {
    const { rig, backend } = await setup();
    rig.emu.faults.set({ unavailable: { count: 3 } });
    let failures = 0;
    while ((await failureClass(backend.sync(desired(web)))) === 'busy') failures++;
    expect(failures).toBeGreaterThan(0);
    expect(k8s(rig)).toBe(WEB_DUMP);
  });

  it('dropped connections fail as transport; the next sync completes', async () => {
    const { rig, backend } = await setup();
    rig.emu.faults.set({ dropConnections: { count: 2 } });
    let failures = 0;
    while ((await failureClass(backend.sync(desired(web)))) === 'transport') failures++;
    expect(failures).toBeGreaterThan(0);
    expect(k8s(rig)).toBe(WEB_DUMP);
  });

  it('a failed transaction (frozen config) applies nothing; after recovery everything is applied', async () => {
    const { rig, backend } = await setup();
    rig.emu.faults.set({ frozen: true });
    expect(await failureClass(backend.sync(desired(web)))).toBe('busy');
    expect(k8s(rig)).toBe('');
    rig.emu.faults.clear();
    await backend.sync(desired(web));
    expect(k8s(rig)).toBe(WEB_DUMP);
  });

  it('config changed by hand between observe and commit: the transaction conflicts, the operations go one by one', async () => {
    const { rig, backend } = await setup();
    const plan = await backend.plan(desired(web));
    expect(plan.operations.length).toBeGreaterThan(0);
    // Someone creates the same pool (with one member) before our transaction commits.
    await rig.client.request('POST', '/mgmt/tm/ltm/pool', { name: 'web_80_prod', partition: 'k8s', members: [{ name: '192.0.2.10:61001' }] });
    const applied = await (backend as unknown as { applyOperations(o: typeof plan.operations): Promise<boolean> }).applyOperations(plan.operations);
    expect(applied).toBe(true);
    await backend.sync(desired(web));
    expect(k8s(rig)).toBe(WEB_DUMP);
  });

  it('a pool deleted by hand between observe and commit: the delete is taken as done', async () => {
    const { rig, backend } = await setup();
    await backend.sync(desired(web, pool('old_80_prod', [['192.0.2.20', 61009]])));
    const plan = await backend.plan(desired(web));
    expect(plan.operations.map((o) => o.op)).toEqual(['deletePool']);
    await rig.client.request('DELETE', '/mgmt/tm/ltm/pool/~k8s~old_80_prod');
    const apply = (backend as unknown as { applyOperations(o: typeof plan.operations): Promise<boolean> }).applyOperations(plan.operations);
    expect(await apply).toBe(true);
    await backend.sync(desired(web));
    expect(k8s(rig)).toBe(WEB_DUMP);
  });
});
