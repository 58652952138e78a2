import { afterEach, describe, expect, it } from '@jest/globals';
import { isBigipError } from '../bigip/classify.js';
import type { EmulatorRig } from '../testing/emulator.js';
import { emulatorRig } from '../testing/emulator.js';
import { failureClass } from '../testing/failures.js';
import { desiredPool as pool, desiredState as desired } from '../testing/states.js';
import { As3Backend } from './backend.js';

let rig: EmulatorRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function setup(options: Partial<ConstructorParameters<typeof As3Backend>[0]> = {}): Promise<{ rig: EmulatorRig; backend: As3Backend }> {
  rig = await emulatorRig();
  return { rig, backend: new As3Backend({ client: rig.client, partition: 'k8s', clock: rig.clock, pollMs: 10, ...options }) };
}

/** LTM objects AS3 created for tenant k8s. */
function ltm(r: EmulatorRig): string {
  return r.emu.state.dump().split('\n').filter((l) => l.includes('/k8s/Shared/') || l.includes('/Common/192.') || l.includes('/Common/2001')).join('\n');
}

const web = pool('web_80_prod', [['192.0.2.10', 61001], ['192.0.2.11', 61002, false], ['2001:db8::a', 61003]], { monitor: '/Common/http' });
const posts = (r: EmulatorRig) => r.emu.requestLog.count({ method: 'POST', path: '/mgmt/shared/appsvcs/declare/*' });

describe('as3 backend against the emulator', () => {
  it('declares the tenant once; an unchanged tenant is never sent again', async () => {
    const { rig, backend } = await setup();
    expect((await backend.sync(desired(web))).writes).toBe(1);
    expect(ltm(rig)).toContain('pool /k8s/Shared/web_80_prod');
    expect(ltm(rig)).toContain('member /Common/192.0.2.11:61002 user-disabled');
    expect(ltm(rig)).toContain('member /Common/2001:db8::a.61003');
    expect((await backend.sync(desired(web))).writes).toBe(0);
    expect(posts(rig)).toBe(1);
    expect(rig.emu.requestLog.count({ method: 'GET', path: '/mgmt/shared/appsvcs/info' })).toBe(1);
  });

  it('a changed desired state sends the tenant again; an empty one flushes it', async () => {
    const { rig, backend } = await setup();
    await backend.sync(desired(web));
    await backend.sync(desired(pool('web_80_prod', [['192.0.2.12', 61009]])));
    expect(ltm(rig)).toContain('member /Common/192.0.2.12:61009');
    expect(ltm(rig)).not.toContain('192.0.2.10:61001');
    await backend.sync(desired());
    expect(ltm(rig)).not.toContain('pool /k8s/Shared/');
    expect(posts(rig)).toBe(3);
  });

  it('repairs a tenant edited by hand through AS3', async () => {
    const { rig, backend } = await setup();
    await backend.sync(desired(web));
    const other = backend.declaration(desired(pool('hand', [['192.0.2.99', 80]])));
    await rig.client.request('POST', '/mgmt/shared/appsvcs/declare', other);
    expect((await backend.sync(desired(web))).writes).toBe(1);
    expect(ltm(rig)).toContain('pool /k8s/Shared/web_80_prod');
    expect(ltm(rig)).not.toContain('/k8s/Shared/hand');
  });

  it('202: polls the task until the tenant result arrives', async () => {
    const { rig, backend } = await setup({ async: true });
    const sync = backend.sync(desired(web));
    for (let i = 0; i < 50 && rig.emu.requestLog.count({ method: 'GET', path: '/mgmt/shared/appsvcs/task/*' }) === 0; i++) await rig.advance(10);
    let done = false;
    void sync.then(() => (done = true), () => (done = true));
    for (let i = 0; i < 200 && !done; i++) await rig.advance(10);
    expect((await sync).writes).toBe(1);
    expect(ltm(rig)).toContain('pool /k8s/Shared/web_80_prod');
  });

  it('503 while AS3 is busy fails as busy; the next sync sends the newest state', async () => {
    const { rig, backend } = await setup();
    rig.emu.faults.set({ unavailable: { count: 2 } });
    expect(await failureClass(backend.sync(desired(web)))).toBe('busy');
    let attempts = 0;
    while ((await failureClass(backend.sync(desired(web)))) === 'busy') attempts++;
    expect(attempts).toBeLessThan(3);
    expect(ltm(rig)).toContain('pool /k8s/Shared/web_80_prod');
  });

  it('422: the message is kept, the same declaration is not sent again, a changed one is', async () => {
    const { rig, backend } = await setup();
    rig.emu.faults.set({ frozen: true });
    expect(await failureClass(backend.sync(desired(web)))).toBe('invalid');
    rig.emu.faults.clear();
    const err = await backend.sync(desired(web)).catch((e: unknown) => e);
    expect(isBigipError(err, 'invalid') && err.message).toMatch(/not sent again/);
    expect(posts(rig)).toBe(1);
    await backend.sync(desired(web, pool('other', [])));
    expect(posts(rig)).toBe(2);
    expect(ltm(rig)).toContain('pool /k8s/Shared/web_80_prod');
  });

  it('a refused declaration is retried unchanged only after rejectedRetryMs', async () => {
    const { rig, backend } = await setup({ rejectedRetryMs: 60_000 });
    rig.emu.faults.set({ frozen: true });
    expect(await failureClass(backend.sync(desired(web)))).toBe('invalid');
    rig.emu.faults.clear();
    await rig.advance(61_000);
    expect((await backend.sync(desired(web))).writes).toBe(1);
  });

  it('token expiry between syncs: re-login, nothing lost', async () => {
    const { rig, backend } = await setup();
    await backend.sync(desired(pool('a', [])));
    rig.emu.expireTokens();
    await backend.sync(desired(web));
    expect(ltm(rig)).toContain('pool /k8s/Shared/web_80_prod');
  });

  it('dropped connections fail as transport; the next sync completes', async () => {
    const { rig, backend } = await setup();
    rig.emu.faults.set({ dropConnections: { count: 2 } });
    while ((await failureClass(backend.sync(desired(web)))) === 'transport');
    expect(ltm(rig)).toContain('pool /k8s/Shared/web_80_prod');
  });

  it('207, one tenant applied and one failed: the failed tenant alone is retried, the applied one is never resent', async () => {
    const { rig, backend } = await setup({ rejectedRetryMs: 60_000 });
    const k8s = desired(web);
    const k8s2 = { ...desired(pool('api_80_prod', [['192.0.2.20', 61010]])), partition: 'k8s2' };
    rig.emu.faults.set({ as3FailTenants: ['k8s2'] });
    const err = await backend.syncTenants([k8s, k8s2]).catch((e: unknown) => e);
    const log = () => rig.emu.requestLog.entries().filter((e) => e.method === 'POST' && e.path.startsWith('/mgmt/shared/appsvcs/declare'));
    expect(log().map((e) => `${e.path} ${e.status}`)).toEqual(['/mgmt/shared/appsvcs/declare/k8s,k8s2 207']);
    expect(isBigipError(err, 'invalid') && err.message).toMatch(/tenant k8s2: declaration failed: 01070734:3: Configuration error: tenant k8s2 refused/);
    expect(ltm(rig)).toContain('pool /k8s/Shared/web_80_prod');
    expect(rig.emu.state.dump()).not.toContain('/k8s2/Shared/api_80_prod');

    // Within rejectedRetryMs the refused tenant is held back and the applied one matches: nothing is sent.
    rig.emu.faults.clear();
    expect(await failureClass(backend.syncTenants([k8s, k8s2]))).toBe('invalid');
    expect(log()).toHaveLength(1);

    // Then the failed tenant is retried alone, and applies.
    await rig.advance(61_000);
    expect(await backend.syncTenants([k8s, k8s2])).toEqual({ writes: 1, changes: ['declare tenant k8s2 (1 pools)'], resyncNeeded: false });
    expect(log().map((e) => `${e.path} ${e.status}`)).toEqual(['/mgmt/shared/appsvcs/declare/k8s,k8s2 207', '/mgmt/shared/appsvcs/declare/k8s2 200']);
    expect(rig.emu.state.dump()).toContain('pool /k8s2/Shared/api_80_prod');
    expect((await backend.syncTenants([k8s, k8s2])).writes).toBe(0);
    expect(log()).toHaveLength(2);
  });
});
