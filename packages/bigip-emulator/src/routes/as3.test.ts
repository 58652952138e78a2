import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { harness, list, text } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

const BASE = '/mgmt/shared/appsvcs';

/** The declaration of spec/bigip.md §4.2 for tenant `name` (our fixture). */
function tenant(members: Array<[string, number]>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    class: 'Tenant',
    Shared: {
      class: 'Application', template: 'shared',
      web_pool: {
        class: 'Pool', loadBalancingMode: 'round-robin', monitors: ['http'],
        members: members.map(([ip, port]) => ({ servicePort: port, serverAddresses: [ip], shareNodes: true })),
      },
      web_vs: { class: 'Service_HTTP', virtualAddresses: ['10.106.32.11'], virtualPort: 80, pool: 'web_pool' },
      ...extra,
    },
  };
}

function declaration(tenants: Record<string, unknown>): Record<string, unknown> {
  return { class: 'AS3', action: 'deploy', persist: true, declaration: { class: 'ADC', schemaVersion: '3.52.0', id: 'npl-ctrl-1', updateMode: 'selective', ...tenants } };
}

const K8S = () => tenant([['10.244.0.3', 61001], ['10.244.1.7', 61002]]);
const K8S2 = () => tenant([['10.244.2.9', 61005]], { web_vs: { class: 'Service_HTTP', virtualAddresses: ['10.106.32.12'], virtualPort: 80, pool: 'web_pool' } });

let h: Harness;
beforeEach(async () => { h = await harness({ partitions: [] }); });
afterEach(async () => { await h.emu.close(); });

describe('AS3 info and declarations', () => {
  it('reports its version on /info', async () => {
    const res = await h.json('GET', `${BASE}/info`);
    expect(res).toEqual({ status: 200, body: { version: '3.56.0', release: '10', schemaCurrent: '3.56.0', schemaMinimum: '3.0.0' } });
  });

  it('answers 204 on GET /declare before any declaration', async () => {
    expect((await h.call('GET', `${BASE}/declare`)).statusCode).toBe(204);
  });

  it('applies a declaration and creates the LTM objects it describes', async () => {
    const res = await h.json('POST', `${BASE}/declare`, declaration({ k8s: K8S() }));
    expect(res.status).toBe(200);
    expect(res.body.results?.[0]).toMatchObject({ code: 200, message: 'success', host: 'localhost', tenant: 'k8s' });
    expect(res.body.declaration?.k8s?.class).toBe('Tenant');
    const pool = await h.json('GET', '/mgmt/tm/ltm/pool/~k8s~Shared~web_pool?expandSubcollections=true');
    expect(pool.body).toMatchObject({ fullPath: '/k8s/Shared/web_pool', monitor: '/Common/http ', loadBalancingMode: 'round-robin' });
    expect(list(pool.body.membersReference?.items).map((m) => m.fullPath)).toEqual(['/Common/10.244.0.3:61001', '/Common/10.244.1.7:61002']);
    expect((await h.json('GET', '/mgmt/tm/ltm/node/~Common~10.244.0.3')).status).toBe(200);
    const vs = await h.json('GET', '/mgmt/tm/ltm/virtual/~k8s~Shared~web_vs');
    expect(vs.body).toMatchObject({ destination: '/k8s/10.106.32.11:80', pool: '/k8s/Shared/web_pool' });
    const stored = await h.json('GET', `${BASE}/declare/k8s`);
    expect(stored.body).toMatchObject({ class: 'ADC', id: 'npl-ctrl-1', k8s: { class: 'Tenant' } });
  });

  it('answers "no change" when the same tenant is declared again', async () => {
    await h.json('POST', `${BASE}/declare`, declaration({ k8s: K8S() }));
    const generation = h.emu.state.generation;
    const res = await h.json('POST', `${BASE}/declare`, declaration({ k8s: K8S() }));
    expect(res.status).toBe(200);
    expect(res.body.results?.[0]).toMatchObject({ code: 200, message: 'no change', tenant: 'k8s' });
    expect(h.emu.state.generation).toBe(generation);
  });

  it('re-applies a tenant whose LTM objects were changed behind its back', async () => {
    await h.json('POST', `${BASE}/declare`, declaration({ k8s: K8S() }));
    await h.call('DELETE', '/mgmt/tm/ltm/pool/~k8s~Shared~web_pool/members/~Common~10.244.0.3:61001');
    const res = await h.json('POST', `${BASE}/declare`, declaration({ k8s: K8S() }));
    expect(res.body.results?.[0]?.message).toBe('success');
    expect(h.emu.state.dump()).toContain('member /Common/10.244.0.3:61001');
  });

  it('answers 207 when one tenant applies and another fails, leaving the failed one untouched', async () => {
    await h.json('POST', '/mgmt/tm/auth/partition', { name: 'legacy' });
    await h.json('POST', '/mgmt/tm/ltm/node', { name: '10.9.0.1', address: '10.9.0.1', partition: 'legacy' });
    const bad = { class: 'Tenant', Shared: { class: 'Application', template: 'shared', p: { class: 'Pool', members: [{ servicePort: 80, serverAddresses: ['10.9.0.1'] }] } } };
    const res = await h.json('POST', `${BASE}/declare`, declaration({ k8s: K8S(), bad }));
    expect(res.status).toBe(207);
    const byTenant = Object.fromEntries(list(res.body.results).map((r) => [text(r.tenant), r]));
    expect(byTenant.k8s).toMatchObject({ code: 200, message: 'success' });
    expect(byTenant.bad).toMatchObject({ code: 422, message: 'declaration failed', response: '01070734:3: Configuration error: Invalid Node, the IP address 10.9.0.1 already exists.' });
    expect(res.body.declaration?.bad).toBeUndefined();
    expect((await h.json('GET', '/mgmt/tm/auth/partition/bad')).status).toBe(404);
  });

  it('fault as3FailTenants: the listed tenant fails (422 result) while the other applies (207); cleared, it applies', async () => {
    h.emu.faults.set({ as3FailTenants: ['k8s2'] });
    const res = await h.json('POST', `${BASE}/declare`, declaration({ k8s: K8S(), k8s2: K8S2() }));
    expect(res.status).toBe(207);
    const byTenant = Object.fromEntries(list(res.body.results).map((r) => [text(r.tenant), r]));
    expect(byTenant.k8s).toMatchObject({ code: 200, message: 'success' });
    expect(byTenant.k8s2).toMatchObject({ code: 422, message: 'declaration failed', response: '01070734:3: Configuration error: tenant k8s2 refused (emulator fault as3FailTenants)' });
    expect((await h.json('GET', '/mgmt/tm/auth/partition/k8s2')).status).toBe(404);
    h.emu.faults.set({ as3FailTenants: [] });
    const again = await h.json('POST', `${BASE}/declare/k8s2`, declaration({ k8s2: K8S2() }));
    expect(again.status).toBe(200);
    expect(list(again.body.results).map((r) => `${text(r.tenant)} ${JSON.stringify(r.code)} ${text(r.message)}`)).toEqual(['k8s2 200 success']);
  });

  it('answers 422 with an errors list for an invalid declaration and changes nothing', async () => {
    const invalid = declaration({ k8s: tenant([['10.244.0.3', 61001]], { broken_vs: { class: 'Service_HTTP', virtualPort: 80 } }) });
    const res = await h.json('POST', `${BASE}/declare`, invalid);
    expect(res).toEqual({ status: 422, body: { code: 422, errors: ["/k8s/Shared/broken_vs: should have required property 'virtualAddresses'"], message: 'declaration is invalid', declarationFullId: '' } });
    expect(h.emu.state.dump()).toBe('partition /Common');
  });

  it.each([
    ['a schemaVersion above 3.56', { class: 'ADC', schemaVersion: '3.57.0' }, '/schemaVersion'],
    ['a member without servicePort', { class: 'ADC', schemaVersion: '3.52.0', t: { class: 'Tenant', A: { class: 'Application', p: { class: 'Pool', members: [{ serverAddresses: ['10.0.0.1'] }] } } } }, "/t/A/p/members/0: should have required property 'servicePort'"],
    ['a pool reference to nothing', { class: 'ADC', schemaVersion: '3.52.0', t: { class: 'Tenant', A: { class: 'Application', vs: { class: 'Service_TCP', virtualAddresses: ['10.0.0.1'], virtualPort: 1, pool: 'nope' } } } }, '/t/A/vs/pool: contains path to non-existing object "nope"'],
    ['an unknown class', { class: 'ADC', schemaVersion: '3.52.0', t: { class: 'Tenant', A: { class: 'Application', x: { class: 'Frobnicator' } } } }, '/t/A/x/class'],
  ])('refuses %s', async (_case, adc, error) => {
    const res = await h.json('POST', `${BASE}/declare`, adc);
    expect(res.status).toBe(422);
    expect(list(res.body.errors).some((e) => text(e).startsWith(error))).toBe(true);
  });

  it('applies only the tenants listed in the URL', async () => {
    const res = await h.json('POST', `${BASE}/declare/k8s`, declaration({ k8s: K8S(), other: tenant([['10.3.0.1', 80]]) }));
    expect(list(res.body.results).map((r) => r.tenant)).toEqual(['k8s']);
    expect((await h.json('GET', '/mgmt/tm/auth/partition/other')).status).toBe(404);
  });

  it('removes a tenant with DELETE /declare/<tenant> and with {"class":"Tenant"}', async () => {
    await h.json('POST', `${BASE}/declare`, declaration({ k8s: K8S() }));
    const removed = await h.json('DELETE', `${BASE}/declare/k8s`);
    expect(removed.body.results?.[0]).toMatchObject({ code: 200, message: 'success', tenant: 'k8s' });
    expect((await h.json('GET', '/mgmt/tm/ltm/pool/~k8s~Shared~web_pool')).status).toBe(404);
    expect((await h.call('GET', `${BASE}/declare`)).statusCode).toBe(204);
    await h.json('POST', `${BASE}/declare`, declaration({ k8s: K8S() }));
    const flushed = await h.json('POST', `${BASE}/declare`, declaration({ k8s: { class: 'Tenant' } }));
    expect(flushed.body.results?.[0]?.message).toBe('success');
    expect(flushed.body.declaration?.k8s).toBeUndefined();
    expect(h.emu.state.dump()).not.toContain('/k8s/');
  });
});

describe('AS3 async tasks and concurrency', () => {
  it('answers 202 with a task that reports "in progress" and then the results', async () => {
    h.emu.faults.set({ as3ApplyMs: 50 });
    const accepted = await h.json('POST', `${BASE}/declare?async=true`, declaration({ k8s: K8S() }));
    expect(accepted.status).toBe(202);
    expect(accepted.body.results?.[0]?.message).toBe('Declaration successfully submitted');
    const id = text(accepted.body.id);
    expect(accepted.body.selfLink).toBe(`https://localhost/mgmt/shared/appsvcs/task/${id}`);
    expect((await h.json('GET', `${BASE}/task/${id}`)).body.results?.[0]?.message).toBe('in progress');
    const busy = await h.json('POST', `${BASE}/declare`, declaration({ k8s: K8S() }));
    expect(busy).toEqual({ status: 503, body: { code: 503, message: 'Error: Configuration operation in progress on device undefined, please try again in 2 minutes' } });
    await h.emu.as3.settled();
    const done = await h.json('GET', `${BASE}/task/${id}`);
    expect(done.body.results?.[0]).toMatchObject({ code: 200, message: 'success', tenant: 'k8s' });
    expect(list((await h.json('GET', `${BASE}/task`)).body.items).length).toBeGreaterThanOrEqual(1);
  });

  it('answers 404 for an unknown task id', async () => {
    expect(await h.json('GET', `${BASE}/task/nope`)).toEqual({ status: 404, body: { code: 404, message: 'No record found with ID of nope' } });
  });
});
