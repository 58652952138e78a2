import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { harness, list, text } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

let h: Harness;
beforeEach(async () => { h = await harness(); });
afterEach(async () => { await h.emu.close(); });

async function begin(): Promise<string> {
  const res = await h.json('POST', '/mgmt/tm/transaction', {});
  expect(res.body).toMatchObject({ state: 'STARTED', timeoutSeconds: 120, asyncExecution: false, validateOnly: false, failureReason: '', kind: 'tm:transactionstate' });
  return text(res.body.transId);
}

describe('transactions', () => {
  it('queues coordinated writes and applies them all on commit', async () => {
    const id = await begin();
    const coord = { 'x-f5-rest-coordination-id': id };
    const queued = await h.json('POST', '/mgmt/tm/ltm/pool', { name: 'web_pool', partition: 'k8s' }, coord);
    expect(queued.body).toMatchObject({ kind: 'tm:transaction:commandsstate', method: 'POST', evalOrder: 1 });
    await h.json('POST', '/mgmt/tm/ltm/pool/~k8s~web_pool/members', { name: '10.244.0.3:61001', partition: 'k8s' }, coord);
    expect((await h.json('GET', '/mgmt/tm/ltm/pool/~k8s~web_pool')).status).toBe(404);
    expect(list((await h.json('GET', `/mgmt/tm/transaction/${id}/commands`)).body.items)).toHaveLength(2);
    const committed = await h.json('PATCH', `/mgmt/tm/transaction/${id}`, { state: 'VALIDATING' });
    expect(committed.status).toBe(200);
    expect(committed.body.state).toBe('COMPLETED');
    expect(h.emu.state.dump()).toContain('  member /k8s/10.244.0.3:61001');
  });

  it('rolls everything back when one command fails and reports failureReason', async () => {
    await h.json('POST', '/mgmt/tm/ltm/pool', { name: 'existing', partition: 'k8s' });
    const before = h.emu.state.dump();
    const id = await begin();
    const coord = { 'x-f5-rest-coordination-id': id };
    await h.json('POST', '/mgmt/tm/ltm/pool', { name: 'fresh', partition: 'k8s', members: [{ name: '10.0.0.1:80' }] }, coord);
    await h.json('POST', '/mgmt/tm/ltm/pool', { name: 'existing', partition: 'k8s' }, coord);
    const commit = await h.json('PATCH', `/mgmt/tm/transaction/${id}`, { state: 'VALIDATING' });
    expect(commit.status).toBe(400);
    expect(commit.body.message).toBe('transaction failed:01020066:3: The requested Pool (/k8s/existing) already exists in partition k8s.');
    expect(h.emu.state.dump()).toBe(before);
    const state = await h.json('GET', `/mgmt/tm/transaction/${id}`);
    expect(state.body).toMatchObject({ state: 'FAILED', failureReason: '01020066:3: The requested Pool (/k8s/existing) already exists in partition k8s.' });
  });

  it('dry-runs with validateOnly and changes nothing', async () => {
    const id = await begin();
    await h.json('POST', '/mgmt/tm/ltm/pool', { name: 'p', partition: 'k8s' }, { 'x-f5-rest-coordination-id': id });
    const res = await h.json('PATCH', `/mgmt/tm/transaction/${id}`, { state: 'VALIDATING', validateOnly: true });
    expect(res.body).toMatchObject({ state: 'COMPLETED', validateOnly: true });
    expect((await h.json('GET', '/mgmt/tm/ltm/pool/~k8s~p')).status).toBe(404);
  });

  it('forgets an uncommitted transaction after timeoutSeconds', async () => {
    const id = await begin();
    h.clock.advance(119_000);
    expect((await h.json('GET', `/mgmt/tm/transaction/${id}`)).status).toBe(200);
    h.clock.advance(1_000);
    expect((await h.json('GET', `/mgmt/tm/transaction/${id}`)).status).toBe(404);
    const late = await h.json('POST', '/mgmt/tm/ltm/pool', { name: 'p', partition: 'k8s' }, { 'x-f5-rest-coordination-id': id });
    expect(late.status).toBe(404);
    expect((await h.json('PATCH', `/mgmt/tm/transaction/${id}`, { state: 'VALIDATING' })).status).toBe(404);
  });
});
