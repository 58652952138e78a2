import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Harness } from '../testing/harness.js';
import { BASIC, harness, text } from '../testing/harness.js';

const DECLARATION = {
  class: 'AS3', declaration: {
    class: 'ADC', schemaVersion: '3.52.0', k8s: {
      class: 'Tenant', Shared: { class: 'Application', template: 'shared', p1: { class: 'Pool', members: [{ servicePort: 61001, serverAddresses: ['192.0.2.10'], shareNodes: true }] } },
    },
  },
};

/** What real clients (CIS 2.20, seen in spec §2.15) send, answered as BIG-IP does. */
describe('calls real clients make', () => {
  let h: Harness;
  beforeEach(async () => { h = await harness(); });
  afterEach(async () => { await h.emu.close(); });

  it('POST /declare/ with a trailing slash and no Content-Type header applies the declaration', async () => {
    const res = await h.emu.app.inject({ method: 'POST', url: '/mgmt/shared/appsvcs/declare/', payload: JSON.stringify(DECLARATION), headers: { authorization: BASIC } });
    expect(res.statusCode).toBe(200);
    expect(h.emu.state.dump()).toContain('/k8s/Shared/p1');
  });

  it('GET /info carries version, release and schemaCurrent as strings', async () => {
    const res = await h.json('GET', '/mgmt/shared/appsvcs/info');
    expect(res.status).toBe(200);
    for (const key of ['version', 'release', 'schemaCurrent']) expect(typeof res.body[key]).toBe('string');
  });

  it('GET /mgmt/tm/shared/licensing/registration answers a registrationKey', async () => {
    const res = await h.json('GET', '/mgmt/tm/shared/licensing/registration');
    expect(res.status).toBe(200);
    expect(typeof res.body.registrationKey).toBe('string');
  });

  it('PATCH of a token with an empty body (CIS, 30 s before expiry) answers the bare token object, expiry unchanged', async () => {
    const login = await h.json('POST', '/mgmt/shared/authn/login', { username: 'admin', password: 'admin', loginProviderName: 'tmos' });
    const token = text(login.body.token?.token);
    h.clock.advance(1_170_000);
    const res = await h.emu.app.inject({ method: 'PATCH', url: `/mgmt/shared/authz/tokens/${token}`, headers: { 'x-f5-auth-token': token } });
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    expect(body.kind).toBe('shared:authz:tokens:authtokenitemstate');
    expect(body.token).toBe(token);
    expect(body.expirationMicros).toBe(login.body.token?.expirationMicros);
  });

  it('PATCH {"timeout": N} before expiry keeps the token alive past its first expiry', async () => {
    const login = await h.json('POST', '/mgmt/shared/authn/login', { username: 'admin', password: 'admin', loginProviderName: 'tmos' });
    const token = text(login.body.token?.token);
    h.clock.advance(1_170_000);
    expect((await h.call('PATCH', `/mgmt/shared/authz/tokens/${token}`, { timeout: 3600 }, { 'x-f5-auth-token': token })).statusCode).toBe(200);
    h.clock.advance(60_000);
    expect((await h.call('GET', '/mgmt/tm/ltm/pool', undefined, { 'x-f5-auth-token': token })).statusCode).toBe(200);
  });
});
