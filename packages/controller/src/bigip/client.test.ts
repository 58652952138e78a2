import { afterEach, describe, expect, it } from '@jest/globals';
import { startEmulator } from '@npl/bigip-emulator';
import type { EmulatorRig } from '../testing/emulator.js';
import { emulatorRig } from '../testing/emulator.js';
import { BigipClient } from './client.js';
import { isBigipError } from './classify.js';

let rig: EmulatorRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function classOfFailure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return isBigipError(err) ? err.errorClass : `other: ${String(err)}`;
  }
}

describe('BigipClient', () => {
  it('logs in once with a token and reuses it over verified TLS', async () => {
    rig = await emulatorRig();
    expect((await rig.client.request('GET', '/mgmt/tm/ltm/pool')).status).toBe(200);
    await rig.client.request('GET', '/mgmt/tm/ltm/node');
    expect(rig.emu.requestLog.count({ method: 'POST', path: '/mgmt/shared/authn/login' })).toBe(1);
    expect(rig.client.authMode).toBe('token');
  });

  it('refuses a server whose certificate it cannot verify, unless told to skip verification', async () => {
    rig = await emulatorRig();
    const untrusting = new BigipClient({ url: rig.emu.url, credentials: () => ({ username: 'admin', password: 'admin' }) });
    expect(await classOfFailure(untrusting.request('GET', '/mgmt/tm/ltm/pool'))).toBe('transport');
    await untrusting.close();
    const insecure = new BigipClient({ url: rig.emu.url, insecure: true, credentials: () => ({ username: 'admin', password: 'admin' }) });
    expect((await insecure.request('GET', '/mgmt/tm/ltm/pool')).status).toBe(200);
    await insecure.close();
  });

  it('refreshes the token with a PATCH before it expires, without a new login', async () => {
    rig = await emulatorRig();
    await rig.client.request('GET', '/mgmt/tm/ltm/pool');
    await rig.advance(1_150_000);
    await rig.client.request('GET', '/mgmt/tm/ltm/pool');
    await rig.advance(600_000);
    expect((await rig.client.request('GET', '/mgmt/tm/ltm/pool')).status).toBe(200);
    expect(rig.emu.requestLog.count({ method: 'PATCH', path: '/mgmt/shared/authz/tokens/*' })).toBeGreaterThanOrEqual(1);
    expect(rig.emu.requestLog.count({ method: 'POST', path: '/mgmt/shared/authn/login' })).toBe(1);
  });

  it('a token that expired on the device (401) means one new login and the request repeated', async () => {
    rig = await emulatorRig();
    await rig.client.request('GET', '/mgmt/tm/ltm/pool');
    rig.emu.expireTokens();
    expect((await rig.client.request('GET', '/mgmt/tm/ltm/pool')).status).toBe(200);
    expect(rig.emu.requestLog.count({ method: 'POST', path: '/mgmt/shared/authn/login' })).toBe(2);
  });

  it('wrong credentials fail as authExpired after a single re-login, never a loop', async () => {
    rig = await emulatorRig({ credentials: () => ({ username: 'admin', password: 'wrong' }) });
    expect(await classOfFailure(rig.client.request('GET', '/mgmt/tm/ltm/pool'))).toBe('authExpired');
    expect(rig.emu.requestLog.count({ method: 'POST', path: '/mgmt/shared/authn/login' })).toBe(1);
  });

  it('Basic auth when asked', async () => {
    rig = await emulatorRig({ auth: 'basic' });
    expect((await rig.client.request('GET', '/mgmt/tm/ltm/pool')).status).toBe(200);
    expect(rig.emu.requestLog.count({ method: 'POST', path: '/mgmt/shared/authn/login' })).toBe(0);
  });

  it('classifies answers: 404 notFound, 409 conflict, 503 busy, dropped connection transport', async () => {
    rig = await emulatorRig();
    expect(await classOfFailure(rig.client.request('GET', '/mgmt/tm/ltm/pool/~k8s~nope'))).toBe('notFound');
    await rig.client.request('POST', '/mgmt/tm/ltm/pool', { name: 'p', partition: 'k8s' });
    expect(await classOfFailure(rig.client.request('POST', '/mgmt/tm/ltm/pool', { name: 'p', partition: 'k8s' }))).toBe('conflict');
    rig.emu.faults.set({ unavailable: { count: 1 } });
    expect(await classOfFailure(rig.client.request('GET', '/mgmt/tm/ltm/pool'))).toBe('busy');
    rig.emu.faults.set({ dropConnections: { count: 1 } });
    expect(await classOfFailure(rig.client.request('GET', '/mgmt/tm/ltm/pool'))).toBe('transport');
    expect((await rig.client.request('GET', '/mgmt/tm/ltm/pool')).status).toBe(200);
  });

  it('a refused connection is a transport failure', async () => {
    const emu = await startEmulator({ tls: false, traffic: false });
    const url = emu.url;
    await emu.close();
    const client = new BigipClient({ url, credentials: () => ({ username: 'admin', password: 'admin' }) });
    expect(await classOfFailure(client.request('GET', '/mgmt/tm/ltm/pool'))).toBe('transport');
    await client.close();
  });
});
