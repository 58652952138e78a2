import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { harness, text } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

const LOGIN = { username: 'admin', password: 'admin', loginProviderName: 'tmos' };

let h: Harness;
beforeEach(async () => { h = await harness(); });
afterEach(async () => { await h.emu.close(); });

async function token(): Promise<string> {
  const res = await h.json('POST', '/mgmt/shared/authn/login', LOGIN, { authorization: '' });
  return text(res.body.token?.token);
}

describe('authentication', () => {
  it('logs in with the tmos provider and returns the token object', async () => {
    const res = await h.json('POST', '/mgmt/shared/authn/login', LOGIN, { authorization: '' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ username: 'admin', loginProviderName: 'tmos' });
    expect(res.body.token).toMatchObject({ userName: 'admin', authProviderName: 'tmos', timeout: 1200, kind: 'shared:authz:tokens:authtokenitemstate', partition: '[All]' });
    const t = res.body.token;
    expect(t?.name).toBe(t?.token);
    expect(Number(t?.expirationMicros) - Number(t?.lastUpdateMicros)).toBe(1200 * 1_000_000);
  });

  it('answers 401 to wrong credentials on login and on Basic auth', async () => {
    const login = await h.json('POST', '/mgmt/shared/authn/login', { ...LOGIN, password: 'wrong' }, { authorization: '' });
    expect(login.status).toBe(401);
    expect(login.body).toMatchObject({ code: 401, message: 'Authentication failed.', kind: ':resterrorresponse' });
    const basic = await h.call('GET', '/mgmt/tm/ltm/pool', undefined, { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` });
    expect(basic.statusCode).toBe(401);
    expect(basic.headers['www-authenticate']).toBe('Basic realm="Enterprise Manager"');
    const none = await h.json('GET', '/mgmt/tm/ltm/pool', undefined, { authorization: '' });
    expect(none.status).toBe(401);
    expect(text(none.body.message)).toMatch(/^Authorization failed: no user authentication header or token detected/);
  });

  it('accepts X-F5-Auth-Token until the token times out, then answers 401', async () => {
    const t = await token();
    expect((await h.call('GET', '/mgmt/tm/ltm/pool', undefined, { 'x-f5-auth-token': t })).statusCode).toBe(200);
    h.clock.advance(1199_000);
    expect((await h.call('GET', '/mgmt/tm/ltm/pool', undefined, { 'x-f5-auth-token': t })).statusCode).toBe(200);
    h.clock.advance(1_000);
    const expired = await h.json('GET', '/mgmt/tm/ltm/pool', undefined, { 'x-f5-auth-token': t });
    expect(expired.status).toBe(401);
    expect(expired.body.message).toBe('X-F5-Auth-Token does not exist.');
  });

  it('extends a token with PATCH up to 36000 s and refuses more with 406', async () => {
    const t = await token();
    const headers = { 'x-f5-auth-token': t };
    const extended = await h.json('PATCH', `/mgmt/shared/authz/tokens/${t}`, { timeout: 36000 }, headers);
    expect(extended.status).toBe(200);
    expect(extended.body.timeout).toBe(36000);
    expect(extended.body.token).toBe(t);
    const tooLong = await h.json('PATCH', `/mgmt/shared/authz/tokens/${t}`, { timeout: 36001 }, headers);
    expect(tooLong.status).toBe(406);
    expect(tooLong.body.message).toBe('Auth-token absolute timeout (36000 seconds) exceeded.');
    h.clock.advance(35_000_000);
    expect((await h.call('GET', '/mgmt/tm/ltm/pool', undefined, headers)).statusCode).toBe(200);
    expect((await h.call('PATCH', `/mgmt/shared/authz/tokens/${t}`, undefined, headers)).statusCode).toBe(200);
  });

  it('revokes a token with DELETE', async () => {
    const t = await token();
    const headers = { 'x-f5-auth-token': t };
    expect((await h.call('DELETE', `/mgmt/shared/authz/tokens/${t}`, undefined, headers)).statusCode).toBe(200);
    expect((await h.call('GET', '/mgmt/tm/ltm/pool', undefined, headers)).statusCode).toBe(401);
  });

  it('expires every token at once through the control API', async () => {
    const t = await token();
    expect((await h.call('POST', '/emulator/tokens/expire', undefined, { authorization: '' })).statusCode).toBe(200);
    expect((await h.call('GET', '/mgmt/tm/ltm/pool', undefined, { 'x-f5-auth-token': t })).statusCode).toBe(401);
  });
});
