import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { harness } from './testing/harness.js';
import type { Harness } from './testing/harness.js';

let h: Harness;
afterEach(async () => { await h.emu.close(); });

describe('fault injection', () => {
  beforeEach(async () => { h = await harness(); });

  it('answers 503 to the next N requests, then serves again', async () => {
    h.emu.faults.set({ unavailable: { count: 2 } });
    expect((await h.call('GET', '/mgmt/tm/ltm/pool')).statusCode).toBe(503);
    expect((await h.call('GET', '/mgmt/tm/ltm/pool')).statusCode).toBe(503);
    expect((await h.call('GET', '/mgmt/tm/ltm/pool')).statusCode).toBe(200);
  });

  it('answers 503 to a fraction of requests by the injected random source', async () => {
    const draws = [0.1, 0.9, 0.2, 0.8];
    await h.emu.close();
    h = await harness({ random: () => draws.shift() ?? 1 });
    h.emu.faults.set({ unavailable: { fraction: 0.5 } });
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await h.call('GET', '/mgmt/tm/ltm/pool')).statusCode);
    expect(statuses).toEqual([503, 200, 503, 200]);
  });

  it('delays responses by the configured latency', async () => {
    h.emu.faults.set({ latencyMs: 120 });
    const started = Date.now();
    await h.call('GET', '/mgmt/tm/ltm/pool');
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });

  it('refuses every write while the configuration is frozen, including transaction commits and AS3', async () => {
    h.emu.faults.set({ frozen: true });
    const write = await h.json('POST', '/mgmt/tm/ltm/pool', { name: 'p', partition: 'k8s' });
    expect(write.status).toBe(503);
    expect((await h.call('GET', '/mgmt/tm/ltm/pool')).statusCode).toBe(200);
    const as3 = await h.json('POST', '/mgmt/shared/appsvcs/declare', { class: 'ADC', schemaVersion: '3.52.0', t: { class: 'Tenant', A: { class: 'Application', p: { class: 'Pool' } } } });
    expect(as3.status).toBe(422);
    expect(as3.body.results?.[0]?.message).toBe('declaration failed');
    expect(h.emu.state.dump()).toBe('partition /Common\npartition /k8s');
  });

  it('is set, read and cleared through the /emulator control API, which needs no auth', async () => {
    const set = await h.json('PUT', '/emulator/faults', { unavailable: { count: 1 }, latencyMs: 0 }, { authorization: '' });
    expect(set.body.unavailable).toEqual({ count: 1 });
    expect((await h.json('PUT', '/emulator/faults', { unavailable: { fraction: 2 } }, { authorization: '' })).status).toBe(400);
    expect((await h.call('DELETE', '/emulator/faults', undefined, { authorization: '' })).statusCode).toBe(200);
    expect((await h.call('GET', '/mgmt/tm/ltm/pool')).statusCode).toBe(200);
  });
});

describe('request log and reset', () => {
  beforeEach(async () => { h = await harness(); });

  it('records method, path and status of every /mgmt request so tests can count calls', async () => {
    await h.call('GET', '/mgmt/tm/ltm/pool?expandSubcollections=true');
    await h.call('POST', '/mgmt/tm/ltm/pool', { name: 'p', partition: 'k8s' });
    await h.call('POST', '/mgmt/tm/ltm/pool', { name: 'p', partition: 'k8s' });
    expect(h.emu.requestLog.entries().map(({ method, path, status }) => ({ method, path, status }))).toEqual([
      { method: 'GET', path: '/mgmt/tm/ltm/pool', status: 200 },
      { method: 'POST', path: '/mgmt/tm/ltm/pool', status: 200 },
      { method: 'POST', path: '/mgmt/tm/ltm/pool', status: 409 },
    ]);
    expect(h.emu.requestLog.count({ method: 'POST', path: '/mgmt/tm/ltm/*' })).toBe(2);
    const viaApi = await h.json('GET', '/emulator/requests?method=POST', undefined, { authorization: '' });
    expect(viaApi.body.count).toBe(2);
  });

  it('masks token ids in logged paths', async () => {
    await h.call('GET', '/mgmt/shared/authz/tokens/SECRETTOKEN');
    expect(h.emu.requestLog.entries()[0]?.path).toBe('/mgmt/shared/authz/tokens/***');
  });

  it('resets configuration, faults and the log with POST /emulator/reset', async () => {
    await h.call('POST', '/mgmt/tm/ltm/pool', { name: 'p', partition: 'k8s' });
    h.emu.faults.set({ frozen: true });
    await h.call('POST', '/emulator/reset', undefined, { authorization: '' });
    expect(h.emu.state.dump()).toBe('partition /Common');
    expect(h.emu.faults.current.frozen).toBe(false);
    expect(h.emu.requestLog.entries()).toEqual([]);
  });
});
