import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { harness, list, text } from '../testing/harness.js';
import type { Harness } from '../testing/harness.js';

// Request bodies from spec/bigip.md §3.3-3.6 (written by us from those facts).
const CREATE_POOL = {
  name: 'web_pool', partition: 'k8s', loadBalancingMode: 'round-robin', monitor: '/Common/http',
  members: [{ name: '10.244.0.3:61001', address: '10.244.0.3' }, { name: '10.244.1.7:61002' }],
};

let h: Harness;
beforeEach(async () => { h = await harness(); });
afterEach(async () => { await h.emu.close(); });

describe('LTM pools', () => {
  it('creates a pool and answers with its poolstate, auto-creating the member nodes', async () => {
    const res = await h.json('POST', '/mgmt/tm/ltm/pool', CREATE_POOL);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      kind: 'tm:ltm:pool:poolstate', name: 'web_pool', partition: 'k8s', fullPath: '/k8s/web_pool',
      selfLink: 'https://localhost/mgmt/tm/ltm/pool/~k8s~web_pool?ver=17.1.0', loadBalancingMode: 'round-robin',
      monitor: '/Common/http ', membersReference: { isSubcollection: true, link: 'https://localhost/mgmt/tm/ltm/pool/~k8s~web_pool/members?ver=17.1.0' },
    });
    const node = await h.json('GET', '/mgmt/tm/ltm/node/~k8s~10.244.0.3');
    expect(node.body).toMatchObject({ kind: 'tm:ltm:node:nodestate', name: '10.244.0.3', partition: 'k8s', fullPath: '/k8s/10.244.0.3', address: '10.244.0.3', monitor: 'default', session: 'user-enabled', state: 'unchecked' });
  });

  it('lists pools with members inline under expandSubcollections and filters by partition', async () => {
    await h.json('POST', '/mgmt/tm/ltm/pool', CREATE_POOL);
    await h.json('POST', '/mgmt/tm/ltm/pool', { name: 'other', partition: 'Common' });
    const all = await h.json('GET', '/mgmt/tm/ltm/pool');
    expect(all.body.kind).toBe('tm:ltm:pool:poolcollectionstate');
    expect(list(all.body.items)).toHaveLength(2);
    expect(all.body.items?.[0]?.membersReference?.items).toBeUndefined();
    const filtered = await h.json('GET', '/mgmt/tm/ltm/pool?expandSubcollections=true&$filter=partition+eq+k8s');
    expect(list(filtered.body.items).map((p) => p.fullPath)).toEqual(['/k8s/web_pool']);
    const members = list(filtered.body.items?.[0]?.membersReference?.items);
    expect(members.map((m) => m.name)).toEqual(['10.244.0.3:61001', '10.244.1.7:61002']);
    expect(members[0]).toMatchObject({ kind: 'tm:ltm:pool:members:membersstate', fullPath: '/k8s/10.244.0.3:61001', address: '10.244.0.3', session: 'monitor-enabled', monitor: 'default' });
  });

  it('answers 404 01020036 for a missing pool and 409 01020066 for a duplicate', async () => {
    const missing = await h.json('GET', '/mgmt/tm/ltm/pool/~k8s~web_pool');
    expect(missing).toEqual({ status: 404, body: { code: 404, message: '01020036:3: The requested Pool (/k8s/web_pool) was not found.', errorStack: [], apiError: 3 } });
    await h.json('POST', '/mgmt/tm/ltm/pool', CREATE_POOL);
    const dup = await h.json('POST', '/mgmt/tm/ltm/pool', { name: 'web_pool', partition: 'k8s' });
    expect(dup).toEqual({ status: 409, body: { code: 409, message: '01020066:3: The requested Pool (/k8s/web_pool) already exists in partition k8s.', errorStack: [], apiError: 3 } });
  });

  it('modifies with PATCH and replaces all members with PUT {members}', async () => {
    await h.json('POST', '/mgmt/tm/ltm/pool', CREATE_POOL);
    const patched = await h.json('PATCH', '/mgmt/tm/ltm/pool/~k8s~web_pool', { loadBalancingMode: 'least-connections-member' });
    expect(patched.body.loadBalancingMode).toBe('least-connections-member');
    await h.json('PUT', '/mgmt/tm/ltm/pool/~k8s~web_pool', { members: [{ name: '10.244.2.5:61003' }] });
    const pool = await h.json('GET', '/mgmt/tm/ltm/pool/~k8s~web_pool?expandSubcollections=true');
    expect(list(pool.body.membersReference?.items).map((m) => m.name)).toEqual(['10.244.2.5:61003']);
    expect(pool.body.loadBalancingMode).toBe('least-connections-member');
  });

  it('accepts CCCL-style membersReference.items on create', async () => {
    await h.json('POST', '/mgmt/tm/ltm/pool', { name: 'cccl', partition: 'k8s', membersReference: { isSubcollection: true, items: [{ name: '10.1.0.1:80' }] } });
    const members = await h.json('GET', '/mgmt/tm/ltm/pool/~k8s~cccl/members');
    expect(list(members.body.items).map((m) => m.fullPath)).toEqual(['/k8s/10.1.0.1:80']);
  });

  it('deletes a pool with 200 and an empty body', async () => {
    await h.json('POST', '/mgmt/tm/ltm/pool', CREATE_POOL);
    const res = await h.call('DELETE', '/mgmt/tm/ltm/pool/~k8s~web_pool');
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect((await h.json('GET', '/mgmt/tm/ltm/pool/~k8s~web_pool')).status).toBe(404);
  });
});

describe('LTM input validation', () => {
  it.each([
    ['an unknown partition', { name: 'p', partition: 'nope' }, 400, '01020036:3: The requested folder (/nope) was not found.'],
    ['an invalid name', { name: 'bad name', partition: 'k8s' }, 400, /^01070734:3: Configuration error: invalid pool name \(bad name\)/],
    ['an unknown property', { name: 'p', partition: 'k8s', colour: 'blue' }, 400, 'Found unexpected json pair at configuration item /ltm/pool. The json pair "colour":"blue" is not allowed.'],
    ['a bad load balancing mode', { name: 'p', partition: 'k8s', loadBalancingMode: 'fastest' }, 400, /loadBalancingMode/],
    ['a malformed member', { name: 'p', partition: 'k8s', members: [{ name: '10.0.0.1:80' }, { name: '10.0.0.2' }] }, 400, /invalid pool member name \(10\.0\.0\.2\)/],
  ])('refuses a pool with %s and changes nothing', async (_case, body, status, message) => {
    const before = h.emu.state.dump();
    const res = await h.json('POST', '/mgmt/tm/ltm/pool', body);
    expect(res.status).toBe(status);
    if (typeof message === 'string') expect(res.body.message).toBe(message);
    else expect(text(res.body.message)).toMatch(message);
    expect(h.emu.state.dump()).toBe(before);
  });

  it('refuses malformed JSON with 400 "Found invalid JSON body"', async () => {
    const res = await h.json('POST', '/mgmt/tm/ltm/pool', '{"name": "p",');
    expect(res).toEqual({ status: 400, body: { code: 400, message: 'Found invalid JSON body in the request.', errorStack: [], apiError: 1 } });
  });

  it('answers 404 "Public URI path not registered" for an unknown collection', async () => {
    const res = await h.json('GET', '/mgmt/tm/ltm/nope');
    expect(res.status).toBe(404);
    expect(res.body.message).toBe('Public URI path not registered: /tm/ltm/nope');
  });
});

describe('LTM pool members', () => {
  beforeEach(async () => { await h.json('POST', '/mgmt/tm/ltm/pool', { name: 'web_pool', partition: 'k8s' }); });

  it('adds IPv4, IPv6 and route-domain members and gets them by their REST names', async () => {
    for (const name of ['10.244.2.5:61003', '2001:db8::5.61004', '10.244.2.6%2:61005']) {
      const res = await h.json('POST', '/mgmt/tm/ltm/pool/~k8s~web_pool/members', { name, partition: 'k8s' });
      expect(res.status).toBe(200);
      expect(res.body.name).toBe(name);
    }
    const v6 = await h.json('GET', '/mgmt/tm/ltm/pool/~k8s~web_pool/members/~k8s~2001:db8::5.61004');
    expect(v6.body).toMatchObject({ address: '2001:db8::5', fullPath: '/k8s/2001:db8::5.61004', session: 'user-enabled' });
    const rd = await h.json('GET', '/mgmt/tm/ltm/pool/~k8s~web_pool/members/~k8s~10.244.2.6%252:61005');
    expect(rd.body).toMatchObject({ address: '10.244.2.6%2', name: '10.244.2.6%2:61005' });
    const nodes = await h.json('GET', '/mgmt/tm/ltm/node?$filter=partition+eq+k8s');
    expect(list(nodes.body.items).map((n) => n.name).sort()).toEqual(['10.244.2.5', '10.244.2.6%2', '2001:db8::5']);
  });

  it('answers 409 for a duplicate member', async () => {
    await h.json('POST', '/mgmt/tm/ltm/pool/~k8s~web_pool/members', { name: '10.244.2.5:61003', partition: 'k8s' });
    const dup = await h.json('POST', '/mgmt/tm/ltm/pool/~k8s~web_pool/members', { name: '10.244.2.5:61003', partition: 'k8s' });
    expect(dup.status).toBe(409);
    expect(dup.body.message).toBe('01020066:3: The requested Pool Member (/k8s/web_pool /k8s/10.244.2.5 61003) already exists in partition k8s.');
  });

  it('answers 404 for a member on a missing pool and creates no node', async () => {
    const res = await h.json('POST', '/mgmt/tm/ltm/pool/~k8s~nope/members', { name: '10.9.9.9:80', partition: 'k8s' });
    expect(res.status).toBe(404);
    expect(res.body.message).toBe('01020036:3: The requested Pool (/k8s/nope) was not found.');
    expect(h.emu.state.dump()).not.toContain('10.9.9.9');
  });

  it('drains, forces offline and re-enables a member through session and state', async () => {
    const url = '/mgmt/tm/ltm/pool/~k8s~web_pool/members/~k8s~10.244.2.5:61003';
    await h.json('POST', '/mgmt/tm/ltm/pool/~k8s~web_pool/members', { name: '10.244.2.5:61003', partition: 'k8s' });
    expect((await h.json('PATCH', url, { session: 'user-disabled' })).body).toMatchObject({ session: 'user-disabled', state: 'unchecked' });
    expect((await h.json('PATCH', url, { session: 'user-disabled', state: 'user-down' })).body).toMatchObject({ session: 'user-disabled', state: 'user-down' });
    expect((await h.json('PATCH', url, { session: 'user-enabled', state: 'user-up' })).body).toMatchObject({ session: 'user-enabled', state: 'unchecked' });
    expect((await h.json('PATCH', url, { session: 'sleepy' })).status).toBe(400);
  });

  it('deletes a member and keeps its node', async () => {
    await h.json('POST', '/mgmt/tm/ltm/pool/~k8s~web_pool/members', { name: '10.244.2.5:61003', partition: 'k8s' });
    expect((await h.call('DELETE', '/mgmt/tm/ltm/pool/~k8s~web_pool/members/~k8s~10.244.2.5:61003')).statusCode).toBe(200);
    expect((await h.json('GET', '/mgmt/tm/ltm/pool/~k8s~web_pool/members/~k8s~10.244.2.5:61003')).status).toBe(404);
    expect((await h.json('GET', '/mgmt/tm/ltm/node/~k8s~10.244.2.5')).status).toBe(200);
  });

  it('puts a member named /Common/addr:port on a node in Common', async () => {
    await h.json('POST', '/mgmt/tm/ltm/pool/~k8s~web_pool/members', { name: '/Common/10.244.0.3:61001' });
    const node = await h.json('GET', '/mgmt/tm/ltm/node/~Common~10.244.0.3');
    expect(node.body.fullPath).toBe('/Common/10.244.0.3');
    expect((await h.json('GET', '/mgmt/tm/ltm/pool/~k8s~web_pool/members/~Common~10.244.0.3:61001')).status).toBe(200);
  });
});

describe('LTM nodes', () => {
  it('refuses to delete a node a member references with 01070110, then deletes it once unreferenced', async () => {
    await h.json('POST', '/mgmt/tm/ltm/pool', { name: 'web_pool', partition: 'k8s', members: [{ name: '10.244.0.3:61001' }] });
    const refused = await h.json('DELETE', '/mgmt/tm/ltm/node/~k8s~10.244.0.3');
    expect(refused).toEqual({ status: 400, body: { code: 400, message: "01070110:3: Node address '/k8s/10.244.0.3' is referenced by a member of pool '/k8s/web_pool'.", errorStack: [], apiError: 3 } });
    await h.call('DELETE', '/mgmt/tm/ltm/pool/~k8s~web_pool/members/~k8s~10.244.0.3:61001');
    expect((await h.call('DELETE', '/mgmt/tm/ltm/node/~k8s~10.244.0.3')).statusCode).toBe(200);
    expect((await h.json('GET', '/mgmt/tm/ltm/node/~k8s~10.244.0.3')).status).toBe(404);
  });

  it('creates, modifies and lists nodes', async () => {
    const created = await h.json('POST', '/mgmt/tm/ltm/node', { name: '10.244.0.3', address: '10.244.0.3', partition: 'k8s' });
    expect(created.body).toMatchObject({ kind: 'tm:ltm:node:nodestate', fullPath: '/k8s/10.244.0.3', fqdn: { addressFamily: 'ipv4', autopopulate: 'disabled', downInterval: 5, interval: '3600' } });
    const modified = await h.json('PATCH', '/mgmt/tm/ltm/node/~k8s~10.244.0.3', { session: 'user-disabled' });
    expect(modified.body.session).toBe('user-disabled');
    expect((await h.json('POST', '/mgmt/tm/ltm/node', { name: '10.244.0.3', address: '10.244.0.3', partition: 'k8s' })).status).toBe(409);
    const listed = await h.json('GET', '/mgmt/tm/ltm/node');
    expect(listed.body.kind).toBe('tm:ltm:node:nodecollectionstate');
    expect(list(listed.body.items)).toHaveLength(1);
  });
});

describe('LTM virtual servers', () => {
  beforeEach(async () => { await h.json('POST', '/mgmt/tm/ltm/pool', { name: 'web_pool', partition: 'k8s', members: [{ name: '10.244.0.3:61001' }] }); });

  it('creates, gets, lists, modifies and deletes a virtual', async () => {
    const created = await h.json('POST', '/mgmt/tm/ltm/virtual', { name: 'web_vs', partition: 'k8s', destination: '/k8s/10.106.32.11:80', pool: '/k8s/web_pool', sourceAddressTranslation: { type: 'automap' } });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ kind: 'tm:ltm:virtual:virtualstate', fullPath: '/k8s/web_vs', destination: '/k8s/10.106.32.11:80', pool: '/k8s/web_pool', ipProtocol: 'tcp', sourceAddressTranslation: { type: 'automap' } });
    expect((await h.json('GET', '/mgmt/tm/ltm/virtual/~k8s~web_vs')).body.destination).toBe('/k8s/10.106.32.11:80');
    expect(list((await h.json('GET', '/mgmt/tm/ltm/virtual?$filter=partition+eq+k8s')).body.items)).toHaveLength(1);
    expect((await h.json('PATCH', '/mgmt/tm/ltm/virtual/~k8s~web_vs', { destination: '10.106.32.11:8080' })).body.destination).toBe('/k8s/10.106.32.11:8080');
    expect((await h.call('DELETE', '/mgmt/tm/ltm/virtual/~k8s~web_vs')).statusCode).toBe(200);
    expect((await h.json('GET', '/mgmt/tm/ltm/virtual/~k8s~web_vs')).status).toBe(404);
  });

  it('refuses to delete a pool that a virtual uses', async () => {
    await h.json('POST', '/mgmt/tm/ltm/virtual', { name: 'web_vs', partition: 'k8s', destination: '/k8s/10.106.32.11:80', pool: 'web_pool' });
    const res = await h.json('DELETE', '/mgmt/tm/ltm/pool/~k8s~web_pool');
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('01070265:3: The Pool (/k8s/web_pool) cannot be deleted because it is in use by a Virtual Server (/k8s/web_vs).');
  });

  it('refuses a virtual on a missing pool or on a destination another virtual holds', async () => {
    const noPool = await h.json('POST', '/mgmt/tm/ltm/virtual', { name: 'vs', partition: 'k8s', destination: '/k8s/10.1.1.1:80', pool: '/k8s/nope' });
    expect(noPool.status).toBe(400);
    expect(text(noPool.body.message)).toMatch(/^01070712:3: Values \(\/k8s\/nope\)/);
    await h.json('POST', '/mgmt/tm/ltm/virtual', { name: 'vs1', partition: 'k8s', destination: '/k8s/10.1.1.1:80' });
    const clash = await h.json('POST', '/mgmt/tm/ltm/virtual', { name: 'vs2', partition: 'k8s', destination: '/k8s/10.1.1.1:80' });
    expect(clash.body.message).toBe('01070333:3: Virtual Server /k8s/vs2 illegally shares both address and port with Virtual Server /k8s/vs1.');
  });
});

describe('partitions', () => {
  it('creates, lists and deletes partitions, refusing to delete a non-empty one', async () => {
    const created = await h.json('POST', '/mgmt/tm/auth/partition', { name: 'team' });
    expect(created.body).toMatchObject({ kind: 'tm:auth:partition:partitionstate', name: 'team', fullPath: 'team' });
    expect(list((await h.json('GET', '/mgmt/tm/auth/partition')).body.items).map((p) => p.name)).toEqual(['Common', 'k8s', 'team']);
    await h.json('POST', '/mgmt/tm/ltm/pool', { name: 'p', partition: 'team' });
    const refused = await h.json('DELETE', '/mgmt/tm/auth/partition/team');
    expect(refused.status).toBe(400);
    await h.call('DELETE', '/mgmt/tm/ltm/pool/~team~p');
    expect((await h.call('DELETE', '/mgmt/tm/auth/partition/team')).statusCode).toBe(200);
  });
});
